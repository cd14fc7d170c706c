/** The issue as agents see it: the state plus what this caller may do now. */
import { availableActions } from '../domain/actions.js';
import type { Actor, IssueState } from '../domain/task.js';

export function presentIssue(s: IssueState, actor: Actor) {
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
    availableActions: availableActions(s, actor),
    version: s.version,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    startedAt: s.startedAt,
    completedAt: s.completedAt,
  };
}
