/** Linear's workflow states and priorities in our terms (AgentRail's table, first match wins). Pure. */
import type { Priority, Status } from './statuses.js';

export type LinearStatus = Extract<Status, 'blocked' | 'in_progress' | 'done' | 'cancelled' | 'todo'>;

/**
 * A state named like "Blocked" is blocked whatever its type (teams model blocking as a started state);
 * then started → in_progress, completed → done, canceled → cancelled; triage, backlog, unstarted,
 * missing or anything new → todo.
 */
export function linearStatus(state: { name?: string | null; type?: string | null } | null | undefined): LinearStatus {
  if (state?.name && /block/i.test(state.name)) return 'blocked';
  switch (state?.type) {
    case 'started':
      return 'in_progress';
    case 'completed':
      return 'done';
    case 'canceled':
      return 'cancelled';
    default:
      return 'todo';
  }
}

const PRIORITY_BY_LINEAR: Record<number, Priority> = { 1: 'critical', 2: 'high', 3: 'medium', 4: 'low' };

/** Linear's 1 urgent … 4 low; 0 ("no priority") or anything else has no opinion (null). */
export function linearPriority(n: number | null | undefined): Priority | null {
  return typeof n === 'number' ? (PRIORITY_BY_LINEAR[n] ?? null) : null;
}

/** Where an issue tracker has only open/closed (our upstream model), completed and canceled are closed. */
export function upstreamOpenClosed(stateType: string | null | undefined): 'open' | 'closed' {
  return stateType === 'completed' || stateType === 'canceled' ? 'closed' : 'open';
}
