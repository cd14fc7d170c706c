/** The issue as agents see it: the state plus what this caller may do now. */
import { availableActions } from '../domain/actions.js';
import type { WorkflowStatus } from '../domain/projection.js';
import type { Lifecycle } from '../domain/lifecycle.js';
import type { Actor, IssueState, NewComment } from '../domain/task.js';

/**
 * `workflowStatus` is `running`, or how the task's workflow ended (an operator cancelled or
 * terminated it in Temporal): a closed task offers no actions until it is restored.
 */
export function presentIssue(s: IssueState, actor: Actor, workflowStatus: WorkflowStatus = 'running') {
  return {
    id: s.id,
    identifier: s.identifier ?? null,
    companyId: s.companyId,
    title: s.title,
    description: s.description,
    status: s.status,
    priority: s.priority,
    assigneeAgentId: s.assigneeAgentId,
    parentId: s.parentId,
    goalId: s.goalId,
    blockedByIssueIds: (s.collab?.blockedBy ?? []).map((b) => b.id),
    checkout: s.checkout ? { agentId: s.checkout.agentId, runId: s.checkout.runId, leaseExpiresAt: s.checkout.leaseExpiresAt } : null,
    // Paperclip's names for the same: the run holding the checkout; no user assignees or projects here.
    checkoutRunId: s.checkout?.runId ?? null,
    executionRunId: s.checkout?.runId ?? null,
    assigneeUserId: null,
    projectId: null,
    createdByAgentId: s.createdBy?.agentId ?? null,
    createdByUserId: s.createdBy?.user ?? null,
    availableActions: workflowStatus === 'running' ? availableActions(s, actor) : [],
    workflowStatus,
    version: s.version,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    startedAt: s.startedAt,
    completedAt: s.completedAt,
    ...(s.lifecycle ? lifecycleView(s.lifecycle) : {}),
  };
}

/** Stage, source (never a credential), routing with its reason, and the current submission in short. */
function lifecycleView(l: Lifecycle) {
  const d = l.delivery;
  return {
    stage: l.stage,
    source: l.source ? { provider: l.source.provider, key: l.source.key, url: l.source.url, repo: `${l.source.owner}/${l.source.repo}`, number: l.source.number, labels: l.source.labels, state: l.source.state } : null,
    routing: l.routing,
    delivery: d
      ? {
          submissionId: d.submissionId, mode: d.mode, prUrl: d.prUrl, prNumber: d.prNumber, head: d.head, base: d.base, headSha: d.headSha,
          ci: d.ci.overallStatus, review: d.review.outcome, shipped: d.ship, rollback: d.rollback,
        }
      : null,
  };
}

/** Ours and Paperclip's names (authorType, authorUserId, createdByRunId) side by side. */
export function presentComment(c: NewComment, issue?: Pick<IssueState, 'id' | 'companyId'>) {
  const authorType = c.authorAgentId ? 'agent' : c.authorUser === 'system' ? 'system' : 'user';
  return {
    id: c.id, ...(issue ? { issueId: issue.id, companyId: issue.companyId } : {}), body: c.body, authorType, authorAgentId: c.authorAgentId, authorUser: c.authorUser,
    authorUserId: authorType === 'user' ? c.authorUser : null, runId: c.runId, createdByRunId: c.runId, createdAt: c.createdAt, updatedAt: c.createdAt,
  };
}
