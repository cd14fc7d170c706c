/**
 * Creating a task is two writes that must not drift apart: the read-model row and the workflow.
 * The row is inserted in a transaction that commits only after the workflow has started, so a failed
 * start leaves nothing behind; a retry (same Idempotency-Key, same ids) finishes the job.
 */
import type { Actor, IssueState } from '../../domain/task.js';
import { actorLabel } from '../../domain/task.js';
import { PRIORITY_RANK } from '../../domain/statuses.js';
import { issueParams, rowToState, upsertIssueSql, type IssueRow } from '../../db/issues-sql.js';
import type { ApiDeps } from '../deps.js';
import { uuidFromSeed } from '../ids.js';

export async function createIssueRecord({ pool, tasks }: ApiDeps, state: IssueState, actor: Actor): Promise<IssueState> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(upsertIssueSql, issueParams(state, PRIORITY_RANK[state.priority]));
    const { actorAgentId, actorUser } = actorLabel(actor);
    await client.query(
      `INSERT INTO activity_log (id, issue_id, company_id, action, actor_agent_id, actor_user, run_id, details, created_at)
       VALUES ($1,$2,$3,'issue.created',$4,$5,$6,$7,$8) ON CONFLICT (id) DO NOTHING`,
      [uuidFromSeed(`${state.id}:created`), state.id, state.companyId, actorAgentId, actorUser, actor.runId ?? null,
        { status: state.status, priority: state.priority, assigneeAgentId: state.assigneeAgentId, parentId: state.parentId }, state.createdAt],
    );
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
