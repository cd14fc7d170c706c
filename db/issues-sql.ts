/** The issue row as the workflow's snapshot: the only place that maps IssueState from SQL. */
import type { WorkflowStatus } from '../domain/projection.js';
import type { IssueState } from '../domain/task.js';

export interface IssueRow {
  id: string;
  company_id: string;
  title: string;
  description: string | null;
  description_version: number;
  status: IssueState['status'];
  priority: IssueState['priority'];
  assignee_agent_id: string | null;
  parent_id: string | null;
  goal_id: string | null;
  checkout: IssueState['checkout'];
  version: number;
  expiry_streak: number;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  completed_at: string | null;
  fingerprint: string | null;
  workflow_status: WorkflowStatus;
  identifier?: string | null;
  lifecycle?: IssueState['lifecycle'];
  collab?: IssueState['collab'] | null;
  created_by_agent_id?: string | null;
  created_by_user?: string | null;
}

export function rowToState(r: IssueRow): IssueState {
  return {
    id: r.id,
    companyId: r.company_id,
    title: r.title,
    description: r.description,
    descriptionVersion: r.description_version,
    status: r.status,
    priority: r.priority,
    assigneeAgentId: r.assignee_agent_id,
    parentId: r.parent_id,
    goalId: r.goal_id,
    checkout: r.checkout,
    version: r.version,
    expiryStreak: r.expiry_streak,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    startedAt: r.started_at,
    completedAt: r.completed_at,
    // Only tasks that have them carry these (tasks from before the delivery pipeline keep their shape).
    ...(r.identifier ? { identifier: r.identifier } : {}),
    ...(r.lifecycle ? { lifecycle: r.lifecycle } : {}),
    ...(r.collab ? { collab: r.collab } : {}),
    ...(r.created_by_agent_id || r.created_by_user ? { createdBy: { agentId: r.created_by_agent_id ?? null, user: r.created_by_user ?? null } } : {}),
  };
}

/** The issue as the read model holds it, with what only the read model knows. */
export interface StoredIssue {
  state: IssueState;
  fingerprint: string | null;
  workflowStatus: WorkflowStatus;
}

export function rowToStored(r: IssueRow): StoredIssue {
  return { state: rowToState(r), fingerprint: r.fingerprint, workflowStatus: r.workflow_status };
}
