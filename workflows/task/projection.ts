/**
 * The projection loop: drains the outbox into the read model with a regular activity, scheduled in
 * the workflow task after the one that made the change, so it only ever writes what is durable. The
 * API normally got there first (the activity then finds the row current); if the API died, this is
 * what makes the read model converge. Retries of a Postgres outage happen inside Temporal without
 * adding history; a refusal Postgres would repeat forever is recorded and skipped, never retried.
 */
import { ActivityFailure, ApplicationFailure, condition, log, proxyActivities, sleep } from '@temporalio/workflow';
import { PROJECTION_REJECTED, type TaskActivities } from '../activity-types.js';
import type { TaskRun } from './run.js';

const activities = proxyActivities<TaskActivities>({
  // A write is one statement: 10 s without an answer means the worker died, and another one retries it.
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', nonRetryableErrorTypes: [PROJECTION_REJECTED] },
});

export async function runProjection(run: TaskRun): Promise<never> {
  for (;;) {
    await condition(() => run.outbox.dirty);
    const taken = run.outbox.take(run.state, run.keep, run.workflowStatus);
    try {
      const outcome = await activities.projectIssue(taken.write);
      run.outbox.settle(taken, run.state);
      run.outbox.check(outcome, run.state);
      run.publishSearchAttributes();
    } catch (err) {
      if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === PROJECTION_REJECTED) {
        // The activity recorded it in projection_failures; the next change writes the row again.
        log.error('the read model refused a write of this task for good; skipped and recorded for the reconciler', { version: taken.write.issue.version, error: err.cause.message });
        run.outbox.settle(taken, run.state);
        run.publishSearchAttributes();
        continue;
      }
      log.warn('projection activity failed; trying again shortly', { error: String(err) });
      await sleep('10 seconds');
    }
  }
}
