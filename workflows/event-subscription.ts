/**
 * One event subscription's deliveries, for as long as it is active (workflow id
 * `event-subscription/<id>`). A cursor (the last sequence handled) moves through the task event log:
 * one activity takes the next page of matching events after it and POSTs them one at a time in
 * sequence order (attempt 1 each); the first that needs a retry stops the batch and goes on alone to
 * the one-event activity with the rest of AgentRail's schedule (attempts 2..8), then batches resume.
 * Only ids and sequences cross the workflow. (Runs from before the `delivery-batches` patch paged ids
 * and gave each event its own activity; that path stays for their replay.) Between pages
 * the workflow sleeps until the worker's dispatcher nudges it (new events may match) or, failing that,
 * for five minutes. Deactivation (a signal) cancels whatever is in flight; a 410 ends it too.
 */
import { CancellationScope, condition, continueAsNew, isCancellation, patched, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { RETRY_BACKOFF_COEFFICIENT, RETRY_POLICY } from '../domain/event-subscriptions.js';
import {
  deactivateSignal,
  eventsAvailableSignal,
  webhookQueueOf,
  type BatchResult,
  type DeliveryOutcome,
  type EventDeliveryActivities,
  type EventRef,
  type SubscriptionWorkflowInput,
} from './event-subscription/contract.js';

const PAGE = 50;
/** Events one delivery batch may take (it also stops after BATCH_BUDGET_MS, activities/event-delivery.ts). */
const BATCH = 100;
/**
 * Delivery batches (the fast path): one activity POSTs a page of events in order (attempt 1 each), and
 * only an event that needs a retry goes to the one-event activity. Runs before this patch delivered
 * every event with its own activity; they switch at their next page.
 */
export const BATCH_PATCH = 'delivery-batches';
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

  // The fast path: a page of events, attempt 1 each, heartbeating after each (a POST waits at most 10 s).
  const { deliverEventBatch } = proxyActivities<EventDeliveryActivities>({
    taskQueue,
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  });
  const initialMs = input.retry?.initialIntervalMs ?? RETRY_POLICY.initialBackoffSeconds * 1000;
  const maximumMs = input.retry?.maximumIntervalMs ?? RETRY_POLICY.maxBackoffSeconds * 1000;
  /** The wait after attempt n fails: 10, 30, 90, 270, 810, 2430, 3600 s (the one-event activity's retry policy). */
  const backoffAfter = (n: number) => Math.min(initialMs * RETRY_BACKOFF_COEFFICIENT ** (n - 1), maximumMs);

  /** The rest of one event's schedule after a batch made `attemptsBefore` attempts at it: the same waits and attempt numbers as the one-event path. */
  const deliverRest = async (event: EventRef, attemptsBefore: number): Promise<DeliveryOutcome> => {
    const left = RETRY_POLICY.maxAttempts - attemptsBefore;
    try {
      if (left <= 0) throw new Error(`${attemptsBefore} attempts made`);
      await sleep(backoffAfter(attemptsBefore));
      const { deliverEvent: deliverLater } = proxyActivities<EventDeliveryActivities>({
        taskQueue,
        startToCloseTimeout: '30 seconds',
        retry: { maximumAttempts: left, initialInterval: backoffAfter(attemptsBefore + 1), backoffCoefficient: RETRY_BACKOFF_COEFFICIENT, maximumInterval: maximumMs },
      });
      return await deliverLater({ subscriptionId: input.subscriptionId, event, maxAttempts: RETRY_POLICY.maxAttempts, attemptsBefore });
    } catch (err) {
      if (isCancellation(err)) throw err;
      await db.recordGaveUp({ subscriptionId: input.subscriptionId, event, error: err instanceof Error ? err.message : String(err) });
      return 'exhausted';
    }
  };

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
        if (patched(BATCH_PATCH)) {
          const batch: BatchResult = await deliverEventBatch({ subscriptionId: input.subscriptionId, after: cursor, limit: BATCH });
          if (batch.status !== 'active') return 'disabled';
          cursor = Math.max(cursor, batch.deliveredThrough);
          const stop = batch.stoppedAt;
          if (stop) {
            if (stop.outcome !== 'retry') return 'disabled';
            const outcome = await deliverRest(stop.event, stop.attempts);
            if (outcome === 'gone' || outcome === 'inactive') return 'disabled';
            cursor = stop.event.sequence;
          }
          if (historyIsLong()) await continueAsNew<typeof eventSubscriptionWorkflow>({ ...input, cursor });
          if (!batch.more && !stop) await condition(() => nudged || stopped, input.idleCheckMs ?? IDLE_CHECK_MS);
          continue;
        }
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
