/** Event subscriptions and their deliveries in Postgres (migration 014). */
import type { DisabledReason, SubscriptionStatus } from '../domain/event-subscriptions.js';
import type { EventPage } from '../workflows/event-subscription/contract.js';
import type { Pool } from './pool.js';
import { inTransaction } from './transaction.js';

export interface SubscriptionRow {
  id: string;
  companyId: string;
  createdBy: string;
  taskScope: string | null;
  url: string;
  eventTypes: string[];
  taskIds: string[];
  secretSealed: string;
  description: string | null;
  status: SubscriptionStatus;
  disabledReason: DisabledReason | null;
  disabledAt: string | null;
  createdAfterSequence: number;
  deliveredThrough: number;
  lastDeliveryAt: string | null;
  lastFailure: Record<string, unknown> | null;
  createdAt: string;
}

const COLUMNS = `id, company_id AS "companyId", created_by AS "createdBy", task_scope AS "taskScope", url, event_types AS "eventTypes",
  task_ids::text[] AS "taskIds", secret_sealed AS "secretSealed", description, status, disabled_reason AS "disabledReason", disabled_at AS "disabledAt",
  created_after_sequence AS "createdAfterSequence", delivered_through AS "deliveredThrough", last_delivery_at AS "lastDeliveryAt",
  last_failure AS "lastFailure", created_at AS "createdAt"`;

export interface NewSubscription {
  id: string;
  companyId: string;
  createdBy: string;
  taskScope: string | null;
  url: string;
  eventTypes: string[];
  taskIds: string[];
  secretSealed: string;
  description: string | null;
  filterKey: string;
}

/**
 * Inserts it unless its id exists (a retry of the same create) or an active twin holds its filter key
 * (the partial unique index decides between racers). `created_after_sequence` is the log's newest
 * sequence as this statement sees it: no backfill.
 */
export async function insertSubscription(pool: Pool, s: NewSubscription, maxActive: number): Promise<'inserted' | 'not_inserted' | 'limit'> {
  return inTransaction(pool, async (db) => {
    // One company's creates one at a time, so racing creates cannot pass the limit together.
    await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`event-subscriptions:${s.companyId}`]);
    const { rows } = await db.query<{ active: number; taken: boolean }>(
      `SELECT count(*) FILTER (WHERE status = 'active')::int AS active, bool_or(id = $2 OR (filter_key = $3 AND status = 'active')) AS taken
       FROM event_subscriptions WHERE company_id = $1`,
      [s.companyId, s.id, s.filterKey],
    );
    // A retry of a create that made its row, or an active twin, is answered as before; anything else past the limit is refused.
    if (rows[0]!.active >= maxActive && !rows[0]!.taken) return 'limit';
    return insertRow(db, s);
  });
}

async function insertRow(pool: Pick<Pool, 'query'>, s: NewSubscription): Promise<'inserted' | 'not_inserted'> {
  const { rowCount } = await pool.query(
    `INSERT INTO event_subscriptions (id, company_id, created_by, task_scope, url, event_types, task_ids, secret_sealed, description, filter_key, created_after_sequence, delivered_through)
     SELECT $1, $2, $3, $4, $5, $6, $7::uuid[], $8, $9, $10, last, last FROM (SELECT coalesce(max(sequence), 0) AS last FROM task_events) l
     ON CONFLICT DO NOTHING`,
    [s.id, s.companyId, s.createdBy, s.taskScope, s.url, s.eventTypes, s.taskIds, s.secretSealed, s.description, s.filterKey],
  );
  return rowCount ? 'inserted' : 'not_inserted';
}

export async function activeTwin(pool: Pool, companyId: string, filterKey: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ id: string }>(`SELECT id FROM event_subscriptions WHERE company_id = $1 AND filter_key = $2 AND status = 'active'`, [companyId, filterKey]);
  return rows[0]?.id;
}

export async function getSubscription(pool: Pick<Pool, 'query'>, id: string): Promise<SubscriptionRow | undefined> {
  const { rows } = await pool.query<SubscriptionRow>(`SELECT ${COLUMNS} FROM event_subscriptions WHERE id = $1`, [id]);
  return rows[0];
}

/** In creation order; `companyId` null: every company (the operator); `createdBy` null: whoever made them. */
export async function listSubscriptions(pool: Pool, companyId: string | null, taskScope: string | null, createdBy: string | null = null): Promise<SubscriptionRow[]> {
  const { rows } = await pool.query<SubscriptionRow>(
    `SELECT ${COLUMNS} FROM event_subscriptions WHERE ($1::uuid IS NULL OR company_id = $1) AND ($2::uuid IS NULL OR task_scope = $2)
       AND ($3::text IS NULL OR created_by = $3) ORDER BY ordinal`,
    [companyId, taskScope, createdBy],
  );
  return rows;
}

/** Disables it (once: a repeat changes nothing, and a 410's reason stays). */
export async function disableSubscription(pool: Pick<Pool, 'query'>, id: string, reason: DisabledReason): Promise<void> {
  await pool.query(`UPDATE event_subscriptions SET status = 'disabled', disabled_reason = $2, disabled_at = now() WHERE id = $1 AND status = 'active'`, [id, reason]);
}

/** The matching events after `after` (up to the log's newest now), and `after` kept as the cursor. */
export async function nextEventPage(pool: Pool, id: string, after: number, limit: number): Promise<EventPage> {
  const { rows: subs } = await pool.query<{ status: SubscriptionStatus; last: number }>(
    `UPDATE event_subscriptions SET delivered_through = GREATEST(delivered_through, $2) WHERE id = $1
     RETURNING status, (SELECT coalesce(max(sequence), 0) FROM task_events) AS last`,
    [id, after],
  );
  const sub = subs[0];
  if (!sub || sub.status !== 'active') return { status: 'disabled', events: [], scannedThrough: after, more: false };
  // Appends are serialized (migration 013): with `last` visible, every event below it is too.
  const { rows } = await pool.query<{ id: string; sequence: number }>(
    `SELECT e.id, e.sequence FROM task_events e, event_subscriptions s
     WHERE s.id = $1 AND e.sequence > GREATEST($2, s.created_after_sequence) AND e.sequence <= $3
       AND e.company_id = s.company_id AND e.type = ANY (s.event_types)
       AND (cardinality(s.task_ids) = 0 OR e.issue_id = ANY (s.task_ids)) AND (s.task_scope IS NULL OR e.issue_id = s.task_scope)
     ORDER BY e.sequence LIMIT $4`,
    [id, after, sub.last, limit],
  );
  const more = rows.length === limit;
  return { status: 'active', events: rows, scannedThrough: more ? rows[rows.length - 1]!.sequence : Math.max(after, sub.last), more };
}

/** The active subscriptions some event in (after, upTo] matches (the dispatcher's nudges). */
export async function subscriptionsMatching(pool: Pick<Pool, 'query'>, after: number, upTo: number): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT s.id FROM event_subscriptions s
     WHERE s.status = 'active' AND EXISTS (
       SELECT 1 FROM task_events e WHERE e.sequence > GREATEST($1, s.created_after_sequence) AND e.sequence <= $2
         AND e.company_id = s.company_id AND e.type = ANY (s.event_types)
         AND (cardinality(s.task_ids) = 0 OR e.issue_id = ANY (s.task_ids)) AND (s.task_scope IS NULL OR e.issue_id = s.task_scope))`,
    [after, upTo],
  );
  return rows.map((r) => r.id);
}

export async function activeSubscriptionIds(pool: Pick<Pool, 'query'>): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(`SELECT id FROM event_subscriptions WHERE status = 'active' ORDER BY ordinal`);
  return rows.map((r) => r.id);
}

export interface DeliveryRow {
  eventId: string;
  sequence: number;
  eventType: string;
  status: string;
  attempts: number;
  lastDeliveryId: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  firstAttemptAt: string;
  lastAttemptAt: string;
  completedAt: string | null;
}

/** Newest first, optionally only one status. */
export async function listDeliveries(pool: Pool, subscriptionId: string, limit: number, status: string | null): Promise<DeliveryRow[]> {
  const { rows } = await pool.query<DeliveryRow>(
    `SELECT event_id AS "eventId", sequence, event_type AS "eventType", status, attempts, last_delivery_id AS "lastDeliveryId",
            last_status_code AS "lastStatusCode", last_error AS "lastError", first_attempt_at AS "firstAttemptAt", last_attempt_at AS "lastAttemptAt", completed_at AS "completedAt"
     FROM event_deliveries WHERE subscription_id = $1 AND ($3::text IS NULL OR status = $3) ORDER BY sequence DESC LIMIT $2`,
    [subscriptionId, limit, status],
  );
  return rows;
}
