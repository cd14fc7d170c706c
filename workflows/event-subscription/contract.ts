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

/** One delivery's end: delivered, failed for good (3xx/4xx, a refused address), or the subscription ended (410, deactivated). */
export type DeliveryOutcome = 'delivered' | 'failed' | 'exhausted' | 'refused' | 'gone' | 'inactive';

export interface EventDeliveryActivities {
  /** Where a fresh run resumes: the row's cursor (null: no such subscription, or not active). */
  subscriptionCursor(subscriptionId: string): Promise<number | null>;
  /** The next matching events after `after`, and records `after` as the subscription's cursor. */
  nextEventPage(input: { subscriptionId: string; after: number; limit: number }): Promise<EventPage>;
  /**
   * One attempt at one event (the activity's attempt number is the delivery attempt): a 5xx, timeout
   * or network error throws and is retried by Temporal; every other answer returns. Its last attempt
   * (`maxAttempts`) records the event as exhausted instead of throwing.
   */
  deliverEvent(input: { subscriptionId: string; event: EventRef; maxAttempts: number }): Promise<DeliveryOutcome>;
  /** The delivery activity failed without recording an end (its worker died on the last attempt): record it exhausted. */
  recordGaveUp(input: { subscriptionId: string; event: EventRef; error: string }): Promise<void>;
}
