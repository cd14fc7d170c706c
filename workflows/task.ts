/**
 * One long-lived workflow per task, intake to ship: the source of truth for its state. Messages arrive
 * as Updates and signals (handlers.ts, delivery.ts), the read model follows through the projection loop
 * (projection.ts), the delivery loop routes, watches the PR and carries out effects (delivery.ts), and
 * the main loop keeps the lease timer, continues as new, and carries out a cancellation (lifecycle.ts).
 */
import { CancellationScope, patched } from '@temporalio/workflow';
import { useLegacyDescriptionHash } from '../domain/projection.js';
import { legacyTaskWorkflow } from './legacy/task-v1.js';
import type { LegacyTaskWorkflowInput } from './legacy/messages-v1.js';
import type { TaskWorkflowInput } from './messages.js';
import { deliveryLoop, registerDeliveryHandlers } from './task/delivery.js';
import { registerUpstreamHandlers } from './task/upstream.js';
import { EFFECT_LANES_PATCH, effectLanes, effectsLoop } from './task/effects.js';
import { registerCollabHandlers } from './task/collab.js';
import { registerHandlers } from './task/handlers.js';
import { lifecycle } from './task/lifecycle.js';
import { runProjection } from './task/projection.js';
import { TaskRun } from './task/run.js';

/** Runs recorded before the projection redesign lack this marker and replay through the v1 code. */
export const PROJECTION_V2_PATCH = 'projection-v2';
/** Runs recorded before the delivery pipeline have no routing, submit, ship or watcher. */
export const DELIVERY_PATCH = 'delivery-v1';

/** Runs recorded before it fingerprint a null description with the old memo (domain/projection.ts). */
export const PURE_FINGERPRINT_PATCH = 'pure-fingerprint-v1';

export async function taskWorkflow(input: TaskWorkflowInput): Promise<void> {
  useLegacyDescriptionHash(!patched(PURE_FINGERPRINT_PATCH));
  if (!patched(PROJECTION_V2_PATCH)) return legacyTaskWorkflow(input as unknown as LegacyTaskWorkflowInput);
  const run = new TaskRun(input);
  registerHandlers(run);
  registerCollabHandlers(run);
  // Not cancellable: carrying out a cancellation still needs the read model written.
  void CancellationScope.nonCancellable(() => runProjection(run));
  if (patched(DELIVERY_PATCH)) {
    registerDeliveryHandlers(run);
    registerUpstreamHandlers(run);
    void deliveryLoop(run);
    void (patched(EFFECT_LANES_PATCH) ? effectLanes(run) : effectsLoop(run));
  }
  await lifecycle(run, input.cancelRequested ?? false);
}
