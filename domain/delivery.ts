/**
 * The delivery rules (seed 004): submit, ship, rollback, and the upstream issue changing (what CI and
 * review said is domain/observation.ts). Like commands.ts: `check*` only decides (validators call it), `apply*` builds the
 * next state, the entries to log and the effects to carry out. Provider answers come in as plain data.
 */
import { taskActions } from './delivery-actions.js';
import type { Effect } from './effects.js';
import { DomainError } from './errors.js';
import type { FlakyPolicy } from './flaky.js';
import { needsFix, resubmittable, shipReady, type Artifact, type CiState, type CheckView, type Delivery, type ReviewState, type TaskSource } from './lifecycle.js';
import { entry, makeComment, nextState, type Applied, type Ctx } from './commands.js';
import type { SAME_SUCCESS_AGAIN } from './permissions.js';
import { TERMINAL_STATUSES, type Priority } from './statuses.js';
import { systemActor, type Actor, type IssueState } from './task.js';

export interface PullRequestInput { title?: string; body?: string; head?: string; base?: string; draft?: boolean; headSha?: string }

export interface SubmitCmd {
  actor: Actor;
  mode: 'adapter_managed' | 'artifact';
  summary: string;
  notes?: string | null;
  pullRequest?: PullRequestInput;
  artifacts?: Artifact[];
  checks?: Array<{ name: string; status: CheckView['status'] }>;
}

/** What the code host answered to a submit. */
export interface OpenedPull { prUrl: string; prNumber: number; headSha: string; head: string; base: string; action: 'created' | 'existing' }

/** The code host's view of the current PR, read by activity (webhook nudge or polling). `headSha` is null only in artifact mode without a commit. */
export interface Observation {
  headSha: string | null; ci: CiState; review: ReviewState; state: 'open' | 'closed'; merged: boolean; mergeCommitSha?: string | null; mergeCommitUrl?: string | null;
  /** The repository's flaky policy (absent in observations recorded before issue 14: nothing is re-run). */
  flaky?: FlakyPolicy;
}

export interface ShipCmd {
  actor: Actor;
  expectedHeadSha: string;
  mergeMethod?: 'squash' | 'merge' | 'rebase';
  /** AgentRail's ship fields, recorded as asked: Switchyard merges; it never deploys. */
  mode?: 'merge_only' | 'merge_and_deploy';
  targetEnvironment?: 'staging' | 'production';
}
export interface MergeDone { operationId: string; mergeCommitSha: string | null; mergeCommitUrl: string | null; alreadyMerged: boolean }

export interface RollbackCmd { actor: Actor; reason: string }

const iso = (ctx: Ctx) => new Date(ctx.now).toISOString();

function refusal(code: 'not_submittable' | 'not_shippable', s: IssueState, actor: Actor, message: string): DomainError {
  return new DomainError(code, message, { taskId: s.id, currentStatus: s.status, availableActions: taskActions(s, actor) });
}

const SUBMITTABLE = ['todo', 'in_progress', 'in_review'] as const;

export function checkSubmit(s: IssueState, cmd: SubmitCmd): void {
  const { actor } = cmd;
  const d = s.lifecycle?.delivery ?? null;
  const shippedAndKept = !!d?.ship && !d.rollback;
  // In review, only the fix loop submits again (availableActions says `submit` then): a new head alone is seen by the watcher.
  const reviewWithoutFix = s.status === 'in_review' && !resubmittable(d);
  if (!(SUBMITTABLE as readonly string[]).includes(s.status) || shippedAndKept || reviewWithoutFix) {
    throw refusal('not_submittable', s, actor, reviewWithoutFix ? 'Task is in review: submit again once CI fails or changes are requested (availableActions has `fix`)' : `Task is not in a submittable state (${s.status})`);
  }
  if (actor.kind === 'agent') {
    const owner = s.checkout?.agentId ?? s.assigneeAgentId;
    if (owner !== actor.agentId) throw refusal('not_submittable', s, actor, owner ? 'Task is assigned to another agent' : 'Task is not assigned to you (it has not been routed)');
  }
  if (cmd.mode === 'adapter_managed') {
    if (!s.lifecycle?.source) {
      throw new DomainError('no_provider_source', 'This task has no provider source to open a pull request on: submit with mode "artifact"', { taskId: s.id });
    }
    if (!cmd.pullRequest?.head) throw new DomainError('validation_error', 'pullRequest.head (the branch to open the pull request from) is required', { field: 'pullRequest.head' });
  }
}

/** A commit artifact's SHA (`…/commit/<sha>`), the artifact-mode head when none is given. */
function shaOfArtifacts(artifacts: Artifact[] = []): string | null {
  for (const a of [...artifacts].reverse()) {
    const m = /\/commit\/([0-9a-f]{7,40})\b/i.exec(a.url);
    if (a.type === 'commit' && m) return m[1]!.toLowerCase();
  }
  return null;
}

export function reportedCi(checks: SubmitCmd['checks'], headSha: string | null, at: string): CiState {
  const views: CheckView[] = (checks ?? []).map((c) => ({ name: c.name, workflow: null, status: c.status, url: null, durationSeconds: null }));
  return { headSha, overallStatus: overallOf(views), checks: views, failureSummaries: failuresOf(views), updatedAt: at };
}

export function overallOf(checks: CheckView[]): CiState['overallStatus'] {
  if (checks.length === 0) return 'queued';
  if (checks.some((c) => c.status === 'failed')) return 'failed';
  if (checks.some((c) => c.status === 'cancelled')) return 'cancelled';
  if (checks.some((c) => c.status === 'running')) return 'running';
  if (checks.some((c) => c.status === 'queued')) return 'queued';
  return 'passed';
}

export const failuresOf = (checks: CheckView[]) =>
  checks.filter((c) => c.status === 'failed' || c.status === 'cancelled').slice(0, 5).map((c) => ({ checkName: c.name, message: `${c.name} ${c.status}` }));

function freshReview(source: TaskSource | null, headSha: string | null): ReviewState {
  return { outcome: source?.reviewPolicy === 'never_require' ? 'not_required' : 'pending', reviewer: null, headSha, createdAt: null, comments: [] };
}

export function applySubmitted(s: IssueState, cmd: SubmitCmd, pull: OpenedPull | null, ctx: Ctx): Applied {
  checkSubmit(s, cmd);
  const at = iso(ctx);
  const l = s.lifecycle ?? { stage: 'working' as const, source: null, routing: null, delivery: null };
  const prev = l.delivery;
  const headSha = pull?.headSha ?? cmd.pullRequest?.headSha?.toLowerCase() ?? shaOfArtifacts(cmd.artifacts);
  const prArtifact = cmd.artifacts?.find((a) => a.type === 'pull_request');
  const prNumberOfArtifact = prArtifact ? Number(/\/pull\/(\d+)/.exec(prArtifact.url)?.[1] ?? NaN) : NaN;
  const delivery: Delivery = {
    submissionId: `sub_${ctx.newId().replace(/-/g, '').slice(0, 20)}`,
    submissions: (prev?.submissions ?? 0) + 1,
    mode: cmd.mode,
    summary: cmd.summary,
    notes: cmd.notes ?? null,
    submittedAt: at,
    prUrl: pull?.prUrl ?? prArtifact?.url ?? null,
    prNumber: pull?.prNumber ?? (Number.isFinite(prNumberOfArtifact) ? prNumberOfArtifact : null),
    head: pull?.head ?? cmd.pullRequest?.head ?? null,
    base: pull?.base ?? cmd.pullRequest?.base ?? null,
    headSha,
    submittedHeadSha: headSha,
    action: pull?.action ?? 'accepted',
    artifacts: cmd.artifacts ?? [],
    // Reset to the new head: nothing said about an earlier head counts for this one.
    ci: cmd.mode === 'artifact' ? reportedCi(cmd.checks, headSha, at) : { headSha, overallStatus: 'queued', checks: [], failureSummaries: [], updatedAt: at },
    review: freshReview(l.source, headSha),
    ship: null,
    rollback: null,
  };
  const implied = s.status === 'todo' && cmd.actor.kind === 'agent';
  const issue = nextState(s, ctx, {
    status: 'in_review',
    assigneeAgentId: s.assigneeAgentId ?? cmd.actor.agentId ?? null,
    checkout: null,
    expiryStreak: 0,
    startedAt: s.startedAt ?? at,
    lifecycle: { ...l, delivery },
  });
  const lines = [`Submitted for review: ${cmd.summary}`];
  if (delivery.prUrl) lines.push(`Pull request: ${delivery.prUrl}${pull ? ` (${pull.action})` : ''}`);
  if (headSha) lines.push(`Head: ${headSha}`);
  const comment = makeComment(cmd.actor, lines.join('\n'), issue, ctx);
  const details = {
    from: s.status, submissionId: delivery.submissionId, mode: cmd.mode, prUrl: delivery.prUrl, prNumber: delivery.prNumber, headSha,
    action: pull?.action ?? 'accepted', impliedCheckout: implied, commentId: comment.id,
  };
  return { write: { issue, comments: [comment], activity: [entry(cmd.actor, 'task.submitted', details, issue, ctx)] } };
}

/** 'merge': go ahead; 'shipped': merged already at this head (the same success again). */
export function checkShip(s: IssueState, cmd: ShipCmd): 'merge' | typeof SAME_SUCCESS_AGAIN {
  const d = s.lifecycle?.delivery ?? null;
  // Artifact mode may know no head at all: then the caller's SHA is what ships (and is recorded).
  const matches = (sha: string | null) => (sha === null ? d?.mode === 'artifact' : sha === cmd.expectedHeadSha || (sha.length < 40 && cmd.expectedHeadSha.startsWith(sha)));
  // Only its assignee (or an operator) ships a task, or hears that it shipped already.
  if (cmd.actor.kind === 'agent' && s.assigneeAgentId !== cmd.actor.agentId) throw refusal('not_shippable', s, cmd.actor, 'Task is assigned to another agent');
  if (d?.ship && !d.rollback && matches(d.headSha)) return 'shipped';
  if (s.status !== 'in_review' || !d || !shipReady(d)) {
    const why = !d ? 'nothing was submitted' : needsFix(d) ? 'CI failed or changes were requested' : s.status !== 'in_review' ? `it is ${s.status}` : 'CI has not passed or review is not approved on the current head';
    throw refusal('not_shippable', s, cmd.actor, `Task is not in a shippable state: ${why}`);
  }
  if (!matches(d.headSha)) {
    throw new DomainError('head_sha_mismatch', 'The head moved since you read the task: read it again before shipping', {
      expectedHeadSha: cmd.expectedHeadSha, currentHeadSha: d.headSha, availableActions: taskActions(s, cmd.actor),
    });
  }
  return 'merge';
}

export function applyShipped(s: IssueState, cmd: ShipCmd, merge: MergeDone, ctx: Ctx): Applied {
  const l = s.lifecycle!;
  const d = l.delivery!;
  const at = iso(ctx);
  const ship = {
    operationId: merge.operationId, mergeCommitSha: merge.mergeCommitSha, mergeCommitUrl: merge.mergeCommitUrl, method: cmd.mergeMethod ?? 'squash', shippedAt: at,
    ...(cmd.mode ? { mode: cmd.mode } : {}), ...(cmd.targetEnvironment ? { targetEnvironment: cmd.targetEnvironment } : {}),
  };
  const issue = nextState(s, ctx, { status: 'done', checkout: null, expiryStreak: 0, completedAt: at, lifecycle: { ...l, delivery: { ...d, headSha: d.headSha ?? cmd.expectedHeadSha, ship } } });
  const what = d.prUrl ? `Merged ${d.prUrl}` : `Shipped submission ${d.submissionId}`;
  const body = merge.mergeCommitUrl ? `${what} as ${merge.mergeCommitSha}.\nMerge commit: ${merge.mergeCommitUrl}` : `${what} at ${d.headSha ?? 'the reported head'}.`;
  // The closing comment carries the merge commit URL: the deliverable seed 003 asks of a close.
  const comment = makeComment(systemActor('ship'), body, issue, ctx);
  const details = { from: s.status, operationId: merge.operationId, headSha: d.headSha, mergeCommitSha: merge.mergeCommitSha, alreadyMerged: merge.alreadyMerged, by: cmd.actor.agentId ?? cmd.actor.user ?? null, commentId: comment.id };
  const effects: Effect[] = l.source
    ? [
        { kind: 'upstream_comment', id: ctx.newId(), body: shippedUpstream(s.identifier ?? s.id, d.prUrl, merge.mergeCommitUrl) },
        { kind: 'upstream_state', id: ctx.newId(), state: 'closed' },
      ]
    : [];
  return { write: { issue, comments: [comment], activity: [entry(cmd.actor, 'task.shipped', details, issue, ctx)] }, effects };
}

export function checkRollback(s: IssueState, cmd: RollbackCmd): void {
  const d = s.lifecycle?.delivery;
  if (s.status !== 'done' || !d?.ship || d.rollback) {
    throw new DomainError('no_merged_commit', 'Task has no shipped merge to roll back', { taskId: s.id, currentStatus: s.status, availableActions: taskActions(s, cmd.actor) });
  }
  if (cmd.actor.kind === 'agent' && s.assigneeAgentId !== cmd.actor.agentId) throw refusal('not_shippable', s, cmd.actor, 'Task is assigned to another agent');
}

export function applyRolledBack(s: IssueState, cmd: RollbackCmd, revert: { prUrl: string; prNumber: number } | null, ctx: Ctx): Applied {
  checkRollback(s, cmd);
  const l = s.lifecycle!;
  const d = l.delivery!;
  const at = iso(ctx);
  const rollback = { prUrl: revert?.prUrl ?? null, prNumber: revert?.prNumber ?? null, reason: cmd.reason, at };
  // Back to the assignee's queue: the fix is theirs to submit again.
  const issue = nextState(s, ctx, { status: 'todo', completedAt: null, lifecycle: { ...l, delivery: { ...d, rollback } } });
  const comment = makeComment(cmd.actor, `Rolled back: ${cmd.reason}${revert ? `\nRevert pull request: ${revert.prUrl}` : ''}`, issue, ctx);
  const effects: Effect[] = l.source
    ? [
        { kind: 'upstream_state', id: ctx.newId(), state: 'open' },
        { kind: 'upstream_comment', id: ctx.newId(), body: `Rolled back by Switchyard task ${s.identifier ?? s.id}: ${cmd.reason}${revert ? ` (${revert.prUrl})` : ''}` },
      ]
    : [];
  return { write: { issue, comments: [comment], activity: [entry(cmd.actor, 'task.rolled_back', { reason: cmd.reason, revertPrUrl: rollback.prUrl, mergeCommitSha: d.ship!.mergeCommitSha, commentId: comment.id }, issue, ctx)] }, effects };
}

/** The upstream issue as a poll or webhook saw it. */
export interface UpstreamIssue {
  title: string;
  body: string | null;
  labels: string[];
  state: 'open' | 'closed';
  url: string;
  /** The provider's `updated_at` (GitHub does not deliver in order, and a poll can race a webhook). */
  updatedAt?: string;
  /** The tracker's own state when it has more than open/closed (Linear): kept on the task's source. */
  workflowState?: { id: string; name: string; type: string };
  /** The tracker's priority in ours (Linear; null: "no priority"; absent: the tracker has none, GitHub). */
  trackerPriority?: Priority | null;
  /** The tracker's identifier as it is now (Linear's changes when the issue moves team). */
  identifier?: string;
}

/** Whether `up` is older than what the task last applied (then it is ignored). */
function staleUpstream(known: string | undefined, up: UpstreamIssue): boolean {
  if (!known || !up.updatedAt) return false;
  const [a, b] = [Date.parse(up.updatedAt), Date.parse(known)];
  return Number.isFinite(a) && Number.isFinite(b) && a < b;
}

/** Edits upstream update the task; a close before ship cancels it (saying so); a reopen brings it back. */
export function applyUpstream(s: IssueState, up: UpstreamIssue, ctx: Ctx): Applied | undefined {
  const l = s.lifecycle;
  if (!l?.source || staleUpstream(l.source.updatedAt, up)) return undefined;
  const shipped = !!l.delivery?.ship;
  const changes: Partial<IssueState> = {};
  if (up.title !== s.title) changes.title = up.title;
  if ((up.body ?? null) !== s.description) changes.description = up.body ?? null;
  // The tracker's priority when it changed there: a routing rule's or an operator's choice stands until then.
  const priorityChanged = up.trackerPriority !== undefined && up.trackerPriority !== (l.source.trackerPriority ?? null);
  if (priorityChanged && up.trackerPriority && up.trackerPriority !== s.priority) changes.priority = up.trackerPriority;
  const labelsChanged = JSON.stringify(up.labels) !== JSON.stringify(l.source.labels);
  const stateChanged = up.state !== l.source.state;
  const trackerStateChanged = !!up.workflowState && JSON.stringify(up.workflowState) !== JSON.stringify(l.source.workflowState);
  const identifierChanged = !!up.identifier && up.identifier !== l.source.identifier;
  if (!Object.keys(changes).length && !labelsChanged && !stateChanged && !trackerStateChanged && !priorityChanged && !identifierChanged) return undefined;
  const system = systemActor('intake');
  let status = s.status;
  let comment: string | undefined;
  if (stateChanged && up.state === 'closed' && !shipped && !TERMINAL_STATUSES.includes(s.status)) {
    status = 'cancelled';
    comment = `The upstream issue ${up.url} was closed before this task shipped: the task is cancelled.`;
  } else if (stateChanged && up.state === 'open' && s.status === 'cancelled') {
    status = 'todo';
    comment = `The upstream issue ${up.url} was reopened: the task is back in the queue.`;
  }
  const issue = nextState(s, ctx, {
    ...changes,
    status,
    ...(status !== s.status ? { checkout: null, completedAt: status === 'cancelled' ? new Date(ctx.now).toISOString() : null } : {}),
    lifecycle: { ...l, source: { ...l.source, labels: up.labels, state: up.state, ...(up.updatedAt ? { updatedAt: up.updatedAt } : {}), ...(up.workflowState ? { workflowState: up.workflowState } : {}), ...(priorityChanged ? { trackerPriority: up.trackerPriority } : {}), ...(identifierChanged ? { identifier: up.identifier } : {}) } },
  });
  const comments = comment ? [makeComment(system, comment, issue, ctx)] : [];
  const details = { fields: Object.keys(changes), labels: labelsChanged ? up.labels : undefined, upstreamState: up.state, from: s.status, to: status };
  return { write: { issue, comments, activity: [entry(system, 'task.upstream_changed', details, issue, ctx)] } };
}

/** The upstream comment on ship: the PR and the merge commit, so a tracker without a GitHub link (Linear) shows both. */
function shippedUpstream(task: string, prUrl: string | null | undefined, mergeCommitUrl: string | null | undefined): string {
  if (prUrl && mergeCommitUrl) return `Shipped by Switchyard task ${task}: merged ${prUrl} as ${mergeCommitUrl}`;
  return `Shipped by Switchyard task ${task}: ${mergeCommitUrl ?? prUrl ?? ''}`;
}
