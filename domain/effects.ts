/**
 * What a decision asks the world to do once it is committed: wake an agent, say something upstream,
 * close or reopen the upstream issue, tell another task what became of this one. The workflow carries them out by activity, in order, and
 * carries the unfinished ones across continue-as-new; each has an id, so a retried delivery is
 * recognised (wakes are deduplicated by `wakeId`).
 */
export type WakeReason =
  | 'issue_assigned' | 'ci_failed' | 'changes_requested' | 'ready_to_ship'
  | 'issue_commented' | 'issue_comment_mentioned' | 'issue_reopened_via_comment'
  | 'issue_blockers_resolved' | 'issue_children_completed' | 'interaction_resolved';

export type Effect =
  | { kind: 'wake'; id: string; agentId: string; reason: WakeReason; summary: string; commentId?: string; details?: Record<string, unknown> }
  /** A message to another task's workflow (its parent, a blocker, a dependent): domain/collab.ts. */
  | { kind: 'notify'; id: string; issueId: string; message: import('./collab.js').CollabMessage }
  | { kind: 'upstream_comment'; id: string; body: string }
  | { kind: 'upstream_state'; id: string; state: 'open' | 'closed' };

/**
 * Adds effects to a queue; a wake for an agent already waiting to be woken merges into it (latest
 * reason wins), unless that wake is being delivered right now (`runningId`).
 */
export function enqueueEffects(queue: Effect[], added: Effect[], runningId?: string): Effect[] {
  const out = [...queue];
  for (const e of added) {
    if (e.kind === 'wake') {
      const i = out.findIndex((q) => q.kind === 'wake' && q.agentId === e.agentId && q.id !== runningId);
      if (i >= 0) {
        out[i] = { ...e, id: out[i]!.id };
        continue;
      }
    }
    out.push(e);
  }
  return out;
}
