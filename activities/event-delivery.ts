/**
 * The event-subscription workflow's activities (workflows/event-subscription/contract.ts): paging the
 * log for a subscription, and delivering one event per call as AgentRail does — the envelope as the
 * body, signed with the subscription's secret (opened here, never passed through Temporal), the
 * activity's attempt as the delivery attempt. Every attempt is recorded in `event_deliveries`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { RETRY_POLICY, verdictOf } from '../domain/event-subscriptions.js';
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

/** A batch takes no new event after this long (its activity's heartbeat and start-to-close timeouts allow for it). */
export const BATCH_BUDGET_MS = 20_000;

type Subscription = NonNullable<Awaited<ReturnType<typeof getSubscription>>>;

export function createEventDeliveryActivities(pool: Pool, box: () => SecretBox, config: Config): EventDeliveryActivities {
  const apiBase = `${(config.publicUrl ?? `http://127.0.0.1:${config.port}`).replace(/\/+$/, '')}/api`;

  /**
   * One attempt at one event, recorded: its end, or `retry` (a 5xx or no answer, recorded `retrying`;
   * on the last attempt it is recorded `exhausted` and ends instead).
   */
  async function attemptOnce(sub: Subscription, secret: () => string, event: EventRef, attempt: number, maxAttempts: number): Promise<{ outcome: DeliveryOutcome | 'retry'; error: string | null }> {
    const subscriptionId = sub.id;
    const row = await readEvent(pool, event.id);
    if (!row) {
      // Pruned by retention before its turn came.
      const error = 'the event is no longer in the log (retention)';
      await record(pool, { subscriptionId, event: { ...event, type: 'unknown' }, status: 'failed', attempt, deliveryId: null, statusCode: null, error });
      return { outcome: 'failed', error };
    }
    const ev = { ...event, type: row.type };
    const body = JSON.stringify(envelopeOf(row, apiBase));
    const deliveryId = newDeliveryId();
    const result = await postWebhook(sub.url, {
      'content-type': 'application/json',
      'user-agent': 'Switchyard-Webhooks/1',
      'x-agentrail-subscription-id': sub.id,
      'x-agentrail-event-id': row.id,
      'x-agentrail-event-type': row.type,
      'x-agentrail-delivery-id': deliveryId,
      'x-agentrail-delivery-attempt': String(attempt),
      'x-agentrail-signature': signDelivery(secret(), body),
    }, body, { timeoutMs: DELIVERY_TIMEOUT_MS, allowPrivate: config.allowPrivateTargets });

    const base = { subscriptionId, event: ev, attempt, deliveryId };
    if (result.kind === 'refused') {
      await record(pool, { ...base, status: 'refused', statusCode: null, error: result.error });
      return { outcome: 'refused', error: result.error };
    }
    const verdict = result.kind === 'answered' ? verdictOf(result.status) : 'retry';
    const statusCode = result.kind === 'answered' ? result.status : null;
    const error = result.kind === 'no_answer' ? result.error : verdict === 'delivered' ? null : `the receiver answered ${result.status}`;
    if (verdict === 'retry') {
      const last = attempt >= maxAttempts;
      await record(pool, { ...base, status: last ? 'exhausted' : 'retrying', statusCode, error });
      return { outcome: last ? 'exhausted' : 'retry', error };
    }
    await record(pool, { ...base, status: verdict, statusCode, error });
    if (verdict === 'gone') await disableSubscription(pool, subscriptionId, 'remote_gone');
    return { outcome: verdict, error };
  }

  const secretOf = (sub: Subscription) => {
    let opened: string | undefined;
    return () => (opened ??= box().open(sub.secretSealed, `the secret of event subscription ${sub.id}`));
  };

  return {
    async subscriptionCursor(subscriptionId) {
      const sub = await getSubscription(pool, subscriptionId);
      return sub && sub.status === 'active' ? Math.max(sub.deliveredThrough, sub.createdAfterSequence) : null;
    },

    nextEventPage: ({ subscriptionId, after, limit }) => nextEventPage(pool, subscriptionId, after, limit),

    async deliverEvent({ subscriptionId, event, maxAttempts, attemptsBefore }) {
      const attempt = (attemptsBefore ?? 0) + Context.current().info.attempt;
      const sub = await getSubscription(pool, subscriptionId);
      if (!sub || sub.status !== 'active') return 'inactive';
      // Ended already (the worker died between recording and reporting): not sent again.
      const { rows: prior } = await pool.query<{ status: string }>('SELECT status FROM event_deliveries WHERE subscription_id = $1 AND event_id = $2', [subscriptionId, event.id]);
      const ended = prior[0] && OUTCOME_OF[prior[0].status];
      if (ended) return ended;
      const { outcome, error } = await attemptOnce(sub, secretOf(sub), event, attempt, maxAttempts);
      if (outcome === 'retry') throw ApplicationFailure.retryable(error ?? 'no answer', 'webhook_not_delivered');
      return outcome;
    },

    async deliverEventBatch({ subscriptionId, after, limit }) {
      const ctx = Context.current();
      const started = Date.now();
      const disabled = { status: 'disabled', deliveredThrough: after, more: false } as const;
      const page = await nextEventPage(pool, subscriptionId, after, limit);
      if (page.status !== 'active') return disabled;
      if (page.events.length === 0) return { status: 'active', deliveredThrough: page.scannedThrough, more: page.more };
      const sub = await getSubscription(pool, subscriptionId);
      if (!sub || sub.status !== 'active') return disabled;
      const secret = secretOf(sub);
      // What earlier attempts left: ended events are not sent again, a retrying one goes on where it was.
      const { rows } = await pool.query<{ event_id: string; status: string; attempts: number }>(
        'SELECT event_id, status, attempts FROM event_deliveries WHERE subscription_id = $1 AND event_id = ANY ($2)',
        [subscriptionId, page.events.map((e) => e.id)],
      );
      const prior = new Map(rows.map((r) => [r.event_id, r]));
      // This batch is a retry (its worker died, or it failed): the first event without an end may have been sent.
      const maybeSent = ctx.info.attempt > 1;
      let through = after;
      const stop = (event: EventRef, outcome: 'retry' | 'gone' | 'inactive', attempts: number) => ({ status: 'active' as const, deliveredThrough: through, more: true, stoppedAt: { event, outcome, attempts } });
      for (const event of page.events) {
        if (ctx.cancellationSignal.aborted) throw new CancelledFailure('the subscription\'s workflow cancelled the batch');
        if (Date.now() - started > BATCH_BUDGET_MS) return { status: 'active', deliveredThrough: through, more: true };
        ctx.heartbeat(through);
        const was = prior.get(event.id);
        const ended = was ? OUTCOME_OF[was.status] : undefined;
        if (was && ended === 'gone') return stop(event, 'gone', was.attempts);
        if (ended) {
          through = event.sequence;
          continue;
        }
        if (was?.status === 'retrying') return stop(event, 'retry', Math.max(1, was.attempts));
        if (maybeSent) return stop(event, 'retry', 1);
        // The row is checked before every attempt, as the one-event activity does (a lost deactivate signal changes nothing).
        const { rows: now } = await pool.query<{ status: string }>('SELECT status FROM event_subscriptions WHERE id = $1', [subscriptionId]);
        if (now[0]?.status !== 'active') return stop(event, 'inactive', 0);
        const { outcome } = await attemptOnce(sub, secret, event, 1, RETRY_POLICY.maxAttempts);
        if (outcome === 'retry') return stop(event, 'retry', 1);
        if (outcome === 'gone' || outcome === 'inactive') return stop(event, outcome, 1);
        through = event.sequence;
      }
      return { status: 'active', deliveredThrough: page.scannedThrough, more: page.more };
    },

    async recordGaveUp({ subscriptionId, event, error }) {
      const row = await readEvent(pool, event.id);
      await record(pool, { subscriptionId, event: { ...event, type: row?.type ?? 'unknown' }, status: 'exhausted', attempt: 0, deliveryId: null, statusCode: null, error: error.slice(0, 500) });
    },
  };
}
