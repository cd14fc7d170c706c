/**
 * Applying a ProjectionWrite: one call of `sy_project_task` (migrations 002, 003, 006 and 013: the row, its entries and its events), so the API and the
 * workflow's projection activity apply exactly the same version and fingerprint rules, atomically,
 * in one round trip.
 */
import type pg from 'pg';
import type { ProjectionOutcome, ProjectionWrite } from '../domain/projection.js';
import { PRIORITY_RANK } from '../domain/statuses.js';
import { storable } from '../domain/text.js';

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export interface ApplyOptions {
  /**
   * Commit without waiting for the WAL flush. Only for a write that another, durable write of the same
   * decision follows anyway: the API's read-your-writes copy, which the workflow's projection activity
   * (synchronous) repeats — its commit also flushes everything before it.
   */
  relaxedDurability?: boolean;
}

export async function applyProjection(db: Queryable, write: ProjectionWrite, opts: ApplyOptions = {}): Promise<ProjectionOutcome> {
  // Text the edge lets through is storable already; this is the last line, so that a write can never
  // be refused for its text (a NUL or a lone surrogate becomes U+FFFD here).
  const payload = JSON.stringify(storable({ ...write, priorityRank: PRIORITY_RANK[write.issue.priority] }));
  const { rows } = await db.query<{ r: ProjectionOutcome }>({
    name: opts.relaxedDurability ? 'sy-project-relaxed' : 'sy-project',
    text: opts.relaxedDurability ? 'SELECT sy_project_task($1::jsonb, false) AS r' : 'SELECT sy_project_task($1::jsonb) AS r',
    values: [payload],
  });
  return rows[0]!.r;
}

/**
 * Postgres errors that say "not now" rather than "never": lost connections, shutdowns, lock and
 * serialization conflicts, resources, and schema objects missing while a migration runs. Anything
 * in the data classes (22, 23, 54…) is a refusal that would repeat forever.
 */
export function isTransientDbError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  // No SQLSTATE at all (ECONNREFUSED, a pool timeout, a dropped socket): the database is not answering.
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return /^(08|40|53|57|58)/.test(code) || TRANSIENT_STATES.has(code);
}

// lock_not_available, object_in_use, undefined_table, undefined_function (a migration under way).
const TRANSIENT_STATES = new Set(['55P03', '55006', '42P01', '42883']);

/** Records a write Postgres refused for good, with the write itself so the reconciler can try it again. */
export async function recordRefusedWrite(db: Queryable, write: ProjectionWrite, err: unknown): Promise<void> {
  const { id, version } = write.issue;
  const code = (err as { code?: string } | null)?.code ?? null;
  const message = String((err as Error)?.message ?? err);
  const sql = 'INSERT INTO projection_failures (issue_id, version, code, message, write) VALUES ($1,$2,$3,$4,$5)';
  // Tried again later it only adds what it carries: by then its claim over a range of versions is stale.
  const { coversFrom: _stale, ...retry } = write;
  await db.query(sql, [id, version, code, message, JSON.stringify(storable(retry))]).catch(() => db.query(sql, [id, version, code, message, null]));
}
