/**
 * Creating a task is two writes that must not drift apart: the read-model row and the workflow.
 * The row is inserted in a transaction that commits only after the workflow has started, so a failed
 * start leaves nothing behind; a retry (same Idempotency-Key, same ids) finishes the job.
 */
import type { Actor, IssueState } from '../../domain/task.js';
import { actorLabel } from '../../domain/task.js';
import { applyIssueWrite } from '../../db/issue-writes.js';
import { rowToState, type IssueRow } from '../../db/issues-sql.js';
import type { ApiDeps } from '../deps.js';
import { uuidFromSeed } from '../ids.js';

export async function createIssueRecord({ pool, tasks }: ApiDeps, state: IssueState, actor: Actor): Promise<IssueState> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { actorAgentId, actorUser } = actorLabel(actor);
    const created = {
      id: uuidFromSeed(`${state.id}:created`),
      action: 'issue.created',
      actorAgentId,
      actorUser,
      runId: actor.runId ?? null,
      details: { status: state.status, priority: state.priority, assigneeAgentId: state.assigneeAgentId, parentId: state.parentId },
      createdAt: state.createdAt,
    };
    await applyIssueWrite(client, { issue: state, comments: [], activity: [created] });
    await tasks.start(state);
    await client.query('COMMIT');
    const { rows } = await client.query<IssueRow>('SELECT * FROM issues WHERE id = $1', [state.id]);
    return rowToState(rows[0]!);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
