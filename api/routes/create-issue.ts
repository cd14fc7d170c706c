/**
 * Creating a task is two writes that must not drift apart: the read-model row and the workflow.
 * The row is inserted in a transaction that commits only after the workflow has started, so a failed
 * start leaves nothing behind; a retry (same Idempotency-Key, same ids) finishes the job.
 */
import { createdEntry } from '../../domain/creation.js';
import { DomainError } from '../../domain/errors.js';
import { fingerprintOf } from '../../domain/projection.js';
import type { Actor, IssueState } from '../../domain/task.js';
import { applyProjection } from '../../db/projection.js';
import { inTransaction } from '../../db/transaction.js';
import { rowToState, type IssueRow } from '../../db/issues-sql.js';
import type { ApiDeps } from '../deps.js';
import { uuidFromSeed } from '../../runtime/ids.js';

export async function createIssueRecord({ pool, tasks }: ApiDeps, state: IssueState, actor: Actor, deadline: number): Promise<IssueState> {
  return inTransaction(pool, async (client) => {
    // Its goal cannot be deleted while it is being created (the delete waits for this row lock, then sees the issue).
    if (state.goalId && !(await client.query('SELECT 1 FROM goals WHERE id::text = $1 AND company_id = $2 FOR SHARE', [state.goalId, state.companyId])).rowCount) {
      throw new DomainError('not_found', 'The goal does not exist in this company', { goalId: state.goalId });
    }
    const created = createdEntry(state, actor, uuidFromSeed(`${state.id}:created`));
    await applyProjection(client, { issue: state, fingerprint: fingerprintOf(state), comments: [], activity: [created], keep: [created.id], workflowStatus: 'running' });
    await tasks.start(state, deadline);
    const { rows } = await client.query<IssueRow>('SELECT * FROM issues WHERE id = $1', [state.id]);
    return rowToState(rows[0]!);
  });
}
