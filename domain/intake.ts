/** A task taken in from an upstream issue, and routing it: the first state, and the routing decision applied. */
import { entry, nextState, type Applied, type Ctx } from './commands.js';
import { initialIssue } from './creation.js';
import type { Effect } from './effects.js';
import { stageOf, type Lifecycle, type TaskSource } from './lifecycle.js';
import type { RoutingDecision } from './routing.js';
import { TERMINAL_STATUSES, type Priority } from './statuses.js';
import { systemActor, type Actor, type IssueState } from './task.js';

export interface IntakeInput {
  id: string;
  companyId: string;
  identifier: string;
  source: TaskSource;
  title: string;
  body: string | null;
  /** As the tracker set it (Linear's 1–4); the default otherwise. */
  priority?: Priority | null;
}

/** Backlog, unassigned, routing pending: the workflow routes it as its first step. */
export function intakeIssue(input: IntakeInput, now: number): IssueState {
  const base = initialIssue({ id: input.id, companyId: input.companyId, title: input.title, description: input.body, status: 'backlog', ...(input.priority ? { priority: input.priority } : {}) }, now);
  const lifecycle: Lifecycle = {
    stage: 'intake',
    source: input.source,
    routing: { state: 'pending', decisionId: null, assignmentSource: null, reason: null, decidedAt: null },
    delivery: null,
  };
  const state = { ...base, identifier: input.identifier, lifecycle };
  state.lifecycle.stage = stageOf(state);
  return state;
}

/** Whether the workflow should route this task now: pending routing, nobody assigned, still open. */
export function wantsRouting(s: IssueState): boolean {
  const r = s.lifecycle?.routing;
  return !!r && r.state === 'pending' && !s.assigneeAgentId && !TERMINAL_STATUSES.includes(s.status);
}

/** Asks for a new routing decision (the rules changed, or an operator said "route"). Manual assignments stay. */
export function markForRouting(s: IssueState): IssueState | undefined {
  const l = s.lifecycle;
  if (!l || s.assigneeAgentId || TERMINAL_STATUSES.includes(s.status) || l.routing?.state === 'manual' || l.routing?.state === 'pending') return undefined;
  return { ...s, lifecycle: { ...l, routing: { ...(l.routing ?? { decisionId: null, assignmentSource: null, reason: null, decidedAt: null }), state: 'pending' } } };
}

/**
 * A tracker task its agent released: nobody holds it, and no agent may take it by itself (awaitsRouting),
 * so routing decides again — whoever assigned it before, a rule or an operator.
 */
export function releasedForRouting(s: IssueState): IssueState {
  const l = s.lifecycle;
  if (!l?.source || s.assigneeAgentId || TERMINAL_STATUSES.includes(s.status)) return s;
  return { ...s, lifecycle: { ...l, routing: { ...(l.routing ?? { decisionId: null, assignmentSource: null, reason: null, decidedAt: null }), state: 'pending' } } };
}

/**
 * A tracker task its agent handed to another agent: the record says so (manual, by that agent), not
 * the rule that once chose the first one.
 */
export function handedOver(prev: IssueState, next: IssueState, actor: Actor, now: number): IssueState {
  const l = next.lifecycle;
  if (actor.kind !== 'agent' || !l?.source || !next.assigneeAgentId || next.assigneeAgentId === prev.assigneeAgentId) return next;
  const summary = `Handed by agent ${actor.agentId} to ${next.assigneeAgentId}`;
  return { ...next, lifecycle: { ...l, routing: { state: 'manual', decisionId: null, assignmentSource: 'manual', reason: { summary, matchedRules: [], strategy: null, candidates: [] }, decidedAt: new Date(now).toISOString() } } };
}

/** The decision applied: assigned and woken (todo), or kept in backlog with the reason (fail closed). */
export function applyRouting(s: IssueState, decision: RoutingDecision, ctx: Ctx): Applied {
  const l: Lifecycle = s.lifecycle ?? { stage: 'routing', source: null, routing: null, delivery: null };
  const system = systemActor('routing');
  if (decision.kind === 'unroutable') {
    const issue = nextState(s, ctx, { lifecycle: { ...l, routing: decision.record } });
    return { write: { issue, comments: [], activity: [entry(system, 'task.unroutable', { decisionId: decision.record.decisionId, reason: decision.record.reason?.summary }, issue, ctx)] } };
  }
  const issue = nextState(s, ctx, {
    assigneeAgentId: decision.agentId,
    status: s.status === 'backlog' ? 'todo' : s.status,
    ...(decision.priority ? { priority: decision.priority } : {}),
    lifecycle: { ...l, routing: decision.record, routedPriority: decision.priority },
  });
  const effects: Effect[] = [{ kind: 'wake', id: ctx.newId(), agentId: decision.agentId, reason: 'issue_assigned', summary: `Assigned ${s.identifier ?? s.id}: ${s.title}` }];
  const details = { decisionId: decision.record.decisionId, agentId: decision.agentId, matchedRules: decision.record.reason?.matchedRules, strategy: decision.record.reason?.strategy };
  return { write: { issue, comments: [], activity: [entry(system, 'task.routed', details, issue, ctx)] }, effects };
}
