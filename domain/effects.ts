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
  /** `agentId`: the body names that agent where it says `{agent}` (its name is looked up when the comment is written). */
  | { kind: 'upstream_comment'; id: string; body: string; agentId?: string }
  | { kind: 'upstream_state'; id: string; state: 'open' | 'closed' | 'cancelled' }
  /** A flaky-looking failure re-run once (domain/flaky.ts); `wake` is delivered instead if nothing could be re-run. */
  | { kind: 'ci_rerun'; id: string; prNumber: number; headSha: string; checks: string[]; reason: string; wake: { wakeId: string; agentId: string; summary: string } | null };

/**
 * The lane an effect waits in: effects of one lane are carried out one at a time, in order; lanes do
 * not wait on each other, so a wake target that is down (retried for hours) delays only that agent's
 * wakes — never a notice to another task or an upstream write-back (issue 13 §5).
 */
export function laneOf(e: Effect): string {
  if (e.kind === 'wake') return `wake:${e.agentId}`;
  return e.kind === 'notify' ? 'notify' : e.kind === 'ci_rerun' ? 'ci' : 'upstream';
}

/**
 * Adds effects to a queue; a wake for an agent already waiting to be woken merges into it (latest
 * reason wins), unless that wake is being delivered right now (`running`).
 */
export function enqueueEffects(queue: Effect[], added: Effect[], running: (id: string) => boolean = () => false): Effect[] {
  const out = [...queue];
  for (const e of added) {
    if (e.kind === 'wake') {
      const i = out.findIndex((q) => q.kind === 'wake' && q.agentId === e.agentId && !running(q.id));
      if (i >= 0) {
        out[i] = { ...e, id: out[i]!.id };
        continue;
      }
    }
    out.push(e);
  }
  return out;
}
