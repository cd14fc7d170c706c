/**
 * One event subscription's deliveries, for as long as it is active (workflow id
 * `event-subscription/<id>`). A cursor (the last sequence handled) moves through the task event log:
 * an activity pages the matching events after it (ids and sequences only), and each is delivered by
 * its own activity, one at a time in sequence order, retried on AgentRail's schedule. Between pages
 * the workflow sleeps until the worker's dispatcher nudges it (new events may match) or, failing that,
 * for five minutes. Deactivation (a signal) cancels whatever is in flight; a 410 ends it too.
 */
import { CancellationScope, condition, continueAsNew, isCancellation, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { RETRY_BACKOFF_COEFFICIENT, RETRY_POLICY } from '../domain/event-subscriptions.js';
import {
  deactivateSignal,
  eventsAvailableSignal,
  webhookQueueOf,
  type DeliveryOutcome,
  type EventDeliveryActivities,
  type EventRef,
  type SubscriptionWorkflowInput,
} from './event-subscription/contract.js';

const PAGE = 50;
const IDLE_CHECK_MS = 5 * 60_000;

/** How the run ended: deactivated (signal), disabled (found so, or 410), or continued as new (never returned). */
export async function eventSubscriptionWorkflow(input: SubscriptionWorkflowInput): Promise<'deactivated' | 'disabled'> {
  let nudged = true;
  let stopped = false;
  const work = new CancellationScope();
  setHandler(eventsAvailableSignal, () => {
    nudged = true;
  });
  setHandler(deactivateSignal, () => {
    stopped = true;
    work.cancel();
  });

  const taskQueue = webhookQueueOf(workflowInfo().taskQueue);
  // Reads of our own database: retried until it answers (the workflow has nothing else to do meanwhile).
  const db = proxyActivities<EventDeliveryActivities>({ taskQueue, startToCloseTimeout: '1 minute', retry: { initialInterval: '1 second', maximumInterval: '1 minute' } });
  // One attempt = one POST (10 s timeout) and its bookkeeping. AgentRail's 8 attempts: 10, 30, 90, 270, 810, 2430, 3600 s apart.
  const { deliverEvent } = proxyActivities<EventDeliveryActivities>({
    taskQueue,
    startToCloseTimeout: '30 seconds',
    retry: {
      maximumAttempts: RETRY_POLICY.maxAttempts,
      initialInterval: input.retry?.initialIntervalMs ?? RETRY_POLICY.initialBackoffSeconds * 1000,
      backoffCoefficient: RETRY_BACKOFF_COEFFICIENT,
      maximumInterval: input.retry?.maximumIntervalMs ?? RETRY_POLICY.maxBackoffSeconds * 1000,
    },
  });

  const deliver = async (event: EventRef): Promise<DeliveryOutcome> => {
    try {
      return await deliverEvent({ subscriptionId: input.subscriptionId, event, maxAttempts: RETRY_POLICY.maxAttempts });
    } catch (err) {
      if (isCancellation(err)) throw err;
      // Every attempt failed without an answer to record (timeouts, a worker dying): say so, and move on.
      await db.recordGaveUp({ subscriptionId: input.subscriptionId, event, error: err instanceof Error ? err.message : String(err) });
      return 'exhausted';
    }
  };

  const historyIsLong = () => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || (input.continueAsNewAfterEvents !== undefined && info.historyLength >= input.continueAsNewAfterEvents);
  };

  try {
    return await work.run(async (): Promise<'deactivated' | 'disabled'> => {
      let cursor = input.cursor ?? (await db.subscriptionCursor(input.subscriptionId));
      if (cursor === null) return 'disabled';
      for (;;) {
        nudged = false;
        const page = await db.nextEventPage({ subscriptionId: input.subscriptionId, after: cursor, limit: PAGE });
        if (page.status !== 'active') return 'disabled';
        for (const event of page.events) {
          const outcome = await deliver(event);
          if (outcome === 'gone' || outcome === 'inactive') return 'disabled';
          cursor = event.sequence;
        }
        cursor = Math.max(cursor, page.scannedThrough);
        if (historyIsLong()) await continueAsNew<typeof eventSubscriptionWorkflow>({ ...input, cursor });
        if (!page.more) await condition(() => nudged || stopped, input.idleCheckMs ?? IDLE_CHECK_MS);
      }
    });
  } catch (err) {
    if (stopped && isCancellation(err)) return 'deactivated';
    throw err;
  }
}
