/**
 * The reconciler runs as a Temporal Schedule, one per task queue: create it, or bring an existing one
 * to the configured interval. Overlaps are skipped; a worker down for a while catches up once.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Config } from './config.js';

export const reconcileScheduleId = (taskQueue: string) => `switchyard-reconcile:${taskQueue}`;

export async function ensureReconcileSchedule(client: Client, config: Config): Promise<string | undefined> {
  const every = config.reconcileEveryMinutes;
  const scheduleId = reconcileScheduleId(config.taskQueue);
  if (!every) return undefined;
  const options = {
    spec: { intervals: [{ every: `${every} minutes` }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: 'reconcileWorkflow',
      taskQueue: config.taskQueue,
      // Each pass looks back over two intervals and a margin, so a late or skipped pass misses nothing.
      args: [{ sinceMinutes: every * 2 + 5 }],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '10 minutes' },
  };
  try {
    await client.schedule.create({ scheduleId, ...options });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, ...options, state: previous.state }));
  }
  return scheduleId;
}
