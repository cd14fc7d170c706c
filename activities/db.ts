/** Read-model writes for the task workflows. Idempotent: a retried batch changes nothing twice. */
import type { IssueWrite } from '../domain/task.js';
import type { Pool } from '../db/pool.js';
import { logger } from '../runtime/logger.js';
import { applyIssueWrite } from '../db/issue-writes.js';

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
        for (const write of writes) await applyIssueWrite(client, write);
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
