/** The issue as agents see it: the state plus what this caller may do now. */
import { availableActions } from '../domain/actions.js';
import type { WorkflowStatus } from '../domain/projection.js';
import type { Actor, IssueState, NewComment } from '../domain/task.js';

/**
 * `workflowStatus` is `running`, or how the task's workflow ended (an operator cancelled or
 * terminated it in Temporal): a closed task offers no actions until it is restored.
 */
export function presentIssue(s: IssueState, actor: Actor, workflowStatus: WorkflowStatus = 'running') {
  return {
    id: s.id,
    companyId: s.companyId,
    title: s.title,
    description: s.description,
    status: s.status,
    priority: s.priority,
    assigneeAgentId: s.assigneeAgentId,
    parentId: s.parentId,
    goalId: s.goalId,
    checkout: s.checkout ? { agentId: s.checkout.agentId, runId: s.checkout.runId, leaseExpiresAt: s.checkout.leaseExpiresAt } : null,
    availableActions: workflowStatus === 'running' ? availableActions(s, actor) : [],
    workflowStatus,
    version: s.version,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    startedAt: s.startedAt,
    completedAt: s.completedAt,
  };
}

export function presentComment(c: NewComment) {
  return { id: c.id, body: c.body, authorAgentId: c.authorAgentId, authorUser: c.authorUser, runId: c.runId, createdAt: c.createdAt };
}
