/**
 * The event-subscription workflow's contract: its id, messages, input, and the activities it calls.
 * Shared by the workflow, the API (which starts and stops it), the worker's dispatcher and the tests.
 * Only ids and sequences cross it: event bodies and the subscription's secret never enter a history.
 */
import { defineSignal } from '@temporalio/workflow';

/** One workflow per subscription, for as long as it is active. */
export const subscriptionWorkflowId = (subscriptionId: string) => `event-subscription/${subscriptionId}`;
export const SUBSCRIPTION_WORKFLOW_TYPE = 'eventSubscriptionWorkflow';

/** Where delivery activities run: a queue of their own (derived from the task queue), so slow receivers never hold the task activities' slots. */
export const webhookQueueOf = (taskQueue: string) => `${taskQueue}-webhooks`;

/**
 * New events may match (the dispatcher's nudge; coalesced: one wake reads every new match). A signal,
 * not an update: fire and forget, and it cannot be refused.
 */
export const eventsAvailableSignal = defineSignal('eventsAvailable');
/** The subscription was deactivated: stop now, even mid-retry (the row already says disabled). */
export const deactivateSignal = defineSignal('deactivate');

export interface RetrySchedule {
  initialIntervalMs: number;
  maximumIntervalMs: number;
}

export interface SubscriptionWorkflowInput {
  subscriptionId: string;
  /** The last sequence handled; absent on a fresh start (the activity reads it from the row). */
  cursor?: number;
  /** Tests only: a faster retry schedule (production: AgentRail's, domain/event-subscriptions.ts). */
  retry?: RetrySchedule;
  /** Continue as new after this many history events (tests use a small value); Temporal's suggestion otherwise. */
  continueAsNewAfterEvents?: number;
  /** How long to wait for a nudge before looking anyway. */
  idleCheckMs?: number;
}

export interface EventRef {
  id: string;
  sequence: number;
}

export interface EventPage {
  /** disabled, or gone altogether: the workflow ends. */
  status: 'active' | 'disabled';
  /** Matching events after the cursor, oldest first. */
  events: EventRef[];
  /** Every event at or below this was read (matching ones are in `events`): the cursor may move here. */
  scannedThrough: number;
  /** More matching events wait beyond this page. */
  more: boolean;
}

/**
 * A delivery batch's end (the fast path: one activity delivers a page of events in order, attempt 1
 * each). Every matching event at or below `deliveredThrough` was handled (delivered, failed for good
 * with a 3xx/4xx, refused). `stoppedAt`: the batch stopped at this event without an end for it —
 * `retry` (a 5xx, no answer; `attempts` made so far, recorded as `retrying`): the workflow carries on
 * with the one-event activity and the rest of the schedule; `gone` (410, the subscription is disabled)
 * or `inactive` (found disabled): the workflow ends.
 */
export interface BatchResult {
  status: 'active' | 'disabled';
  deliveredThrough: number;
  /** More matching events may wait beyond `deliveredThrough` (a full page, or the batch's time was up). */
  more: boolean;
  stoppedAt?: { event: EventRef; outcome: 'retry' | 'gone' | 'inactive'; attempts: number };
}

/** One delivery's end: delivered, failed for good (3xx/4xx, a refused address), or the subscription ended (410, deactivated). */
export type DeliveryOutcome = 'delivered' | 'failed' | 'exhausted' | 'refused' | 'gone' | 'inactive';

export interface EventDeliveryActivities {
  /** Where a fresh run resumes: the row's cursor (null: no such subscription, or not active). */
  subscriptionCursor(subscriptionId: string): Promise<number | null>;
  /** The next matching events after `after`, and records `after` as the subscription's cursor. */
  nextEventPage(input: { subscriptionId: string; after: number; limit: number }): Promise<EventPage>;
  /**
   * One attempt at one event (the activity's attempt number, after `attemptsBefore` made by a batch, is the delivery attempt): a 5xx, timeout
   * or network error throws and is retried by Temporal; every other answer returns. Its last attempt
   * (`maxAttempts`) records the event as exhausted instead of throwing.
   */
  deliverEvent(input: { subscriptionId: string; event: EventRef; maxAttempts: number; attemptsBefore?: number }): Promise<DeliveryOutcome>;
  /**
   * The fast path: the next page of matching events after `after`, each POSTed once (attempt 1) in
   * order within this one activity (heartbeating), until one does not end (5xx, no answer, 410), the
   * page is done or its time is up. Never throws for a receiver's answer: see BatchResult.
   */
  deliverEventBatch(input: { subscriptionId: string; after: number; limit: number }): Promise<BatchResult>;
  /** The delivery activity failed without recording an end (its worker died on the last attempt): record it exhausted. */
  recordGaveUp(input: { subscriptionId: string; event: EventRef; error: string }): Promise<void>;
}
