/**
 * The rules for every change to a task, as pure functions. `check*` only decides (the workflow's
 * update validators call it, so a refusal writes no history); `apply*` checks again and builds the
 * next state plus what to persist. Nothing here awaits, reads a clock or draws randomness itself.
 */
import { reviewClosingComment, ACCEPTED_DELIVERABLES, type CloseoutReport } from './closeout.js';
import { DomainError } from './errors.js';
import { leaseExpiresAt, MAX_EXPIRIES_BEFORE_PAUSE } from './leases.js';
import type { Effect } from './effects.js';
import { stageOf } from './lifecycle.js';
import { emptyCollab, unresolvedBlockers, MAX_BLOCKERS } from './collab.js';
import { checkReviewInteraction } from './interactions.js';
import { canTransition, TERMINAL_STATUSES, type Priority, type Status } from './statuses.js';
import { availableActions } from './actions.js';
import { actorLabel, isOwner, systemActor, type ActivityEntry, type Actor, type IssueState, type IssueWrite, type NewComment } from './task.js';

export interface Ctx {
  now: number;
  newId: () => string;
}

export interface CheckoutCmd { actor: Actor; agentId: string; expectedStatuses: Status[]; leaseSeconds: number }
export interface UpdatePatch {
  status?: Status;
  comment?: string;
  priority?: Priority;
  title?: string;
  description?: string | null;
  assigneeAgentId?: string | null;
  goalId?: string | null;
  /** Paperclip's: replaces the set of issues this one waits on (`[]` clears it). */
  blockedByIssueIds?: string[];
  /** Paperclip's: the pending confirmation this move to review waits on (must be the caller's). */
  reviewInteractionId?: string;
}
export interface UpdateCmd {
  actor: Actor;
  patch: UpdatePatch;
  requireDeliverable: boolean;
  /** Of `patch.blockedByIssueIds`, those the API saw done (the blockers themselves confirm later). */
  blockersDone?: string[];
}
export interface CommentCmd { actor: Actor; body: string }
export interface ReleaseCmd { actor: Actor; comment?: string }
export interface CloseCmd { actor: Actor; comment: string; requireDeliverable: boolean }
export interface HeartbeatCmd { actor: Actor }

export interface Applied {
  write: IssueWrite;
  closeout?: CloseoutReport;
  /** Side effects the workflow carries out after committing (wakes, upstream comments): see domain/effects.ts. */
  effects?: Effect[];
}

export function conflictDetails(s: IssueState) {
  return { issueId: s.id, status: s.status, assigneeAgentId: s.assigneeAgentId, checkoutRunId: s.checkout?.runId ?? null };
}

export function notOwner(s: IssueState, actor: Actor): DomainError {
  const message = s.checkout ? 'Issue is checked out by another agent' : s.assigneeAgentId && s.assigneeAgentId !== actor.agentId ? 'Issue is assigned to another agent' : 'Issue is not checked out by you';
  return new DomainError('not_owner', message, {
    ...conflictDetails(s),
    checkoutAgentId: s.checkout?.agentId ?? null,
    actorAgentId: actor.agentId ?? null,
    availableActions: availableActions(s, actor),
  });
}

export function invalidTransition(from: Status, to: Status, hint?: string): DomainError {
  return new DomainError('invalid_transition', `Cannot move an issue from ${from} to ${to}${hint ? `: ${hint}` : ''}`, { from, to });
}

/**
 * What an Update's handler re-checks as it applies a change: while checked out, only the owner (or an
 * operator). Who may ask at all — the holder through review, routing deciding an unassigned tracker
 * task — is decided once, at admission, by the offer gate in the Update's validator
 * (domain/permissions.ts): a handler replaying a history recorded under the earlier rules still
 * applies what was accepted then.
 */
export function assertMayChange(s: IssueState, actor: Actor): void {
  if (actor.kind === 'operator') return;
  if (s.checkout && !isOwner(s, actor)) throw notOwner(s, actor);
}

export function nextState(s: IssueState, ctx: Ctx, changes: Partial<IssueState>): IssueState {
  const version = s.version + 1;
  const descriptionChanged = changes.description !== undefined && changes.description !== s.description;
  const next: IssueState = {
    ...s,
    ...changes,
    version,
    descriptionVersion: descriptionChanged ? version : s.descriptionVersion,
    updatedAt: new Date(ctx.now).toISOString(),
  };
  // Tasks with a lifecycle keep their stage in step with every change.
  if (next.lifecycle) next.lifecycle = { ...next.lifecycle, stage: stageOf(next) };
  return next;
}

/** A sign of life from the owner: the lease starts over and the expiry streak is forgotten. */
export function renewed(s: IssueState, actor: Actor, ctx: Ctx): Partial<IssueState> {
  if (!s.checkout || !isOwner(s, actor)) return {};
  return {
    checkout: { ...s.checkout, runId: actor.runId ?? s.checkout.runId, leaseExpiresAt: leaseExpiresAt(ctx.now, s.checkout.leaseSeconds) },
    expiryStreak: 0,
  };
}

/** A comment made at `issue`'s version. */
export function makeComment(actor: Actor, body: string, issue: IssueState, ctx: Ctx): NewComment {
  const { actorAgentId, actorUser } = actorLabel(actor);
  return { id: ctx.newId(), body, authorAgentId: actorAgentId, authorUser: actorUser, runId: actor.runId ?? null, createdAt: new Date(ctx.now).toISOString(), version: issue.version };
}

/** An activity entry made at `issue`'s version. */
export function entry(actor: Actor, action: string, details: Record<string, unknown>, issue: IssueState, ctx: Ctx): ActivityEntry {
  return { id: ctx.newId(), action, ...actorLabel(actor), runId: actor.runId ?? null, details, createdAt: new Date(ctx.now).toISOString(), version: issue.version };
}

// ---------------------------------------------------------------- checkout

export function checkCheckout(s: IssueState, cmd: CheckoutCmd): 'take' | 'renew' {
  if (cmd.actor.kind === 'agent' && cmd.actor.agentId !== cmd.agentId) {
    throw new DomainError('forbidden', 'An agent can only check out as itself', { agentId: cmd.agentId });
  }
  if (s.checkout) {
    if (s.checkout.agentId === cmd.agentId) return 'renew';
    throw new DomainError('checkout_conflict', 'Issue checkout conflict', conflictDetails(s));
  }
  if (!cmd.expectedStatuses.includes(s.status)) throw new DomainError('checkout_conflict', 'Issue checkout conflict', conflictDetails(s));
  if (s.assigneeAgentId && s.assigneeAgentId !== cmd.agentId) {
    throw new DomainError('checkout_conflict', 'Issue checkout conflict', conflictDetails(s));
  }
  if (!canTransition(s.status, 'in_progress')) throw invalidTransition(s.status, 'in_progress');
  const open = unresolvedBlockers(s.collab);
  if (open.length > 0) {
    throw new DomainError('unresolved_blockers', 'Issue is waiting on issues that are not done yet', { issueId: s.id, unresolvedBlockerIssueIds: open });
  }
  return 'take';
}

export function applyCheckout(s: IssueState, cmd: CheckoutCmd, ctx: Ctx): Applied {
  const kind = checkCheckout(s, cmd);
  const runId = cmd.actor.runId ?? null;
  const checkout = {
    agentId: cmd.agentId,
    runId,
    leaseSeconds: cmd.leaseSeconds,
    leaseExpiresAt: leaseExpiresAt(ctx.now, cmd.leaseSeconds),
    checkedOutAt: kind === 'renew' && s.checkout ? s.checkout.checkedOutAt : new Date(ctx.now).toISOString(),
  };
  const issue = nextState(s, ctx, {
    status: 'in_progress',
    assigneeAgentId: cmd.agentId,
    checkout,
    startedAt: s.startedAt ?? new Date(ctx.now).toISOString(),
  });
  const action = kind === 'take' ? 'issue.checked_out' : s.checkout?.runId === runId ? 'issue.checkout_renewed' : 'issue.checkout_adopted';
  const details = { from: s.status, leaseSeconds: cmd.leaseSeconds, leaseExpiresAt: checkout.leaseExpiresAt, previousRunId: s.checkout?.runId ?? null };
  return { write: { issue, comments: [], activity: [entry(cmd.actor, action, details, issue, ctx)] } };
}

// ---------------------------------------------------------------- close-out

function closingReport(comment: string, requireDeliverable: boolean): CloseoutReport {
  const report = reviewClosingComment(comment);
  if (comment.trim() === '') {
    throw new DomainError('deliverable_missing', 'A closing comment is required', { accepted: ACCEPTED_DELIVERABLES });
  }
  if (report.signals.length === 0 && requireDeliverable) {
    throw new DomainError('deliverable_missing', 'The closing comment carries no deliverable signal', { accepted: ACCEPTED_DELIVERABLES });
  }
  return report;
}

/** The owner of a close: the checkout holder, or the assignee when nobody holds it (e.g. in review). */
function assertMayClose(s: IssueState, actor: Actor): void {
  if (TERMINAL_STATUSES.includes(s.status)) {
    throw new DomainError('status_conflict', `Issue is already ${s.status}`, conflictDetails(s));
  }
  if (actor.kind === 'agent') {
    const owner = s.checkout ? s.checkout.agentId : s.assigneeAgentId;
    if (owner !== actor.agentId) throw notOwner(s, actor);
  }
  if (!canTransition(s.status, 'done')) throw invalidTransition(s.status, 'done', 'check the issue out first');
}

export function checkClose(s: IssueState, cmd: CloseCmd): CloseoutReport {
  assertMayClose(s, cmd.actor);
  return closingReport(cmd.comment, cmd.requireDeliverable);
}

/** The activity log keeps the first few deliverables; the closing comment has them all. */
const LOGGED_DELIVERABLES = 20;

export function applyClose(s: IssueState, cmd: CloseCmd, ctx: Ctx, changes: Partial<IssueState> = {}): Applied {
  const closeout = checkClose(s, cmd);
  const issue = nextState(s, ctx, { ...changes, status: 'done', checkout: null, expiryStreak: 0, completedAt: new Date(ctx.now).toISOString() });
  const comment = makeComment(cmd.actor, cmd.comment, issue, ctx);
  const details = {
    from: s.status,
    commentId: comment.id,
    deliverables: closeout.signals.slice(0, LOGGED_DELIVERABLES),
    deliverableCount: closeout.signals.length,
    warnings: closeout.warnings,
  };
  return { write: { issue, comments: [comment], activity: [entry(cmd.actor, 'issue.closed', details, issue, ctx)] }, closeout };
}

// ---------------------------------------------------------------- update

export function checkUpdate(s: IssueState, cmd: UpdateCmd): CloseoutReport | undefined {
  const { patch, actor } = cmd;
  // Asking for done is always a close-out, even on an issue that is done already (409, like POST /close).
  if (patch.status === 'done') {
    assertMayClose(s, actor);
    return closingReport(patch.comment ?? '', cmd.requireDeliverable);
  }
  assertMayChange(s, actor);
  if (patch.reviewInteractionId !== undefined) checkReviewInteraction(s, actor, patch.reviewInteractionId);
  if (patch.blockedByIssueIds) {
    if (patch.blockedByIssueIds.includes(s.id)) throw new DomainError('invalid_blockers', 'An issue cannot wait on itself', { issueId: s.id });
    if (new Set(patch.blockedByIssueIds).size > MAX_BLOCKERS) throw new DomainError('invalid_blockers', `An issue waits on at most ${MAX_BLOCKERS} others`, { limit: MAX_BLOCKERS });
  }
  if (patch.status && patch.status !== s.status) {
    if (patch.status === 'in_progress') throw invalidTransition(s.status, 'in_progress', 'use POST /api/issues/{issueId}/checkout');
    if (!canTransition(s.status, patch.status)) throw invalidTransition(s.status, patch.status);
    if (patch.status === 'blocked' && !patch.comment?.trim()) {
      throw new DomainError('comment_required', 'Moving an issue to blocked needs a comment saying what blocks it', { status: 'blocked' });
    }
  }
  return undefined;
}

export function applyUpdate(s: IssueState, cmd: UpdateCmd, ctx: Ctx): Applied {
  const closeout = checkUpdate(s, cmd);
  const { patch, actor } = cmd;
  if (closeout) {
    return applyClose(s, { actor, comment: patch.comment ?? '', requireDeliverable: cmd.requireDeliverable }, ctx, pickFields(patch));
  }
  const changes: Partial<IssueState> = { ...renewed(s, actor, ctx), ...pickFields(patch) };
  if (patch.blockedByIssueIds) {
    const collab = s.collab ?? emptyCollab();
    const known = new Map(collab.blockedBy.map((b) => [b.id, b.resolved]));
    const done = new Set(cmd.blockersDone ?? []);
    changes.collab = { ...collab, blockedBy: [...new Set(patch.blockedByIssueIds)].map((id) => ({ id, resolved: known.get(id) ?? done.has(id) })) };
  }
  const reassigned = patch.assigneeAgentId !== undefined && patch.assigneeAgentId !== s.assigneeAgentId;
  // An operator's assignment always wins over routing, and is recorded as manual.
  if (reassigned && s.lifecycle && actor.kind === 'operator') {
    const summary = patch.assigneeAgentId ? `Assigned by an operator to ${patch.assigneeAgentId}` : 'Unassigned by an operator';
    changes.lifecycle = {
      ...s.lifecycle,
      routing: { state: 'manual', decisionId: null, assignmentSource: 'manual', reason: { summary, matchedRules: [], strategy: null, candidates: [] }, decidedAt: new Date(ctx.now).toISOString() },
    };
    // An unroutable task given to an agent is ready for it, as a routed one would be.
    if (s.status === 'backlog' && patch.status === undefined && patch.assigneeAgentId) changes.status = 'todo';
  }
  const status = patch.status ?? s.status;
  if (status !== 'in_progress' || reassigned) {
    changes.checkout = null;
    // Reassigning work in progress hands it back to the queue of the new assignee.
    if (status === 'in_progress') changes.status = 'todo';
  }
  const issue = nextState(s, ctx, changes);
  const comments = patch.comment !== undefined && patch.comment.trim() !== '' ? [makeComment(actor, patch.comment, issue, ctx)] : [];
  const changed = diff(s, issue);
  const activity: ActivityEntry[] = [];
  if (Object.keys(changed).length > 0) activity.push(entry(actor, 'issue.updated', { changes: changed }, issue, ctx));
  if (comments.length > 0) activity.push(entry(actor, 'issue.commented', { commentId: comments[0]!.id }, issue, ctx));
  // Assigned to someone by someone else: that agent is woken (never for its own action).
  const assignee = issue.assigneeAgentId;
  const effects: Effect[] = reassigned && assignee && actor.agentId !== assignee && !TERMINAL_STATUSES.includes(issue.status)
    ? [{ kind: 'wake', id: ctx.newId(), agentId: assignee, reason: 'issue_assigned', summary: `Assigned ${issue.identifier ?? issue.id}: ${issue.title}` }]
    : [];
  // A comment sent with a change wakes the assignee as a thread comment would (tasks with collaboration state;
  // runs recorded before it keep their effects).
  if (s.collab && comments[0] && assignee && actor.agentId !== assignee && effects.length === 0) {
    effects.push({ kind: 'wake', id: ctx.newId(), agentId: assignee, reason: 'issue_commented', summary: `New comment on ${issue.identifier ?? issue.id}: ${comments[0].body.slice(0, 200)}`, commentId: comments[0].id });
  }
  return { write: { issue, comments, activity }, effects };
}

function pickFields(patch: UpdatePatch): Partial<IssueState> {
  const out: Partial<IssueState> = {};
  if (patch.status !== undefined && patch.status !== 'done') out.status = patch.status;
  if (patch.priority !== undefined) out.priority = patch.priority;
  if (patch.title !== undefined) out.title = patch.title;
  if (patch.description !== undefined) out.description = patch.description;
  if (patch.assigneeAgentId !== undefined) out.assigneeAgentId = patch.assigneeAgentId;
  if (patch.goalId !== undefined) out.goalId = patch.goalId;
  return out;
}

const TRACKED: Array<keyof IssueState> = ['status', 'priority', 'title', 'assigneeAgentId', 'goalId'];
const blockerIds = (s: IssueState) => (s.collab?.blockedBy ?? []).map((b) => b.id);

export type Changes = Record<string, { from: unknown; to: unknown }>;

/** The fields a change moved, with their values: a PATCH answer's `changes` (Paperclip's), and the log's start. */
export function changedFields(before: IssueState, after: IssueState): Changes {
  const out: Changes = {};
  for (const key of TRACKED) if (before[key] !== after[key]) out[key] = { from: before[key], to: after[key] };
  if (before.description !== after.description) out.description = { from: before.description, to: after.description };
  if (blockerIds(before).join() !== blockerIds(after).join()) out.blockedByIssueIds = { from: blockerIds(before), to: blockerIds(after) };
  return out;
}

/**
 * What an update changed, for the activity log. The description (up to 64 KiB) is logged by its
 * length only: the log stays small and the issue itself has the text.
 */
function diff(before: IssueState, after: IssueState): Changes {
  const out = changedFields(before, after);
  if (out.description) out.description = { from: lengthOf(before.description), to: lengthOf(after.description) };
  if (before.checkout && !after.checkout) out.checkout = { from: before.checkout.agentId, to: null };
  return out;
}

const lengthOf = (text: string | null) => (text === null ? null : { length: text.length });

// ---------------------------------------------------------------- comment, release, heartbeat

export function applyComment(s: IssueState, cmd: CommentCmd, ctx: Ctx): Applied {
  const issue = nextState(s, ctx, renewed(s, cmd.actor, ctx));
  const comment = makeComment(cmd.actor, cmd.body, issue, ctx);
  return { write: { issue, comments: [comment], activity: [entry(cmd.actor, 'issue.commented', { commentId: comment.id }, issue, ctx)] } };
}

export function checkRelease(s: IssueState, cmd: ReleaseCmd): void {
  if (!s.checkout) throw new DomainError('status_conflict', 'Issue is not checked out', conflictDetails(s));
  assertMayChange(s, cmd.actor);
}

export function applyRelease(s: IssueState, cmd: ReleaseCmd, ctx: Ctx): Applied {
  checkRelease(s, cmd);
  // Release means "give it up": the checkout and the assignment both go, so anyone may take it.
  const issue = nextState(s, ctx, { status: 'todo', checkout: null, assigneeAgentId: null, expiryStreak: 0 });
  const comments = cmd.comment?.trim() ? [makeComment(cmd.actor, cmd.comment, issue, ctx)] : [];
  const details = { previousAgentId: s.checkout?.agentId ?? null, commentId: comments[0]?.id ?? null };
  return { write: { issue, comments, activity: [entry(cmd.actor, 'issue.released', details, issue, ctx)] } };
}

export function checkHeartbeat(s: IssueState, cmd: HeartbeatCmd): void {
  if (cmd.actor.kind === 'operator' || !isOwner(s, cmd.actor)) throw notOwner(s, cmd.actor);
}

export function applyHeartbeat(s: IssueState, cmd: HeartbeatCmd, ctx: Ctx): Applied {
  checkHeartbeat(s, cmd);
  return { write: { issue: nextState(s, ctx, renewed(s, cmd.actor, ctx)), comments: [], activity: [] } };
}

// ---------------------------------------------------------------- lease expiry (the workflow's own timer)

export function leaseExpired(s: IssueState, now: number): boolean {
  return s.checkout !== null && Date.parse(s.checkout.leaseExpiresAt) <= now;
}

export function applyLeaseExpiry(s: IssueState, ctx: Ctx): Applied {
  const checkout = s.checkout!;
  const streak = s.expiryStreak + 1;
  const status: Status = streak >= MAX_EXPIRIES_BEFORE_PAUSE ? 'paused' : 'todo';
  const issue = nextState(s, ctx, { status, checkout: null, expiryStreak: streak });
  const system = systemActor('lease', checkout.runId);
  const activity = [entry(system, 'issue.lease_expired', { agentId: checkout.agentId, runId: checkout.runId, expiredAt: checkout.leaseExpiresAt, streak }, issue, ctx)];
  if (status === 'paused') activity.push(entry(system, 'issue.paused', { reason: 'lease_expired_repeatedly', streak }, issue, ctx));
  return { write: { issue, comments: [], activity } };
}

// ---------------------------------------------------------------- operator actions taken in Temporal itself

/**
 * "Request Cancellation" (Web UI, `temporal workflow cancel`): cancel the task. A task already done or
 * cancelled keeps its status; either way the log says who ended the workflow, and how.
 */
export function applyWorkflowCancel(s: IssueState, requestedBy: Actor, how: Record<string, unknown>, ctx: Ctx): Applied {
  const terminal = TERMINAL_STATUSES.includes(s.status);
  const issue = nextState(s, ctx, terminal ? {} : { status: 'cancelled', checkout: null, expiryStreak: 0 });
  const action = terminal ? 'issue.workflow_closed' : 'issue.cancelled';
  return { write: { issue, comments: [], activity: [entry(requestedBy, action, { from: s.status, ...how }, issue, ctx)] } };
}

/** An operator brought a closed task workflow back (`admin restore`): it carries on from its last state. */
export function applyRestore(s: IssueState, actor: Actor, from: Record<string, unknown>, ctx: Ctx): Applied {
  const issue = nextState(s, ctx, {});
  return { write: { issue, comments: [], activity: [entry(actor, 'issue.restored', { status: s.status, ...from }, issue, ctx)] } };
}
