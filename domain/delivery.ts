/**
 * The delivery rules (seed 004): submit, what CI and review said, ship, rollback, and the upstream
 * issue changing. Like commands.ts: `check*` only decides (validators call it), `apply*` builds the
 * next state, the entries to log and the effects to carry out. Provider answers come in as plain data.
 */
import { taskActions } from './delivery-actions.js';
import type { Effect } from './effects.js';
import { DomainError } from './errors.js';
import { rerunFirst, rerunNote, type FlakyPolicy } from './flaky.js';
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

export interface ShipCmd { actor: Actor; expectedHeadSha: string; mergeMethod?: 'squash' | 'merge' | 'rebase' }
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

const shortSha = (sha: string | null) => (sha ? sha.slice(0, 8) : 'the reported head');

/**
 * The PR was merged or closed on the code host by someone else: merged is shipped (done, the merge
 * recorded); closed unmerged sends the task back to its assignee to submit again.
 */
function closedOutside(s: IssueState, o: Observation, ctx: Ctx): Applied {
  const l = s.lifecycle!;
  const d = l.delivery!;
  const at = iso(ctx);
  const system = systemActor('provider');
  if (o.merged) {
    const ship = { operationId: 'merged_outside_switchyard', mergeCommitSha: o.mergeCommitSha ?? null, mergeCommitUrl: o.mergeCommitUrl ?? null, method: 'unknown', shippedAt: at };
    const issue = nextState(s, ctx, { status: 'done', checkout: null, completedAt: at, lifecycle: { ...l, delivery: { ...d, headSha: o.headSha ?? d.headSha, ship } } });
    const comment = makeComment(system, `${d.prUrl ?? 'The pull request'} was merged outside Switchyard${o.mergeCommitUrl ? ` as ${o.mergeCommitSha}.\nMerge commit: ${o.mergeCommitUrl}` : '.'}`, issue, ctx);
    return { write: { issue, comments: [comment], activity: [entry(system, 'task.shipped', { from: s.status, outside: true, mergeCommitSha: ship.mergeCommitSha, commentId: comment.id }, issue, ctx)] } };
  }
  const issue = nextState(s, ctx, { status: 'todo', checkout: null, lifecycle: { ...l, delivery: { ...d, ci: { ...d.ci, overallStatus: 'cancelled' } } } });
  const comment = makeComment(system, `${d.prUrl ?? 'The pull request'} was closed without merging: submit again when the work is ready.`, issue, ctx);
  const effects: Effect[] = s.assigneeAgentId ? [{ kind: 'wake', id: ctx.newId(), agentId: s.assigneeAgentId, reason: 'changes_requested', summary: `${d.prUrl ?? 'The PR'} was closed without merging` }] : [];
  return { write: { issue, comments: [comment], activity: [entry(system, 'task.pr_closed', { prNumber: d.prNumber, commentId: comment.id }, issue, ctx)] }, effects };
}

/** Whether an observation tells anything new (the workflow only commits changes). */
export function observationChanges(d: Delivery, o: Observation): boolean {
  const strip = (c: CiState) => JSON.stringify({ ...c, updatedAt: '' });
  return o.headSha !== d.headSha || strip(o.ci) !== strip(d.ci) || JSON.stringify(o.review) !== JSON.stringify(d.review);
}

/**
 * The code host's current view of the PR. A moved head (a push without a new submit) resets CI and
 * review to the new head; the agent is woken when its task newly needs a fix or becomes shippable.
 */
export function applyObservation(s: IssueState, o: Observation, ctx: Ctx): Applied | undefined {
  const l = s.lifecycle;
  const d = l?.delivery;
  if (!l || !d || d.ship || s.status !== 'in_review') return undefined;
  if (o.merged || o.state === 'closed') return closedOutside(s, o, ctx);
  if (!observationChanges(d, o)) return undefined;
  const review = l.source?.reviewPolicy === 'never_require' && o.review.outcome !== 'changes_requested' ? { ...o.review, outcome: 'not_required' as const } : o.review;
  // A re-run this head had whose outcome is now known: red again is news even if no "running" was seen in between.
  const rerunSettles = !!d.autoRerun?.pending && d.autoRerun.headSha === o.headSha && o.ci.overallStatus !== 'running' && o.ci.overallStatus !== 'queued';
  const failedNow = o.ci.overallStatus === 'failed' && (d.ci.overallStatus !== 'failed' || o.headSha !== d.headSha || rerunSettles);
  // A failure that looks flaky is re-run once before anyone is woken (domain/flaky.ts).
  const rerun = failedNow ? rerunFirst(o.ci, d.autoRerun, o.flaky) : null;
  const autoRerun = rerun ? { headSha: o.headSha!, ...rerun, at: new Date(ctx.now).toISOString(), pending: true } : rerunSettles ? { ...d.autoRerun!, pending: false } : d.autoRerun;
  const next: Delivery = { ...d, headSha: o.headSha, ci: o.ci, review, ...(autoRerun !== undefined ? { autoRerun } : {}) };
  const issue = nextState(s, ctx, { lifecycle: { ...l, delivery: next } });
  const system = systemActor('provider');
  const activity = [];
  const effects: Effect[] = [];
  if (o.headSha !== d.headSha) activity.push(entry(system, 'task.head_moved', { from: d.headSha, to: o.headSha }, issue, ctx));
  if (o.ci.overallStatus !== d.ci.overallStatus || o.headSha !== d.headSha) {
    activity.push(entry(system, 'task.ci_changed', { headSha: o.headSha, from: d.ci.overallStatus, to: o.ci.overallStatus, failing: o.ci.failureSummaries.map((f) => f.checkName) }, issue, ctx));
  }
  if (review.outcome !== d.review.outcome) activity.push(entry(system, 'task.review_changed', { headSha: o.headSha, from: d.review.outcome, to: review.outcome }, issue, ctx));
  const agent = s.assigneeAgentId;
  const failedSummary = `CI failed on ${shortSha(o.headSha)}: ${o.ci.failureSummaries.map((f) => f.checkName).join(', ')}${rerunNote(d, o.headSha)}`;
  if (rerun) {
    activity.push(entry(system, 'task.ci_rerun', { headSha: o.headSha, checks: rerun.checks, reason: rerun.reason }, issue, ctx));
    // If nothing could be re-run (or the CI system refuses), the agent hears of the failure after all.
    const wake = agent ? { wakeId: ctx.newId(), agentId: agent, summary: failedSummary } : null;
    effects.push({ kind: 'ci_rerun', id: ctx.newId(), prNumber: d.prNumber ?? 0, headSha: o.headSha!, checks: rerun.checks, reason: rerun.reason, wake });
  }
  if (agent) {
    if (failedNow && !rerun) effects.push({ kind: 'wake', id: ctx.newId(), agentId: agent, reason: 'ci_failed', summary: failedSummary });
    if (review.outcome === 'changes_requested' && d.review.outcome !== 'changes_requested') {
      effects.push({ kind: 'wake', id: ctx.newId(), agentId: agent, reason: 'changes_requested', summary: `Changes requested: ${review.comments.map((c) => c.body).join(' | ').slice(0, 500)}` });
    }
    if (shipReady(next) && !shipReady(d)) effects.push({ kind: 'wake', id: ctx.newId(), agentId: agent, reason: 'ready_to_ship', summary: `CI passed and review is ${review.outcome} on ${shortSha(o.headSha)}: ready to ship` });
  }
  return { write: { issue, comments: [], activity }, effects };
}

/**
 * The CI system took the automatic re-run (domain/flaky.ts): the checks it re-runs are queued again
 * on the head, so what CI says of them next is news. Without this, a re-run that fails again before
 * the watcher looks (GitHub re-runs a job under the same check; a fast CircleCI job) reads as the
 * failure already seen, and the agent is never woken.
 */
export function applyRerunStarted(s: IssueState, headSha: string, rerun: string[], ctx: Ctx): Applied | undefined {
  const l = s.lifecycle;
  const d = l?.delivery;
  if (!l || !d || d.ship || s.status !== 'in_review' || d.headSha !== headSha) return undefined;
  const again = new Set(rerun);
  const checks = d.ci.checks.map((c) => (again.has(c.name) && c.status === 'failed' ? { ...c, status: 'queued' as const } : c));
  const hints = (d.ci.flakyHints ?? []).filter((h) => !again.has(h.checkName));
  const ci: CiState = { ...d.ci, checks, overallStatus: overallOf(checks), failureSummaries: d.ci.failureSummaries.filter((f) => !again.has(f.checkName)), flakyHints: hints };
  if (!hints.length) delete ci.flakyHints;
  const issue = nextState(s, ctx, { lifecycle: { ...l, delivery: { ...d, ci } } });
  return { write: { issue, comments: [], activity: [entry(systemActor('provider'), 'task.ci_rerun_started', { headSha, checks: rerun }, issue, ctx)] } };
}

/** Artifact mode: CI reported by any CI system for the current submission. */
/**
 * A report (checks, a review) is a decision of its own: it always makes a version and a log entry, even
 * when it changes nothing else, so the answer never re-commits the state it already had.
 */
function reported(s: IssueState, observed: Applied | undefined, actor: Actor, action: string, details: Record<string, unknown>, ctx: Ctx): Applied {
  const applied = observed ?? { write: { issue: nextState(s, ctx, {}), comments: [], activity: [] } };
  const logged = entry(actor, action, { ...details, changed: observed !== undefined }, applied.write.issue, ctx);
  return { ...applied, write: { ...applied.write, activity: [...applied.write.activity, logged] } };
}

export function applyChecksReported(s: IssueState, checks: NonNullable<SubmitCmd['checks']>, headSha: string | null, actor: Actor, ctx: Ctx): Applied {
  const d = s.lifecycle?.delivery;
  if (!d || s.status !== 'in_review' || d.ship) throw new DomainError('status_conflict', 'Checks are taken for a submission in review only', { taskId: s.id, currentStatus: s.status });
  if (headSha && d.headSha && headSha.toLowerCase() !== d.headSha) {
    throw new DomainError('head_sha_mismatch', 'These checks are for another head than the current submission', { expectedHeadSha: d.headSha, receivedHeadSha: headSha });
  }
  const ci = reportedCi(checks, d.headSha, new Date(ctx.now).toISOString());
  const observed = applyObservation(s, { headSha: d.headSha, ci, review: d.review, state: 'open', merged: false }, ctx);
  return reported(s, observed, actor, 'task.checks_reported', { headSha: d.headSha, checks: checks.map((c) => `${c.name}=${c.status}`) }, ctx);
}

/** Artifact mode (or any operator): a review verdict on the current submission. */
export function applyReviewRecorded(s: IssueState, review: { outcome: 'approved' | 'changes_requested'; comments: string[]; reviewer: string }, actor: Actor, ctx: Ctx): Applied {
  const d = s.lifecycle?.delivery;
  if (!d || s.status !== 'in_review' || d.ship) throw new DomainError('status_conflict', 'A review is taken for a submission in review only', { taskId: s.id, currentStatus: s.status });
  const at = new Date(ctx.now).toISOString();
  const state: ReviewState = {
    outcome: review.outcome,
    reviewer: { id: review.reviewer, role: 'operator' },
    headSha: d.headSha,
    createdAt: at,
    comments: review.comments.map((body, i) => ({ id: `rc_${d.submissions}_${i + 1}`, authorRole: 'reviewer', body, file: null, line: null })),
  };
  const observed = applyObservation(s, { headSha: d.headSha, ci: d.ci, review: state, state: 'open', merged: false }, ctx);
  return reported(s, observed, actor, 'task.review_recorded', { headSha: d.headSha, outcome: review.outcome }, ctx);
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
  const ship = { operationId: merge.operationId, mergeCommitSha: merge.mergeCommitSha, mergeCommitUrl: merge.mergeCommitUrl, method: cmd.mergeMethod ?? 'squash', shippedAt: at };
  const issue = nextState(s, ctx, { status: 'done', checkout: null, expiryStreak: 0, completedAt: at, lifecycle: { ...l, delivery: { ...d, headSha: d.headSha ?? cmd.expectedHeadSha, ship } } });
  const what = d.prUrl ? `Merged ${d.prUrl}` : `Shipped submission ${d.submissionId}`;
  const body = merge.mergeCommitUrl ? `${what} as ${merge.mergeCommitSha}.\nMerge commit: ${merge.mergeCommitUrl}` : `${what} at ${d.headSha ?? 'the reported head'}.`;
  // The closing comment carries the merge commit URL: the deliverable seed 003 asks of a close.
  const comment = makeComment(systemActor('ship'), body, issue, ctx);
  const details = { from: s.status, operationId: merge.operationId, headSha: d.headSha, mergeCommitSha: merge.mergeCommitSha, alreadyMerged: merge.alreadyMerged, by: cmd.actor.agentId ?? cmd.actor.user ?? null, commentId: comment.id };
  const effects: Effect[] = l.source
    ? [
        { kind: 'upstream_comment', id: ctx.newId(), body: `Shipped by Switchyard task ${s.identifier ?? s.id}: ${merge.mergeCommitUrl ?? d.prUrl ?? ''}` },
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
  if (!Object.keys(changes).length && !labelsChanged && !stateChanged && !trackerStateChanged && !priorityChanged) return undefined;
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
    lifecycle: { ...l, source: { ...l.source, labels: up.labels, state: up.state, ...(up.updatedAt ? { updatedAt: up.updatedAt } : {}), ...(up.workflowState ? { workflowState: up.workflowState } : {}), ...(priorityChanged ? { trackerPriority: up.trackerPriority } : {}) } },
  });
  const comments = comment ? [makeComment(system, comment, issue, ctx)] : [];
  const details = { fields: Object.keys(changes), labels: labelsChanged ? up.labels : undefined, upstreamState: up.state, from: s.status, to: status };
  return { write: { issue, comments, activity: [entry(system, 'task.upstream_changed', details, issue, ctx)] } };
}
