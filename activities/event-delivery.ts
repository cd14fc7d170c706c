/**
 * The event-subscription workflow's activities (workflows/event-subscription/contract.ts): paging the
 * log for a subscription, and delivering one event per call as AgentRail does — the envelope as the
 * body, signed with the subscription's secret (opened here, never passed through Temporal), the
 * activity's attempt as the delivery attempt. Every attempt is recorded in `event_deliveries`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { verdictOf } from '../domain/event-subscriptions.js';
import { disableSubscription, getSubscription, nextEventPage } from '../db/event-subscriptions.js';
import type { Pool } from '../db/pool.js';
import { readEvent } from '../db/task-events.js';
import { envelopeOf } from '../api/events/render.js';
import type { Config } from '../runtime/config.js';
import type { SecretBox } from '../runtime/secrets.js';
import type { DeliveryOutcome, EventDeliveryActivities, EventRef } from '../workflows/event-subscription/contract.js';
import { postWebhook } from './webhook-post.js';

/** Per attempt: a receiver that does not answer within this is retried like a 5xx. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** AgentRail's signature: `sha256=` + lowercase hex HMAC-SHA256 of the exact body, keyed with the secret as UTF-8. */
export const signDelivery = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;

const newDeliveryId = () => `dlv_${randomBytes(10).toString('hex')}`;

/** How a delivery row ends (or `retrying` when more attempts come). */
type DeliveryStatus = 'retrying' | 'delivered' | 'failed' | 'exhausted' | 'gone' | 'refused';

interface AttemptRecord {
  subscriptionId: string;
  event: EventRef & { type: string };
  status: DeliveryStatus;
  attempt: number;
  deliveryId: string | null;
  statusCode: number | null;
  error: string | null;
}

async function record(pool: Pool, r: AttemptRecord): Promise<void> {
  const final = r.status !== 'retrying';
  await pool.query(
    `INSERT INTO event_deliveries (subscription_id, event_id, sequence, event_type, status, attempts, last_delivery_id, last_status_code, last_error, completed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $10 THEN now() END)
     ON CONFLICT (subscription_id, event_id) DO UPDATE SET status = $5, attempts = GREATEST(event_deliveries.attempts, $6), last_delivery_id = coalesce($7, event_deliveries.last_delivery_id),
       last_status_code = $8, last_error = $9, last_attempt_at = now(), completed_at = CASE WHEN $10 THEN now() END`,
    [r.subscriptionId, r.event.id, r.event.sequence, r.event.type, r.status, r.attempt, r.deliveryId, r.statusCode, r.error, final],
  );
  const failure = r.status === 'delivered' ? null : JSON.stringify({ eventId: r.event.id, sequence: r.event.sequence, status: r.status, statusCode: r.statusCode, error: r.error, attempt: r.attempt, at: new Date().toISOString() });
  await pool.query(
    `UPDATE event_subscriptions SET
       delivered_through = CASE WHEN $2 THEN GREATEST(delivered_through, $3) ELSE delivered_through END,
       last_delivery_at = CASE WHEN $4 = 'delivered' THEN now() ELSE last_delivery_at END,
       last_failure = coalesce($5::jsonb, last_failure)
     WHERE id = $1`,
    [r.subscriptionId, final, r.event.sequence, r.status, failure],
  );
}

const OUTCOME_OF: Record<string, DeliveryOutcome> = { delivered: 'delivered', failed: 'failed', exhausted: 'exhausted', gone: 'gone', refused: 'refused' };

export function createEventDeliveryActivities(pool: Pool, box: () => SecretBox, config: Config): EventDeliveryActivities {
  const apiBase = `${(config.publicUrl ?? `http://127.0.0.1:${config.port}`).replace(/\/+$/, '')}/api`;

  return {
    async subscriptionCursor(subscriptionId) {
      const sub = await getSubscription(pool, subscriptionId);
      return sub && sub.status === 'active' ? Math.max(sub.deliveredThrough, sub.createdAfterSequence) : null;
    },

    nextEventPage: ({ subscriptionId, after, limit }) => nextEventPage(pool, subscriptionId, after, limit),

    async deliverEvent({ subscriptionId, event, maxAttempts }) {
      const attempt = Context.current().info.attempt;
      const sub = await getSubscription(pool, subscriptionId);
      if (!sub || sub.status !== 'active') return 'inactive';
      // Ended already (the worker died between recording and reporting): not sent again.
      const { rows: prior } = await pool.query<{ status: string }>('SELECT status FROM event_deliveries WHERE subscription_id = $1 AND event_id = $2', [subscriptionId, event.id]);
      const ended = prior[0] && OUTCOME_OF[prior[0].status];
      if (ended) return ended;
      const row = await readEvent(pool, event.id);
      if (!row) {
        // Pruned by retention before its turn came.
        await record(pool, { subscriptionId, event: { ...event, type: 'unknown' }, status: 'failed', attempt, deliveryId: null, statusCode: null, error: 'the event is no longer in the log (retention)' });
        return 'failed';
      }
      const ev = { ...event, type: row.type };
      const body = JSON.stringify(envelopeOf(row, apiBase));
      const secret = box().open(sub.secretSealed, `the secret of event subscription ${sub.id}`);
      const deliveryId = newDeliveryId();
      const result = await postWebhook(sub.url, {
        'content-type': 'application/json',
        'user-agent': 'Switchyard-Webhooks/1',
        'x-agentrail-subscription-id': sub.id,
        'x-agentrail-event-id': row.id,
        'x-agentrail-event-type': row.type,
        'x-agentrail-delivery-id': deliveryId,
        'x-agentrail-delivery-attempt': String(attempt),
        'x-agentrail-signature': signDelivery(secret, body),
      }, body, { timeoutMs: DELIVERY_TIMEOUT_MS, allowPrivate: config.allowPrivateTargets });

      const base = { subscriptionId, event: ev, attempt, deliveryId };
      if (result.kind === 'refused') {
        await record(pool, { ...base, status: 'refused', statusCode: null, error: result.error });
        return 'refused';
      }
      const verdict = result.kind === 'answered' ? verdictOf(result.status) : 'retry';
      const statusCode = result.kind === 'answered' ? result.status : null;
      const error = result.kind === 'no_answer' ? result.error : verdict === 'delivered' ? null : `the receiver answered ${result.status}`;
      if (verdict === 'retry') {
        const last = attempt >= maxAttempts;
        await record(pool, { ...base, status: last ? 'exhausted' : 'retrying', statusCode, error });
        if (last) return 'exhausted';
        throw ApplicationFailure.retryable(error ?? 'no answer', 'webhook_not_delivered');
      }
      await record(pool, { ...base, status: verdict, statusCode, error });
      if (verdict === 'gone') await disableSubscription(pool, subscriptionId, 'remote_gone');
      return verdict;
    },

    async recordGaveUp({ subscriptionId, event, error }) {
      const row = await readEvent(pool, event.id);
      await record(pool, { subscriptionId, event: { ...event, type: row?.type ?? 'unknown' }, status: 'exhausted', attempt: 0, deliveryId: null, statusCode: null, error: error.slice(0, 500) });
    },
  };
}
