/**
 * The reconciler's workflow, started by the Schedule `switchyard-reconcile:<task queue>` (the Web
 * UI's Schedules page shows it; its result lists what it found and repaired).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { ReconcileActivities, ReconcileOptions, ReconcileReport } from './activity-types.js';

const { reconcileIssues } = proxyActivities<ReconcileActivities>({ startToCloseTimeout: '10 minutes', retry: { maximumAttempts: 3 } });

export async function reconcileWorkflow(opts: ReconcileOptions): Promise<ReconcileReport> {
  return reconcileIssues(opts);
}
