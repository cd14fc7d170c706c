/**
 * availableActions on the agent's half (AgentRail's `/api/tasks`): what this caller may do to the
 * task's delivery right now. One pure function shared by every route and the workflow's refusals.
 */
import { holderOf } from './holder.js';
import { TERMINAL_STATUSES } from './statuses.js';
import { needsFix, resubmittable, shipReady } from './lifecycle.js';
import type { Actor, IssueState } from './task.js';

export type TaskAction =
  | 'start' | 'submit' | 'fix' | 'ship' | 'rollback' | 'resolve_blocker' | 'blocker'
  | 'view_ci_status' | 'view_review_feedback' | 'get_task'
  /** AgentRail's Linear routes (a comment on, or a state move of, the task's Linear issue): Linear tasks only. */
  | 'sync_linear'
  /** Operators, on an artifact-mode submission in review: CI results and a review verdict from outside. */
  | 'report_checks' | 'record_review';

export function taskActions(s: Pick<IssueState, 'status' | 'assigneeAgentId' | 'checkout' | 'lifecycle'>, actor: Actor): TaskAction[] {
  const d = s.lifecycle?.delivery ?? null;
  const operator = actor.kind === 'operator';
  const holder = holderOf(s);
  const mine = operator || (actor.kind === 'agent' && holder === actor.agentId);
  const out: TaskAction[] = [];
  if (mine) {
    // Start is the assignee's checkout (an operator has no agent to check out as).
    if (s.status === 'todo' && !s.checkout && !operator) out.push('start');
    const fixing = s.status === 'in_review' && needsFix(d);
    if (s.status === 'todo' || s.status === 'in_progress' || (s.status === 'in_review' && resubmittable(d))) out.push('submit');
    if (fixing) out.push('fix');
    if (s.status === 'in_review' && shipReady(d)) out.push('ship');
    if (s.status === 'done' && d?.ship && !d.rollback) out.push('rollback');
    if (s.status === 'blocked') out.push('resolve_blocker');
    if (s.status === 'todo' || s.status === 'in_progress' || s.status === 'in_review') out.push('blocker');
    // AgentRail's Linear routes: a Linear task's holder (or an operator) while the task is open.
    if (s.lifecycle?.source?.provider === 'linear' && !TERMINAL_STATUSES.includes(s.status)) out.push('sync_linear');
  }
  // Adapter-managed tasks take CI and review from the code host only: an operator's word cannot override a red check.
  if (operator && s.status === 'in_review' && d?.mode === 'artifact') out.push('report_checks', 'record_review');
  if (d) out.push('view_ci_status', 'view_review_feedback');
  return out;
}
