/** The issue row as the workflow's snapshot; the only place that maps IssueState to and from SQL. */
import type { IssueState } from '../domain/task.js';

const COLUMNS = [
  'id', 'company_id', 'title', 'description', 'status', 'priority', 'priority_rank', 'assignee_agent_id', 'parent_id',
  'goal_id', 'checkout', 'version', 'expiry_streak', 'created_at', 'updated_at', 'started_at', 'completed_at',
];

/** Insert, or move the row forward; an older snapshot arriving late never overwrites a newer one. */
export const upsertIssueSql = `
  INSERT INTO issues (${COLUMNS.join(', ')})
  VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
  ON CONFLICT (id) DO UPDATE SET ${COLUMNS.slice(2).map((c) => `${c} = EXCLUDED.${c}`).join(', ')}
  WHERE issues.version < EXCLUDED.version`;

export function issueParams(s: IssueState, priorityRank: number): unknown[] {
  return [
    s.id, s.companyId, s.title, s.description, s.status, s.priority, priorityRank, s.assigneeAgentId, s.parentId,
    s.goalId, s.checkout ? JSON.stringify(s.checkout) : null, s.version, s.expiryStreak, s.createdAt, s.updatedAt,
    s.startedAt, s.completedAt,
  ];
}

export interface IssueRow {
  id: string;
  company_id: string;
  title: string;
  description: string | null;
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
}

export function rowToState(r: IssueRow): IssueState {
  return {
    id: r.id,
    companyId: r.company_id,
    title: r.title,
    description: r.description,
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
  };
}
