/**
 * The code host's view of a task's PR, applied (domain/delivery.ts has submit, ship and rollback): CI
 * and review on the current head, a head that moved, a PR merged or closed outside Switchyard, and the
 * automatic re-run of a flaky-looking failure before anyone is woken (domain/flaky.ts).
 */
import { overallOf, reportedCi, type Observation, type SubmitCmd } from './delivery.js';
import { DomainError } from './errors.js';
import type { Effect } from './effects.js';
import { rerunFirst, rerunNote } from './flaky.js';
import { shipReady, type CiState, type Delivery, type ReviewState } from './lifecycle.js';
import { entry, makeComment, nextState, type Applied, type Ctx } from './commands.js';
import { systemActor, type Actor, type IssueState } from './task.js';

const shortSha = (sha: string | null) => (sha ? sha.slice(0, 8) : 'the reported head');

/**
 * The PR was merged or closed on the code host by someone else: merged is shipped (done, the merge
 * recorded); closed unmerged sends the task back to its assignee to submit again.
 */
function closedOutside(s: IssueState, o: Observation, ctx: Ctx): Applied {
  const l = s.lifecycle!;
  const d = l.delivery!;
  const at = new Date(ctx.now).toISOString();
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
