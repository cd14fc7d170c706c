/**
 * The read model's writer on the worker side. A write Postgres refuses for a reason that would repeat
 * forever (bad data, a constraint) is recorded in projection_failures and fails as non-retryable
 * `projection_rejected`, so it is never retried in silence; an outage is retried by Temporal.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { fingerprintOf } from '../domain/projection.js';
import type { IssueWrite } from '../domain/task.js';
import { applyProjection, isTransientDbError, recordRefusedWrite } from '../db/projection.js';
import type { Pool } from '../db/pool.js';
import { logger } from '../runtime/logger.js';
import { PROJECTION_REJECTED, type CancelRequest, type LegacyDbActivities, type TaskActivities } from '../workflows/activity-types.js';

export function createProjectionActivities(pool: Pool, client: Client): TaskActivities & LegacyDbActivities {
  return {
    async projectIssue(write) {
      try {
        return await applyProjection(pool, write);
      } catch (err) {
        const { id, version } = write.issue;
        if (isTransientDbError(err)) {
          logger.warn({ err, issueId: id, version }, 'read-model write failed; Temporal retries it');
          throw err;
        }
        const code = (err as { code?: string }).code ?? null;
        const message = (err as Error).message ?? String(err);
        logger.error({ err, issueId: id, version, code }, 'Postgres refused a read-model write for good; recorded, not retried');
        await recordRefusedWrite(pool, write, err).catch((recordErr) => logger.error({ err: recordErr, issueId: id }, 'could not record the refused write'));
        throw ApplicationFailure.create({ type: PROJECTION_REJECTED, message: `${code ?? 'error'}: ${message}`, nonRetryable: true });
      }
    },

    async describeCancelRequest(workflowId, runId): Promise<CancelRequest> {
      // The request is among the newest events: read the history backwards.
      const { history } = await client.workflowService.getWorkflowExecutionHistoryReverse({
        namespace: client.options.namespace,
        execution: { workflowId, runId },
        maximumPageSize: 100,
      });
      const event = history?.events?.find((e) => e.workflowExecutionCancelRequestedEventAttributes);
      const attrs = event?.workflowExecutionCancelRequestedEventAttributes;
      return { identity: attrs?.identity || null, reason: attrs?.cause || null };
    },

    // The v1 workflow's writes: full snapshots, applied through today's rules.
    async persistIssueWrites(writes: IssueWrite[]) {
      const db = await pool.connect();
      let failure: Error | undefined;
      try {
        await db.query('BEGIN');
        for (const w of writes) {
          const issue = { ...w.issue, descriptionVersion: w.issue.descriptionVersion ?? w.issue.version };
          const version = issue.version;
          await applyProjection(db, {
            issue,
            fingerprint: fingerprintOf(issue),
            comments: w.comments.map((c) => ({ ...c, version: c.version ?? version })),
            activity: w.activity.map((a) => ({ ...a, version: a.version ?? version })),
            keep: [...w.comments, ...w.activity].map((e) => e.id),
            workflowStatus: 'running',
          });
        }
        await db.query('COMMIT');
      } catch (err) {
        failure = err as Error;
        await db.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        db.release(failure);
      }
    },
  };
}
