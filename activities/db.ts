/** Read-model writes for the task workflows. Idempotent: a retried batch changes nothing twice. */
import { PRIORITY_RANK } from '../domain/statuses.js';
import type { IssueWrite } from '../domain/task.js';
import type { Pool } from '../db/pool.js';
import { logger } from '../runtime/logger.js';
import { upsertIssueSql, issueParams } from '../db/issues-sql.js';

export interface DbActivities {
  persistIssueWrites(writes: IssueWrite[]): Promise<void>;
}

export function createDbActivities(pool: Pool, faults: { persistDelayMs?: number } = {}): DbActivities {
  return {
    async persistIssueWrites(writes) {
      // A test-only pause before commit, so a test can kill the worker in the middle of a write.
      if (faults.persistDelayMs) {
        logger.warn({ delayMs: faults.persistDelayMs, writes: writes.length }, 'fault injection: pausing before commit');
        await new Promise((r) => setTimeout(r, faults.persistDelayMs));
      }
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (const write of writes) {
          await client.query(upsertIssueSql, issueParams(write.issue, PRIORITY_RANK[write.issue.priority]));
          for (const c of write.comments) {
            await client.query(
              `INSERT INTO comments (id, issue_id, company_id, body, author_agent_id, author_user, run_id, created_at)
               VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (id) DO NOTHING`,
              [c.id, write.issue.id, write.issue.companyId, c.body, c.authorAgentId, c.authorUser, c.runId, c.createdAt],
            );
          }
          for (const a of write.activity) {
            await client.query(
              `INSERT INTO activity_log (id, issue_id, company_id, action, actor_agent_id, actor_user, run_id, details, created_at)
               VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (id) DO NOTHING`,
              [a.id, write.issue.id, write.issue.companyId, a.action, a.actorAgentId, a.actorUser, a.runId, a.details, a.createdAt],
            );
          }
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
  };
}
