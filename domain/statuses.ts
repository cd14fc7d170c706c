/** Issue statuses, priorities and the one transition table every path obeys. */

export const STATUSES = ['backlog', 'todo', 'in_progress', 'in_review', 'blocked', 'paused', 'done', 'cancelled'] as const;
export type Status = (typeof STATUSES)[number];

export const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Lower rank sorts first in lists. */
export const PRIORITY_RANK: Record<Priority, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** Statuses a task can be created in. */
export const CREATABLE_STATUSES = ['backlog', 'todo'] as const;

/** Statuses from which no agent work continues. */
export const TERMINAL_STATUSES: readonly Status[] = ['done', 'cancelled'];

/**
 * from → allowed targets. in_progress is entered only by checkout; done only by close-out
 * (POST /close or PATCH status=done, which follows the same rules). A same-status "transition"
 * is not in the table: an update that does not change the status is not a transition.
 */
export const TRANSITIONS: Record<Status, readonly Status[]> = {
  backlog: ['todo', 'in_progress', 'blocked', 'cancelled'],
  todo: ['backlog', 'in_progress', 'blocked', 'cancelled'],
  in_progress: ['todo', 'in_review', 'blocked', 'paused', 'done', 'cancelled'],
  in_review: ['in_progress', 'todo', 'blocked', 'done', 'cancelled'],
  blocked: ['backlog', 'todo', 'in_progress', 'cancelled'],
  paused: ['todo', 'in_progress', 'blocked', 'cancelled'],
  done: ['todo'],
  cancelled: ['backlog', 'todo'],
};

export function canTransition(from: Status, to: Status): boolean {
  return TRANSITIONS[from].includes(to);
}
