/**
 * AgentRail's event subscriptions (`/api/event-subscriptions`): the create body, with our strictness
 * (unknown fields refused) and AgentRail's limits. OpenAPI is derived from it; the route checks the
 * fields one by one in AgentRail's order (api/subscription-request.ts) with these same schemas.
 */
import { z } from 'zod';
import { MAX_DESCRIPTION_CHARS, MAX_TASK_FILTERS, SUBSCRIPTION_EVENT_TYPES } from '../domain/event-subscriptions.js';

/** Where deliveries go: http(s), never with credentials in it (they would be stored and shown as plain text; sign with `secret`). */
export const subscriptionUrl = z
  .string()
  .max(2000)
  .refine((u) => {
    try {
      const url = new URL(u);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an http or https URL')
  .refine((u) => {
    try {
      const url = new URL(u);
      return url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, 'must not carry a user name or password');

export const subscriptionEventTypes = z
  .array(z.enum(SUBSCRIPTION_EVENT_TYPES as [string, ...string[]]))
  .min(1)
  .max(100)
  .describe('AgentRail\'s four (task.updated, task.awaiting_user, task.reviewed, task.shipped) or any finer type of the task event log; de-duplicated and sorted');

export const subscriptionSecret = z.string().min(16).max(128).describe('HMAC-SHA256 key for x-agentrail-signature; sealed at rest, never shown back');

export const subscriptionFilters = z.strictObject({
  taskIds: z.array(z.string().min(1).max(200)).max(MAX_TASK_FILTERS).optional().describe('task ids or identifiers the caller can read; stored as ids, de-duplicated and sorted; empty: every task'),
});

export const createEventSubscription = z.strictObject({
  url: subscriptionUrl,
  eventTypes: subscriptionEventTypes,
  secret: subscriptionSecret,
  filters: subscriptionFilters.optional(),
  description: z.string().max(MAX_DESCRIPTION_CHARS).nullable().optional(),
  companyId: z.string().uuid().optional().describe('The operator names the company (required); an agent\'s subscription is its own company\'s (another company is 404)'),
});

export const listDeliveriesQuery = z.strictObject({
  limit: z.string().regex(/^\d{1,4}$/).optional().describe('1–200, default 50'),
  status: z.enum(['retrying', 'delivered', 'failed', 'exhausted', 'gone', 'refused']).optional(),
});
