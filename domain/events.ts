/**
 * Task events: what each committed decision means to someone following the task (AgentRail's event
 * types plus the finer ones its stream carries and ours for seed 000). Pure and deterministic: the
 * workflow computes them when it commits a decision, and the projection writes them with the read
 * model, so an event exists exactly when its decision does. Ids are derived from the decision (no
 * workflow randomness is spent, so histories recorded before events existed replay unchanged).
 */
import { unresolvedBlockers } from './collab.js';
import { taskActions } from './delivery-actions.js';
import { holderOf } from './holder.js';
import type { Delivery } from './lifecycle.js';
import { cyrb53 } from './projection.js';
import { cutText } from './text.js';
import type { ActivityEntry, IssueState, IssueWrite, NewComment } from './task.js';

/** The four types AgentRail's SDK and subscriptions declare. */
export const SUBSCRIBABLE_EVENT_TYPES = ['task.awaiting_user', 'task.reviewed', 'task.shipped', 'task.updated'] as const;

export const TASK_EVENT_TYPES = [
  ...SUBSCRIBABLE_EVENT_TYPES,
  // AgentRail's stream carries these too.
  'task.ci_failed', 'task.ci_recovered', 'task.review_changes_requested', 'task.review_approved', 'task.comment.created',
  // Ours (seed 000 and the delivery pipeline).
  'task.blocked', 'task.unblocked', 'task.delegated', 'task.interaction_created', 'task.interaction_resolved', 'task.interaction_expired',
  'task.lease_expired', 'task.unroutable', 'task.rolled_back', 'task.pr_closed', 'task.document_updated',
] as const;
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];

/** An event as the workflow decides it; the log adds `sequence`, and readers add `links`. */
export interface TaskEvent {
  id: string;
  type: TaskEventType;
  taskVersion: number;
  occurredAt: string;
  data: Record<string, unknown>;
}

export interface EventActor {
  id: string;
  role: string;
}

const PREVIEW_CHARS = 240;

function actorOf(entry: ActivityEntry | NewComment | undefined): EventActor {
  if (!entry) return { id: 'system', role: 'system' };
  const agentId = 'actorAgentId' in entry ? entry.actorAgentId : entry.authorAgentId;
  const user = 'actorUser' in entry ? entry.actorUser : entry.authorUser;
  if (agentId) return { id: agentId, role: 'agent' };
  if (!user || user === 'system') return { id: 'system', role: 'system' };
  if (user.startsWith('linear:')) return { id: user, role: 'linear' };
  return { id: user, role: 'operator' };
}

/** The assignee's view of what it may do next (AgentRail's events carry the assignee's actions). */
function assigneeActions(s: IssueState): string[] {
  const holder = holderOf(s) ?? s.assigneeAgentId;
  return holder ? taskActions(s, { kind: 'agent', agentId: holder, runId: null }) : [];
}

const ciStatusOf = (d: Delivery | null | undefined) => d?.ci.overallStatus ?? null;
const reviewOf = (d: Delivery | null | undefined) => d?.review.outcome ?? null;

/** Which of the fields a follower cares about differ (AgentRail's `changedFields` vocabulary where it has one). */
function changedFields(prev: IssueState | null, next: IssueState, prevActions: string[], nextActions: string[]): string[] {
  const p = prev?.lifecycle?.delivery;
  const n = next.lifecycle?.delivery;
  const out: string[] = [];
  const differs = (a: unknown, b: unknown) => JSON.stringify(a ?? null) !== JSON.stringify(b ?? null);
  if (prev?.status !== next.status) out.push('status');
  if (prev?.assigneeAgentId !== next.assigneeAgentId) out.push('assignee');
  if (prev?.checkout?.agentId !== next.checkout?.agentId) out.push('checkout');
  if (prev?.title !== next.title) out.push('title');
  if (prev?.descriptionVersion !== next.descriptionVersion) out.push('description');
  if (prev?.priority !== next.priority) out.push('priority');
  if (prev?.lifecycle?.stage !== next.lifecycle?.stage) out.push('stage');
  if (p?.submissionId !== n?.submissionId || p?.submissions !== n?.submissions) out.push('submissions');
  if (p?.headSha !== n?.headSha) out.push('headSha');
  if (ciStatusOf(p) !== ciStatusOf(n)) out.push('ciStatus');
  if (reviewOf(p) !== reviewOf(n)) out.push('reviewOutcome');
  if (differs(p?.ship, n?.ship)) out.push('ship');
  if (differs(p?.rollback, n?.rollback)) out.push('rollback');
  if (differs(prevActions, nextActions)) out.push('availableActions');
  if (out.length) out.push('updatedAt');
  return out;
}

const SUMMARIES: Record<string, string> = {
  'issue.created': 'Task created.',
  'issue.checked_out': 'Task started.',
  'issue.checkout_adopted': 'Task adopted by a new run.',
  'issue.released': 'Task released.',
  'issue.closed': 'Task closed.',
  'issue.updated': 'Task updated.',
  'issue.reopened': 'Task reopened.',
  'issue.restored': 'Task restored.',
  'issue.lease_expired': 'The checkout lease expired.',
  'issue.paused': 'Task paused: its lease expired repeatedly.',
  'task.routed': 'Task routed to an agent.',
  'task.unroutable': 'No routing rule matched the task.',
  'task.submitted': 'Submission accepted.',
  'task.shipped': 'Ship request accepted.',
  'task.rolled_back': 'Ship rolled back.',
  'task.pr_closed': 'The pull request was closed without merging.',
  'task.upstream_changed': 'The upstream issue changed.',
  'task.linear_state_changed': 'The Linear workflow state changed.',
  'task.ci_changed': 'CI status changed.',
  'task.review_changed': 'Review outcome changed.',
};

function summaryOf(activity: ActivityEntry[], next: IssueState): string {
  for (const a of activity) {
    const s = SUMMARIES[a.action];
    if (s === 'Submission accepted.') {
      const d = next.lifecycle?.delivery;
      return `Submission accepted: ${d?.submissionId ?? ''}${d?.prNumber ? ` (PR #${d.prNumber})` : ''}`;
    }
    if (s) return s;
  }
  return activity[0] ? `Task changed (${activity[0].action}).` : 'Task changed.';
}

function blockerOf(s: IssueState, actor: EventActor) {
  return { kind: 'awaiting_user', sourceRunId: null, sourceAgentId: actor.role === 'agent' ? actor.id : s.assigneeAgentId, reason: 'See the latest comment on the task', actionRequired: null, resumeInstructions: null, createdAt: s.updatedAt };
}

function ciCounts(d: Delivery) {
  const count = (status: string) => d.ci.checks.filter((c) => c.status === status).length;
  return { total: d.ci.checks.length, passed: count('passed'), failed: count('failed'), running: count('running'), queued: count('queued'), cancelled: count('cancelled'), skipped: count('skipped'), neutral: count('neutral') };
}

/** Activity that is an event of its own (ours, for seed 000 and the pipeline). */
const FINER: Record<string, TaskEventType> = {
  'issue.child_added': 'task.delegated',
  'interaction.created': 'task.interaction_created',
  'interaction.expired': 'task.interaction_expired',
  'issue.lease_expired': 'task.lease_expired',
  'task.unroutable': 'task.unroutable',
  'task.rolled_back': 'task.rolled_back',
  'task.pr_closed': 'task.pr_closed',
  'document.created': 'task.document_updated',
  'document.updated': 'task.document_updated',
  'issue.blockers_resolved': 'task.unblocked',
};

/** The events of one committed decision: `prev` is the state before it (null for a new task). */
export function eventsOf(prev: IssueState | null, write: IssueWrite): TaskEvent[] {
  const next = write.issue;
  const occurredAt = next.updatedAt;
  const actor = actorOf(write.activity[0] ?? write.comments[0]);
  const prevActions = prev ? assigneeActions(prev) : [];
  const nextActions = assigneeActions(next);
  const changed = changedFields(prev, next, prevActions, nextActions);
  const base = { taskId: next.id, taskIdentifier: next.identifier ?? next.id, status: next.status, previousStatus: prev?.status ?? null };
  const affectedAgentId = holderOf(next) ?? next.assigneeAgentId ?? null;
  const out: Array<Omit<TaskEvent, 'id' | 'taskVersion'>> = [];
  const add = (type: TaskEventType, data: Record<string, unknown>, at = occurredAt) => out.push({ type, occurredAt: at, data: { ...base, ...data } });

  const p = prev?.lifecycle?.delivery;
  const d = next.lifecycle?.delivery;
  const shipped = !!d?.ship && !p?.ship;
  const meaningful = changed.some((f) => f !== 'updatedAt' && f !== 'checkout');
  if (shipped) {
    add('task.shipped', {
      changedFields: changed, actor, summary: 'Ship request accepted.', shipStatus: 'succeeded', operationId: d.ship!.operationId,
      // The environment the client named (AgentRail's enum), else production; Switchyard merges and never deploys.
      targetEnvironment: d.ship!.targetEnvironment ?? 'production', mode: d.ship!.mode ?? 'merge_only', deployed: false,
      mergeCommitSha: d.ship!.mergeCommitSha, prUrl: d.prUrl, availableActions: nextActions,
    });
  } else if (meaningful) {
    const blocked = next.status === 'blocked';
    add('task.updated', {
      changedFields: changed, actor, summary: summaryOf(write.activity, next), availableActions: nextActions, assigneeAgentId: next.assigneeAgentId,
      stage: next.lifecycle?.stage ?? null, ...(changed.includes('assignee') ? { affectedAgentId } : {}), ...(blocked ? { blocker: blockerOf(next, actor) } : prev?.status === 'blocked' ? { blocker: null } : {}),
    });
    if (blocked && prev?.status !== 'blocked') {
      add('task.awaiting_user', { changedFields: [...changed, 'blocker'], actor, summary: 'Task is waiting on a person.', availableActions: nextActions, blocker: blockerOf(next, actor) });
    }
  }

  if (d && ciStatusOf(p) !== ciStatusOf(d) && (d.ci.overallStatus === 'failed' || ciStatusOf(p) === 'failed')) {
    const failed = d.ci.overallStatus === 'failed';
    const first = d.ci.failureSummaries[0];
    add(failed ? 'task.ci_failed' : 'task.ci_recovered', {
      changedFields: ['ciStatus', 'ci', ...(changed.includes('availableActions') ? ['availableActions'] : [])], actor: { id: 'system', role: 'system' },
      summary: failed ? cutText(first ? `${first.checkName}: ${first.message}` : 'CI failed.', PREVIEW_CHARS) : `CI is ${d.ci.overallStatus} again.`,
      provider: d.ci.checks.some((c) => c.provider === 'circleci') ? 'circleci' : 'github', overallStatus: d.ci.overallStatus,
      previousOverallStatus: ciStatusOf(p) ?? 'unknown', blocking: failed, ciSummary: ciCounts(d), headSha: d.headSha, affectedAgentId, availableActions: nextActions,
    });
  }
  const outcome = reviewOf(d);
  if (d && outcome !== reviewOf(p) && (outcome === 'approved' || outcome === 'changes_requested')) {
    const reviewer = d.review.reviewer;
    const summary = outcome === 'approved' ? 'Review approved.' : 'Changes requested in review.';
    add(outcome === 'approved' ? 'task.review_approved' : 'task.review_changes_requested', {
      changedFields: ['reviewOutcome', ...(changed.includes('availableActions') ? ['availableActions'] : [])], actor: { id: 'system', role: 'system' },
      summary, reviewer: reviewer?.id ?? null, reviewOutcome: outcome, updatedAt: next.updatedAt, affectedAgentId, availableActions: nextActions,
    });
    add('task.reviewed', { reviewOutcome: outcome, reviewer: reviewer ?? { id: 'unknown', role: 'reviewer' }, summary, availableActions: nextActions });
  }

  const blockedBefore = unresolvedBlockers(prev?.collab).length;
  const blockedNow = unresolvedBlockers(next.collab);
  if (blockedNow.length > 0 && blockedBefore === 0) add('task.blocked', { actor, summary: 'Task is waiting on other issues.', unresolvedBlockerIssueIds: blockedNow, availableActions: nextActions });

  for (const a of write.activity) {
    const interaction = a.action.startsWith('interaction.') && a.action !== 'interaction.created' && a.action !== 'interaction.expired';
    const type = interaction ? 'task.interaction_resolved' : FINER[a.action];
    if (type) add(type, { actor: actorOf(a), summary: SUMMARIES[a.action] ?? `${a.action.replace(/^\w+\./, '').replace(/_/g, ' ')}.`, action: a.action, details: a.details, availableActions: nextActions }, a.createdAt);
  }
  for (const c of write.comments) {
    const author = actorOf(c);
    const preview = cutText(c.body ?? '', PREVIEW_CHARS);
    add('task.comment.created', {
      actor: author, summary: cutText(`Comment from ${author.id}: ${preview}`, PREVIEW_CHARS),
      comment: { id: c.id, bodyPreview: preview, authorAgentId: c.authorAgentId, authorUser: c.authorUser, runId: c.runId, createdAt: c.createdAt },
      ...(author.role === 'linear' ? { provider: 'linear' } : {}),
    }, c.createdAt);
  }

  // Same decision, same ids (a replay or a second writer); a decision made again after a Reset differs in its state.
  const seed = `${next.id}:${next.version}:${next.updatedAt}:${next.status}`;
  return out.map((e, i) => ({ ...e, id: eventIdOf(`${seed}:${e.type}:${i}`), taskVersion: next.version }));
}

export function eventIdOf(text: string): string {
  return `evt_${cyrb53(text, 7)}${cyrb53(text, 11)}`;
}
