/**
 * Confirmations (issue 8 §3): an agent (or an operator) asks, the board answers once. Every rule is
 * here, so the workflow's single-writer state decides the one winner of racing resolutions.
 */
import {
  continuationWake,
  emptyCollab,
  isPlanTarget,
  trimInteractions,
  MAX_PENDING_INTERACTIONS,
  type ConfirmationPayload,
  type ContinuationPolicy,
  type ExpiryOutcome,
  type Interaction,
  type ResolverPolicy,
} from './collab.js';
import { assertMayChange, entry, nextState, renewed, type Applied, type Ctx } from './commands.js';
import type { Effect } from './effects.js';
import { DomainError } from './errors.js';
import { TERMINAL_STATUSES } from './statuses.js';
import { actorLabel, type ActivityEntry, type Actor, type IssueState } from './task.js';

export interface CreateInteractionCmd {
  actor: Actor;
  /** Chosen by the API (derived from the key when there is one, so a retry names the same interaction). */
  interactionId: string;
  idempotencyKey: string | null;
  requestHash: string;
  continuationPolicy?: ContinuationPolicy;
  resolverPolicy?: ResolverPolicy;
  title?: string | null;
  summary?: string | null;
  payload: ConfirmationPayload;
}

export type Resolution = 'accept' | 'reject' | 'withdraw';
export interface ResolveInteractionCmd { actor: Actor; interactionId: string; action: Resolution; reason?: string | null }

const EFFECTIVE: Record<ResolverPolicy, Interaction['effectiveResolverPolicy']> = {
  board_only: 'human_only', human_only: 'human_only', board_or_agents: 'anyone', anyone: 'anyone', not_creator: 'not_creator',
};

/** The existing interaction a create with this key names: the same body is a replay, another body a conflict. */
export function replayOfCreate(s: IssueState, cmd: CreateInteractionCmd): Interaction | undefined {
  if (!cmd.idempotencyKey) return undefined;
  const found = s.collab?.interactions.find((i) => i.idempotencyKey === cmd.idempotencyKey || i.id === cmd.interactionId);
  if (!found) return undefined;
  if (found.requestHash !== cmd.requestHash) {
    throw new DomainError('idempotency_key_reused', 'This idempotencyKey was used for a different interaction', { idempotencyKey: cmd.idempotencyKey, interactionId: found.id });
  }
  return found;
}

export function checkCreateInteraction(s: IssueState, cmd: CreateInteractionCmd): Interaction | undefined {
  const replay = replayOfCreate(s, cmd);
  if (replay) return replay;
  if (TERMINAL_STATUSES.includes(s.status)) {
    throw new DomainError('status_conflict', `Issue is ${s.status}: it takes no new confirmations`, { issueId: s.id, status: s.status });
  }
  // Asking on an issue someone else holds is changing it: the owner's rules, as for PATCH.
  assertMayChange(s, cmd.actor);
  const target = cmd.payload.target;
  if (target?.type === 'issue_document') {
    const doc = s.collab?.documents.find((d) => d.key === target.key);
    const current = doc && doc.revisionId === target.revisionId && (!target.documentId || target.documentId === doc.documentId) && (!target.issueId || target.issueId === s.id);
    if (!current) {
      throw new DomainError('target_not_current', 'The target is not the current revision of that document of this issue', {
        key: target.key, revisionId: target.revisionId, currentRevisionId: doc?.revisionId ?? null,
      });
    }
  }
  const pending = (s.collab?.interactions ?? []).filter((i) => i.status === 'pending').length;
  if (pending >= MAX_PENDING_INTERACTIONS) {
    throw new DomainError('validation_error', `An issue holds at most ${MAX_PENDING_INTERACTIONS} pending confirmations`, { limit: MAX_PENDING_INTERACTIONS });
  }
  return undefined;
}

export function applyCreateInteraction(s: IssueState, cmd: CreateInteractionCmd, ctx: Ctx): Applied {
  checkCreateInteraction(s, cmd);
  const by = actorLabel(cmd.actor);
  const version = s.version + 1;
  const created: Interaction = {
    id: cmd.interactionId,
    kind: 'request_confirmation',
    status: 'pending',
    continuationPolicy: cmd.continuationPolicy ?? 'none',
    requestedResolverPolicy: cmd.resolverPolicy ?? null,
    // A plan is approved by a person (seed 000): whatever the request says, the board answers it.
    effectiveResolverPolicy: isPlanTarget(cmd) ? 'human_only' : EFFECTIVE[cmd.resolverPolicy ?? 'human_only'],
    idempotencyKey: cmd.idempotencyKey,
    requestHash: cmd.requestHash,
    sourceRunId: cmd.actor.runId ?? null,
    title: cmd.title ?? null,
    summary: cmd.summary ?? null,
    payload: { ...cmd.payload, supersedeOnUserComment: cmd.payload.supersedeOnUserComment ?? true },
    result: null,
    createdByAgentId: by.actorAgentId,
    createdByUser: by.actorUser,
    resolvedByAgentId: null,
    resolvedByUser: null,
    createdAt: new Date(ctx.now).toISOString(),
    resolvedAt: null,
    version,
  };
  const collab = s.collab ?? emptyCollab();
  let issue = nextState(s, ctx, { ...renewed(s, cmd.actor, ctx), collab: { ...collab, interactions: [...collab.interactions, created] } });
  const activity: ActivityEntry[] = [entry(cmd.actor, 'interaction.created', { interactionId: created.id, kind: created.kind, target: created.payload.target ?? null }, issue, ctx)];
  // An agent asking again means its earlier questions are moot.
  if (cmd.actor.kind === 'agent') {
    const older = expireInteractions(issue, (i) => i.id !== created.id && i.createdByAgentId === cmd.actor.agentId, 'superseded_by_newer_request', ctx);
    issue = older.issue;
    activity.push(...older.activity);
  }
  return { write: { issue, comments: [], activity } };
}

function mayResolve(i: Interaction, actor: Actor, assignee: string | null, action: Resolution): boolean {
  if (actor.kind !== 'agent') return true;
  if (action === 'withdraw') return actor.agentId === i.createdByAgentId || actor.agentId === assignee;
  if (i.effectiveResolverPolicy === 'anyone') return true;
  return i.effectiveResolverPolicy === 'not_creator' && actor.agentId !== i.createdByAgentId;
}

export function checkResolveInteraction(s: IssueState, cmd: ResolveInteractionCmd): Interaction {
  const i = s.collab?.interactions.find((x) => x.id === cmd.interactionId);
  if (!i) throw new DomainError('not_found', 'Interaction not found', { interactionId: cmd.interactionId });
  if (i.status !== 'pending') {
    throw new DomainError('already_resolved', 'Interaction has already been resolved', { interactionId: i.id, status: i.status, outcome: i.result?.outcome ?? null });
  }
  if (!mayResolve(i, cmd.actor, s.assigneeAgentId, cmd.action)) {
    throw new DomainError('forbidden', cmd.action === 'withdraw' ? 'Only its creator, the assignee or an operator may withdraw a confirmation' : `This confirmation is resolved by ${i.effectiveResolverPolicy === 'human_only' ? 'an operator (the board)' : 'anyone but its creator'}`, { interactionId: i.id, resolverPolicy: i.effectiveResolverPolicy });
  }
  if (cmd.action === 'reject' && i.payload.rejectRequiresReason && !cmd.reason?.trim()) {
    throw new DomainError('reason_required', 'Rejecting this confirmation needs a reason', { interactionId: i.id });
  }
  return i;
}

export function applyResolveInteraction(s: IssueState, cmd: ResolveInteractionCmd, ctx: Ctx): Applied {
  const i = checkResolveInteraction(s, cmd);
  // Asked about a revision that is not the latest any more: the answer is to a question nobody asks.
  const target = i.payload.target;
  const doc = target?.type === 'issue_document' ? s.collab?.documents.find((d) => d.key === target.key) : undefined;
  if (target?.type === 'issue_document' && cmd.action !== 'withdraw' && doc?.revisionId !== target.revisionId) {
    const base = nextState(s, ctx, {});
    const expired = expireInteractions(base, (x) => x.id === i.id, 'stale_target', ctx);
    return { write: { issue: expired.issue, comments: [], activity: expired.activity } };
  }
  const status = cmd.action === 'accept' ? 'accepted' : cmd.action === 'reject' ? 'rejected' : 'cancelled';
  const outcome = cmd.action === 'accept' ? 'accepted' : cmd.action === 'reject' ? 'rejected' : 'withdrawn';
  const by = actorLabel(cmd.actor);
  const version = s.version + 1;
  const resolved: Interaction = {
    ...i, status, version,
    result: { version: 1, outcome, ...(cmd.reason?.trim() ? { reason: cmd.reason } : {}) },
    resolvedByAgentId: by.actorAgentId, resolvedByUser: by.actorUser, resolvedAt: new Date(ctx.now).toISOString(),
  };
  const collab = s.collab ?? emptyCollab();
  const approvesPlan = status === 'accepted' && cmd.actor.kind === 'operator' && isPlanTarget(i) && target?.type === 'issue_document';
  const changes: Partial<IssueState> = {
    collab: {
      ...collab,
      interactions: trimInteractions(collab.interactions.map((x) => (x.id === i.id ? resolved : x))),
      ...(approvesPlan ? { approvedPlanRevisionId: target.revisionId } : {}),
    },
  };
  // Accepted while waiting in review on the assignee's own question: the work goes back to it, ready
  // to go on. Someone else's question never moves the issue (nor takes it over).
  if (status === 'accepted' && s.status === 'in_review' && i.createdByAgentId && i.createdByAgentId === s.assigneeAgentId) {
    Object.assign(changes, { status: 'todo', checkout: null });
  }
  const issue = nextState(s, ctx, changes);
  const activity = [entry(cmd.actor, `interaction.${status}`, { interactionId: i.id, outcome, reason: resolved.result?.reason ?? null, from: s.status, to: issue.status }, issue, ctx)];
  const effects: Effect[] = continuationWake(resolved, issue.assigneeAgentId, issue.identifier ?? issue.id, ctx.newId);
  return { write: { issue, comments: [], activity }, effects };
}

/**
 * Expires the pending interactions `which` selects, in a state already at its new version (the
 * caller made it): their status, result and log entry at that version.
 */
export function expireInteractions(issue: IssueState, which: (i: Interaction) => boolean, outcome: ExpiryOutcome, ctx: Ctx, extra: { commentId?: string } = {}): { issue: IssueState; activity: ActivityEntry[]; effects: Effect[] } {
  const list = issue.collab?.interactions ?? [];
  const hit = list.filter((i) => i.status === 'pending' && which(i));
  if (hit.length === 0) return { issue, activity: [], effects: [] };
  const at = new Date(ctx.now).toISOString();
  const ids = new Set(hit.map((i) => i.id));
  const interactions = trimInteractions(list.map((i) => {
    if (!ids.has(i.id)) return i;
    const staleTarget = outcome === 'stale_target' ? i.payload.target : undefined;
    return { ...i, status: 'expired' as const, version: issue.version, resolvedAt: at, result: { version: 1 as const, outcome, ...(staleTarget ? { staleTarget } : {}), ...(extra.commentId ? { commentId: extra.commentId } : {}) } };
  }));
  const next = { ...issue, collab: { ...issue.collab!, interactions } };
  const system = { kind: 'system' as const, user: 'interactions' };
  return { issue: next, activity: hit.map((i) => entry(system, 'interaction.expired', { interactionId: i.id, outcome }, next, ctx)), effects: [] };
}

/** `reviewInteractionId` on PATCH: must name a pending confirmation this agent asked for. */
export function checkReviewInteraction(s: IssueState, actor: Actor, interactionId: string): void {
  const i = s.collab?.interactions.find((x) => x.id === interactionId);
  const ok = i && i.status === 'pending' && (actor.kind !== 'agent' || i.createdByAgentId === actor.agentId);
  if (!ok) {
    throw new DomainError('invalid_review_interaction', 'reviewInteractionId must name a pending confirmation you requested on this issue', { interactionId, status: i?.status ?? null });
  }
}
