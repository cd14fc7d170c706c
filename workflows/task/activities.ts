/**
 * The task workflow's activity stubs, by how long their callers wait and how hard they retry: the
 * delivery phases (workflows/task/delivery.ts) and the effects (workflows/task/effects.ts) share them.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { DeliveryActivities } from '../activity-types.js';

/**
 * Calls a caller waits on (submit, ship, rollback, route). An outage is retried for up to an hour: the
 * caller hears 503 provider_unavailable at its deadline, and the same Idempotency-Key (the same update
 * id) attaches to the operation still running, so it completes once, never twice. A verdict fails at once.
 */
export const provider = proxyActivities<DeliveryActivities>({
  // Writes queue behind GitHub's spacing per credential (3 s between PR creations): allow for a queue;
  // the heartbeat notices a dead worker long before that.
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});
/**
 * Linear writes a caller waits on (AgentRail's Linear routes): a rate limit or a refusal is a verdict
 * at once; an outage is tried a few times within the caller's patience, then answered 503.
 */
export const linear = proxyActivities<DeliveryActivities>({
  startToCloseTimeout: '40 seconds',
  scheduleToCloseTimeout: '50 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 seconds', maximumAttempts: 3 },
});
/** Work nobody waits on: observing the PR, routing, upstream comments. */
export const background = proxyActivities<DeliveryActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});
/**
 * Wakes: retried with backoff for hours; a process wake runs as long as the agent does (heartbeating).
 * They run on `<task queue>-wakes`, served by workers where the agents live (worker/create-worker.ts).
 */
export const wakes = () =>
  proxyActivities<DeliveryActivities>({
    taskQueue: `${workflowInfo().taskQueue}-wakes`,
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '1 minute',
    scheduleToCloseTimeout: '24 hours',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
  });
