/**
 * One task per pull request. A submit opens a PR for its head branch, or reuses the open one: naming
 * another task's branch would otherwise hand this task that task's PR (to merge under the wrong task,
 * then revert). The first task to open or reuse a PR claims it; any other task is refused.
 */
import type { Pool } from '../db/pool.js';
import { DomainError } from '../domain/errors.js';

export async function claimPullRequest(pool: Pool, c: { sourceId: string; prNumber: number; taskId: string; head: string }): Promise<void> {
  const { rows } = await pool.query<{ task_id: string }>(
    `INSERT INTO pull_request_claims (source_id, pr_number, task_id) VALUES ($1, $2, $3)
     ON CONFLICT (source_id, pr_number) DO UPDATE SET source_id = EXCLUDED.source_id
     RETURNING task_id`,
    [c.sourceId, c.prNumber, c.taskId],
  );
  const owner = rows[0]!.task_id;
  if (owner !== c.taskId) {
    throw new DomainError('pull_request_taken', `The open pull request #${c.prNumber} for "${c.head}" belongs to another task: push your work to a branch of your own and submit that`, { prNumber: c.prNumber, head: c.head });
  }
}
