/**
 * What a task's workflow run holds, asked by query (for a closed run, a worker replays its history to
 * answer): the reconciler compares with it, `admin restore` starts again from it.
 */
import type { Client } from '@temporalio/client';
import { fingerprintOf } from '../domain/projection.js';
import type { IssueState } from '../domain/task.js';
import { projectionQuery, stateQuery, type TaskProjection, workflowIdFor } from '../workflows/messages.js';

/** A projection known only by its state (a v1 run's answer, or the read model's row): nothing pending, nothing claimed before it. */
export function projectionOfState(found: IssueState): TaskProjection {
  // A v1 state has no description version: count its description as changed at its version.
  const state = { ...found, descriptionVersion: found.descriptionVersion ?? found.version };
  return { state, fingerprint: fingerprintOf(state), keep: [], pending: { comments: [], activity: [] }, projectedVersion: state.version };
}

/** The run's projection; a v1 run answers only its state. Undefined if the run answers neither. `within` bounds each call. */
export async function queryTaskProjection(
  client: Client,
  issueId: string,
  runId: string,
  within: <T>(call: () => Promise<T>) => Promise<T> = (call) => call(),
): Promise<TaskProjection | undefined> {
  const handle = client.workflow.getHandle(workflowIdFor(issueId), runId);
  try {
    return await within(() => handle.query(projectionQuery));
  } catch {
    try {
      return projectionOfState(await within(() => handle.query(stateQuery)));
    } catch {
      return undefined;
    }
  }
}
