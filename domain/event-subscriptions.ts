/**
 * Event subscriptions (AgentRail's webhooks out): what a subscription matches, how a create request is
 * normalized, and what each answer from the receiver means. Pure: the API, the delivery activities and
 * the dispatcher share these rules.
 */
import { SUBSCRIBABLE_EVENT_TYPES, TASK_EVENT_TYPES } from './events.js';

/**
 * AgentRail's four subscribable types, plus our finer ones (its stream's five and ours): a subscriber
 * that names one of those gets exactly it, an AgentRail client never sends them.
 */
export const SUBSCRIPTION_EVENT_TYPES: readonly string[] = TASK_EVENT_TYPES;
export { SUBSCRIBABLE_EVENT_TYPES };

export const MAX_TASK_FILTERS = 50;
export const MAX_DESCRIPTION_CHARS = 200;

/** AgentRail's fixed retry policy, as every subscription shows it (the workflow's activity retry is built from it). */
export const RETRY_POLICY = { maxAttempts: 8, initialBackoffSeconds: 10, maxBackoffSeconds: 3600 } as const;
/** Each next attempt waits ×3 the last: 10, 30, 90, 270, 810, 2430, 3600 s (AgentRail's: 10, 30, 90, 300, 900, 1800, 3600). */
export const RETRY_BACKOFF_COEFFICIENT = 3;

export type SubscriptionStatus = 'active' | 'disabled';
/** Why a subscription stopped: its owner's DELETE, or a 410 from its receiver. */
export type DisabledReason = 'deactivated' | 'remote_gone';

/** What a subscription matches, in the form it is stored and compared. */
export interface SubscriptionFilter {
  companyId: string;
  eventTypes: string[];
  /** Task uuids; empty: every task of the company. */
  taskIds: string[];
  /** The task a task-scoped key was limited to when it subscribed; null: not limited. */
  taskScope: string | null;
}

export interface MatchableEvent {
  companyId: string;
  issueId: string;
  type: string;
}

export function matches(f: SubscriptionFilter, e: MatchableEvent): boolean {
  return e.companyId === f.companyId && f.eventTypes.includes(e.type) && (f.taskIds.length === 0 || f.taskIds.includes(e.issueId)) && (f.taskScope === null || f.taskScope === e.issueId);
}

/** De-duplicated and sorted, as AgentRail stores eventTypes and taskIds. */
export const normalizedList = (values: readonly string[]): string[] => [...new Set(values)].sort();

/**
 * The key two active subscriptions of a company may not share: the same endpoint with the same types
 * and tasks is one subscription (AgentRail's 409 conflict). A task-scoped key's scope is part of it.
 */
export function filterKey(url: string, f: Pick<SubscriptionFilter, 'eventTypes' | 'taskIds' | 'taskScope'>): string {
  return JSON.stringify([url, normalizedList(f.eventTypes), normalizedList(f.taskIds), f.taskScope]);
}

/** What one attempt's answer means for the event and the subscription. */
export type AttemptVerdict = 'delivered' | 'retry' | 'failed' | 'gone';

/** AgentRail's rules: 2xx delivered; 410 disables; ≥500 is retried; any other 3xx/4xx fails that event (redirects are not followed). */
export function verdictOf(status: number): AttemptVerdict {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 410) return 'gone';
  if (status >= 500) return 'retry';
  return 'failed';
}

/** What a subscription offers its owner next. */
export const subscriptionActions = (status: SubscriptionStatus): string[] => (status === 'active' ? ['deactivate'] : []);
