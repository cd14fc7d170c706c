/**
 * One Temporal Schedule per polled source, `intake/<sourceId>`: overlaps skipped, a bounded catch-up
 * window, paused with its source. The Web UI's Schedules page shows them with their last results.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { SourceRow } from '../db/sources.js';
import type { Config } from './config.js';

export const intakeScheduleId = (sourceId: string) => `intake/${sourceId}`;
export const INTAKE_WORKFLOW_TYPE = 'intakeWorkflow';

/** Creates or brings the source's Schedule in line with the source (interval, paused); deletes it when polling is off. */
export async function syncIntakeSchedule(client: Client, config: Config, source: Pick<SourceRow, 'id' | 'poll_interval_seconds' | 'paused' | 'owner' | 'repo'> & Partial<Pick<SourceRow, 'provider' | 'team_key'>>): Promise<string | null> {
  const scheduleId = intakeScheduleId(source.id);
  if (!source.poll_interval_seconds) {
    await deleteIntakeSchedule(client, source.id);
    return null;
  }
  const options = {
    spec: { intervals: [{ every: `${source.poll_interval_seconds} seconds` }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: INTAKE_WORKFLOW_TYPE,
      workflowId: `intake-poll/${source.id}`,
      taskQueue: config.taskQueue,
      args: [{ sourceId: source.id }],
      staticSummary: source.provider === 'linear' ? `Intake poll of Linear team ${source.team_key} (delivers to ${source.owner}/${source.repo})` : `Intake poll of ${source.owner}/${source.repo}`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '5 minutes' },
  };
  const note = source.paused ? 'paused with its source' : 'polling';
  try {
    await client.schedule.create({ scheduleId, ...options, state: { paused: source.paused, note } });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, ...options, state: { ...previous.state, paused: source.paused, note } }));
  }
  return scheduleId;
}

export async function deleteIntakeSchedule(client: Client, sourceId: string): Promise<void> {
  try {
    await client.schedule.getHandle(intakeScheduleId(sourceId)).delete();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}
