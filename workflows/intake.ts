/**
 * The intake poller's workflow, started by the Schedule `intake/<sourceId>` (and by
 * `POST /api/sources/{id}/sync`): one poll of the source; its result lists what it found.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { IntakeActivities, IntakeReport } from './activity-types.js';

const { pollSource } = proxyActivities<IntakeActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3 },
});

export async function intakeWorkflow(input: { sourceId: string }): Promise<IntakeReport> {
  return pollSource(input.sourceId);
}
