/** Reading the task event log (migration 013): pages after a position, cursors, and retention. */
import type { Pool } from './pool.js';

export interface EventRow {
  sequence: number;
  id: string;
  issueId: string;
  companyId: string;
  type: string;
  taskVersion: number;
  occurredAt: string;
  traceId: string | null;
  data: Record<string, unknown>;
}

/** Which events a reader may see and asked for; null fields do not narrow. */
export interface EventFilter {
  types: string[] | null;
  issueId: string | null;
  /** An agent's company (operators see every company). */
  companyId: string | null;
}

const COLUMNS = `sequence, id, issue_id AS "issueId", company_id AS "companyId", type, task_version AS "taskVersion",
  occurred_at AS "occurredAt", trace_id AS "traceId", data`;

/** Events in (after, upTo], matching the filter, oldest first. */
export async function readEvents(pool: Pool, after: number, upTo: number, filter: EventFilter, limit: number): Promise<EventRow[]> {
  const { rows } = await pool.query<EventRow>({
    name: 'sy-read-events',
    text: `SELECT ${COLUMNS} FROM task_events
           WHERE sequence > $1 AND sequence <= $2 AND ($3::text[] IS NULL OR type = ANY ($3)) AND ($4::uuid IS NULL OR issue_id = $4)
             AND ($5::uuid IS NULL OR company_id = $5)
           ORDER BY sequence LIMIT $6`,
    values: [after, upTo, filter.types, filter.issueId, filter.companyId, limit],
  });
  return rows;
}

/** One event by its id (a webhook delivery renders it), if the log still has it. */
export async function readEvent(pool: Pick<Pool, 'query'>, id: string): Promise<EventRow | undefined> {
  const { rows } = await pool.query<EventRow>({ name: 'sy-read-event', text: `SELECT ${COLUMNS} FROM task_events WHERE id = $1`, values: [id] });
  return rows[0];
}

/** Every event after `after`, oldest first (the hub's live feed). */
export async function readAllAfter(pool: Pick<Pool, 'query'>, after: number, limit: number): Promise<EventRow[]> {
  const { rows } = await pool.query<EventRow>({ name: 'sy-read-all-events', text: `SELECT ${COLUMNS} FROM task_events WHERE sequence > $1 ORDER BY sequence LIMIT $2`, values: [after, limit] });
  return rows;
}

/** The newest sequence ever handed out (0 before the first event): nothing above it exists yet. */
export async function latestSequence(pool: Pick<Pool, 'query'>): Promise<number> {
  const { rows } = await pool.query<{ last: number | null }>('SELECT max(sequence) AS last FROM task_events');
  return rows[0]?.last ?? 0;
}

/**
 * Where a cursor (an event id, or a sequence written in decimal) resumes, or null when it cannot:
 * unknown, malformed, or older than what retention keeps.
 */
export async function resolveCursor(pool: Pool, cursor: string): Promise<number | null> {
  const { rows } = await pool.query<{ seq: number | null; pruned: number; last: number | null }>(
    `SELECT (SELECT sequence FROM task_events WHERE id = $1) AS seq, (SELECT pruned_through FROM task_event_horizon) AS pruned,
            (SELECT max(sequence) FROM task_events) AS last`,
    [cursor],
  );
  const r = rows[0]!;
  let seq = r.seq;
  if (seq === null && /^\d{1,15}$/.test(cursor)) seq = Number(cursor);
  if (seq === null) return null;
  // Events after it may already be gone, or it names a sequence not handed out yet.
  if (seq < r.pruned || seq > (r.last ?? r.pruned)) return null;
  return seq;
}

/**
 * Drops events recorded before the retention window, by sequence, and moves the horizon: a cursor
 * at or after it still resumes with nothing missing.
 */
export async function pruneEvents(pool: Pool, retentionDays: number): Promise<number> {
  const { rows } = await pool.query<{ pruned: number }>(
    `WITH cut AS (SELECT max(sequence) AS upto FROM task_events WHERE recorded_at < now() - make_interval(days => $1)),
          gone AS (DELETE FROM task_events WHERE sequence <= (SELECT upto FROM cut) RETURNING 1),
          moved AS (UPDATE task_event_horizon SET pruned_through = GREATEST(pruned_through, (SELECT upto FROM cut)) WHERE (SELECT upto FROM cut) IS NOT NULL RETURNING 1)
     SELECT (SELECT count(*) FROM gone)::int AS pruned, (SELECT count(*) FROM moved) AS moved`,
    [retentionDays],
  );
  return rows[0]?.pruned ?? 0;
}
