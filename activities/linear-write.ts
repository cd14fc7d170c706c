/**
 * AgentRail's Linear routes, the side effect: a comment on a Linear task's issue, or a move of it to a
 * workflow state, with the task's Linear source's key. A caller waits on it, so a rate limit is waited
 * out only briefly and is otherwise a verdict (429 with when to come back); Linear refusing the write is
 * 502 `upstream_error`, as AgentRail answers; Linear not answering stays retryable (503 at the deadline).
 */
import type { Pool } from '../db/pool.js';
import { getDeliverySource } from '../db/sources.js';
import type { LinearWrite, LinearWriteResult } from '../domain/linear-sync.js';
import type { SecretBox } from '../runtime/secrets.js';
import { upstreamOpenClosed } from '../domain/linear.js';
import { createComment, linearClient, moveToState, workflowStateOf } from './linear/index.js';
import { ProviderRefusal } from './providers/ports.js';

/** How long a waiting caller's write may sit out Linear's rate limit before it is answered 429. */
const CALLER_RATE_LIMIT_WAIT_MS = 10_000;

/**
 * `mayClose: false` (an agent asking): a move to a completed or canceled state is refused before Linear
 * is changed. Such a move closes the task (the upstream-close rule), and an agent is never offered that:
 * it finishes a task by shipping it. Absent (histories recorded before it existed): allowed, as then.
 */
export async function linearWrite(pool: Pool, box: SecretBox, input: { sourceId: string; linearIssueId: string; write: LinearWrite; mayClose?: boolean }): Promise<LinearWriteResult> {
  const source = await getDeliverySource(pool, input.sourceId);
  if (source.provider !== 'linear') throw new ProviderRefusal('linear_source_not_found', 'Linear issue source not found for task.', { availableActions: ['repair_task_source'] });
  const { apiKey } = JSON.parse(box.open(source.credential_sealed, `the credential of source ${source.id}`)) as { apiKey: string };
  const client = linearClient({ apiKey, apiUrl: source.base_url ?? undefined });
  const rl = { maxWaitMs: CALLER_RATE_LIMIT_WAIT_MS };
  try {
    if (input.write.kind === 'comment') {
      const r = await createComment(client, input.linearIssueId, input.write.body, rl);
      // Our own comment comes back by webhook: recorded, so it is not taken for a person's.
      if (r.commentId) await pool.query('INSERT INTO upstream_comments (source_id, comment_id, issue_id) SELECT $1, $2, issue_id FROM source_items WHERE source_key = $3 ON CONFLICT DO NOTHING', [source.id, r.commentId, `${source.company_id}|linear:${input.linearIssueId}`]);
      return { kind: 'comment', linearIssueId: input.linearIssueId, commentId: r.commentId, commentUrl: r.commentUrl };
    }
    if (input.mayClose === false) {
      const target = await workflowStateOf(client, input.write.stateId, rl);
      if (upstreamOpenClosed(target.type) === 'closed') {
        throw new ProviderRefusal('invalid_transition', `Moving the Linear issue to ${target.name} (${target.type}) would close the task, which an agent does not do: ship it (Linear then moves to its completed state), or ask an operator`, {
          stateId: target.id, stateName: target.name, stateType: target.type, availableActions: ['submit', 'ship', 'blocker'],
        });
      }
    }
    const r = await moveToState(client, input.linearIssueId, input.write.stateId, rl);
    if (r.issueId !== input.linearIssueId) throw new ProviderRefusal('upstream_error', 'Linear answered about another issue', { linearIssueId: input.linearIssueId, answered: r.issueId });
    return { kind: 'state', linearIssueId: input.linearIssueId, stateId: r.stateId, stateName: r.stateName, stateType: r.stateType };
  } catch (err) {
    throw asCallerVerdict(err);
  }
}

function asCallerVerdict(err: unknown): unknown {
  if (err instanceof ProviderRefusal && (err.code === 'provider_rejected' || err.code === 'validation_error' || err.code === 'not_found')) {
    return new ProviderRefusal('upstream_error', `Linear GraphQL error: ${err.message.slice(0, 200)}`, err.details);
  }
  if (err instanceof Error && /rate limit/i.test(err.message) && !(err instanceof ProviderRefusal)) {
    const seconds = Number(/(\d+) s away/.exec(err.message)?.[1] ?? 60);
    return new ProviderRefusal('rate_limited', `Linear's rate limit for this key: try again in ${seconds} s`, { retryAfterSeconds: seconds, availableActions: ['retry'] });
  }
  return err;
}
