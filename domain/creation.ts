/** A new task: its first state and the `issue.created` entry, the same whoever creates it. */
import { emptyCollab } from './collab.js';
import type { Priority, Status } from './statuses.js';
import { actorLabel, type ActivityEntry, type Actor, type IssueState } from './task.js';

export interface NewIssue {
  id: string;
  companyId: string;
  title: string;
  description?: string | null;
  status?: 'backlog' | 'todo';
  priority?: Priority;
  assigneeAgentId?: string | null;
  parentId?: string | null;
  goalId?: string | null;
  createdBy?: { agentId: string | null; user: string | null };
  /** Issues it waits on, and whether each is done already. */
  blockedBy?: Array<{ id: string; resolved: boolean }>;
}

export function initialIssue(input: NewIssue, now: number): IssueState {
  const at = new Date(now).toISOString();
  // Assigned work is ready to start; unassigned work waits in the backlog.
  const status: Status = input.status ?? (input.assigneeAgentId ? 'todo' : 'backlog');
  return {
    id: input.id,
    companyId: input.companyId,
    title: input.title,
    description: input.description ?? null,
    descriptionVersion: 1,
    status,
    priority: input.priority ?? 'medium',
    assigneeAgentId: input.assigneeAgentId ?? null,
    parentId: input.parentId ?? null,
    goalId: input.goalId ?? null,
    checkout: null,
    version: 1,
    expiryStreak: 0,
    createdAt: at,
    updatedAt: at,
    startedAt: null,
    completedAt: null,
    collab: { ...emptyCollab(), blockedBy: input.blockedBy ?? [] },
    ...(input.createdBy ? { createdBy: input.createdBy } : {}),
  };
}

export function createdEntry(state: IssueState, actor: Actor, id: string): ActivityEntry {
  return {
    id,
    action: 'issue.created',
    ...actorLabel(actor),
    runId: actor.runId ?? null,
    details: { status: state.status, priority: state.priority, assigneeAgentId: state.assigneeAgentId, parentId: state.parentId },
    createdAt: state.createdAt,
    version: state.version,
  };
}

/** `Acme Robotics` → `ACME`: the first four letters of the name, capitalised (`TASK` when it has none). */
export function issuePrefixOf(name: string): string {
  const letters = name.replace(/[^A-Za-z]/g, '').slice(0, 4).toUpperCase();
  return letters || 'TASK';
}
