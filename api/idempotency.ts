/**
 * Idempotency-Key: the same key and body replay the first answer; the same key with another body is
 * 409 idempotency_key_reused. Records live in Postgres, scoped to company and caller. The key also
 * names the Temporal update (`<operation>:<scope>:<key>`), so a retry after a timeout attaches to the
 * update already running, and the workflow remembers it across continue-as-new.
 */
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { DomainError, ERROR_HTTP_STATUS } from '../domain/errors.js';
import type { Pool } from '../db/pool.js';
import { callerOf } from './auth.js';
import { presenterFor, retryAfterOf } from './errors.js';
import { storable } from '../domain/text.js';
import { logger } from '../runtime/logger.js';

export interface Outcome {
  status: number;
  body: unknown;
  /** What a replay returns, when it must differ from the first answer (e.g. a secret shown once). */
  replayBody?: unknown;
  /** false: answer, but do not record it for replays. */
  final?: boolean;
  /** A "come back later" refusal (429): the key's next request is a new attempt. */
  comeBackLater?: boolean;
  /** Sent with this answer only (a 429's Retry-After), never replayed. */
  headers?: Record<string, string>;
}

export interface IdempotencyScope {
  companyId: string;
  operation: string;
  /**
   * Whether running the operation again under the same ids is harmless (Temporal updates dedupe by
   * update id; creates use ids derived from the key). A non-reentrant one (minting an API key) answers
   * a concurrent retry with 409 idempotency_in_progress instead of running twice.
   */
  reentrant?: boolean;
  /** A final provider_unavailable (the workflow gave up on the provider) lets the key's next request try again. */
  newAttemptAfterOutage?: boolean;
  /** AgentRail's writes (submit, ship, rollback) refuse a request without a key (400). */
  keyRequired?: boolean;
  /** A key sent in the body (Paperclip's issue create), used when there is no Idempotency-Key header. */
  bodyKey?: string;
  /**
   * What a replay of a recorded answer puts back that was never stored (a key's secret, derived again
   * from the attempt's seed: api/routes/agent-api-keys.ts).
   */
  restoreReplay?: (stored: { status: number; body: unknown }, attempt: Attempt) => { status: number; body: unknown };
  /** How a replayed answer is told apart, for clients that expect it (Paperclip: 200 with `deduplicated: true`). */
  replayAs?: (outcome: { status: number; body: unknown }) => { status: number; body: unknown };
}

/** How long a first attempt that never recorded its answer blocks a non-reentrant retry. */
const IN_PROGRESS_WINDOW_SECONDS = 60;

/** What the operation needs from the key: a stable update id (undefined without a key). */
export interface Attempt {
  updateId: string | undefined;
  /** A stable seed for ids the operation creates, so a retried create makes the same resource. */
  seed: string | undefined;
}

export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

function callerKey(res: Response): string {
  const caller = callerOf(res);
  return caller.kind === 'agent' ? `agent:${caller.agent.id}` : 'operator';
}

export function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.header('idempotency-key');
  if (key === undefined) return undefined;
  if (key.length === 0 || key.length > 255) throw new DomainError('validation_error', 'Idempotency-Key must be 1 to 255 characters');
  return key;
}

export async function runIdempotent(
  pool: Pool,
  req: Request,
  res: Response,
  scope: IdempotencyScope,
  exec: (attempt: Attempt) => Promise<Outcome>,
): Promise<void> {
  const headerKey = idempotencyKeyOf(req);
  if (headerKey !== undefined && scope.bodyKey !== undefined && headerKey !== scope.bodyKey) {
    throw new DomainError('validation_error', 'The Idempotency-Key header and the body idempotencyKey differ: send one key, or the same in both', { field: 'idempotencyKey' });
  }
  const key = headerKey ?? scope.bodyKey;
  const replayAs = scope.bodyKey !== undefined ? scope.replayAs : undefined;
  const present = presenterFor(req.path);
  if (key === undefined) {
    if (scope.keyRequired) throw new DomainError('validation_error', 'Idempotency-Key header is required.', { header: 'Idempotency-Key' });
    return send(res, await capture(() => exec({ updateId: undefined, seed: undefined }), present));
  }

  const caller = callerKey(res);
  const hash = createHash('sha256').update(JSON.stringify(canonical({ m: req.method, p: req.path, b: req.body ?? null }))).digest('hex');
  const inserted = await pool.query(
    `INSERT INTO idempotency_records (company_id, caller, key, operation, request_hash) VALUES ($1,$2,$3,$4,$5)
     ON CONFLICT DO NOTHING RETURNING 1`,
    [scope.companyId, caller, key, scope.operation, hash],
  );
  const { rows } = await pool.query<{ request_hash: string; status_code: number | null; response_body: unknown; attempt: number }>(
    'SELECT request_hash, status_code, response_body, attempt FROM idempotency_records WHERE company_id = $1 AND caller = $2 AND key = $3',
    [scope.companyId, caller, key],
  );
  const record = rows[0]!;
  if (record.request_hash !== hash) {
    throw new DomainError('idempotency_key_reused', 'This Idempotency-Key was used with a different request; use a new key for a new attempt', { key });
  }
  const seed = `${scope.companyId}:${caller}:${key}`;
  if (record.status_code !== null) {
    res.setHeader('Idempotent-Replayed', 'true');
    const recorded = { status: record.status_code, body: record.response_body };
    const stored = scope.restoreReplay && record.status_code < 300 ? scope.restoreReplay(recorded, { updateId: undefined, seed }) : recorded;
    return send(res, replayAs ? replayAs(stored) : stored);
  }
  if (inserted.rowCount === 0 && scope.reentrant === false) {
    // Take over a stale attempt (compare-and-set on its start time), or tell the caller to wait.
    const claimed = await pool.query(
      `UPDATE idempotency_records SET created_at = now()
       WHERE company_id = $1 AND caller = $2 AND key = $3 AND status_code IS NULL AND created_at < now() - make_interval(secs => $4)`,
      [scope.companyId, caller, key, IN_PROGRESS_WINDOW_SECONDS],
    );
    if (claimed.rowCount === 0) {
      res.setHeader('Retry-After', '2');
      throw new DomainError('idempotency_in_progress', 'A request with this Idempotency-Key is still in progress; retry shortly', { key });
    }
  }
  // First attempt, or a retry of one that never recorded its answer: run it under the same ids.
  const countAttempt = () =>
    pool.query('UPDATE idempotency_records SET attempt = attempt + 1 WHERE company_id = $1 AND caller = $2 AND key = $3 AND status_code IS NULL', [scope.companyId, caller, key]).then(
      () => undefined,
      (err) => logger.error({ err, key, operation: scope.operation }, 'could not count a refused attempt'),
    );
  // After a "come back later" refusal, a retry is a new attempt: the refused update changed nothing, and Temporal would answer its id the same way again.
  const updateId = record.attempt > 0 ? `${scope.operation}:${seed}:${record.attempt}` : `${scope.operation}:${seed}`;
  const outcome = await capture(() => exec({ updateId, seed }), present).catch(async (err) => {
    // An outage the workflow gave up on for this attempt: the next request with the key tries again, as a new attempt.
    if (scope.newAttemptAfterOutage && err instanceof DomainError && err.code === 'provider_unavailable' && err.details?.final) await countAttempt();
    throw err;
  });
  if (outcome.comeBackLater) await countAttempt();

  if (outcome.status < 500 && outcome.final !== false) {
    try {
      await pool.query(
        `UPDATE idempotency_records SET status_code = $4, response_body = $5, completed_at = now()
         WHERE company_id = $1 AND caller = $2 AND key = $3 AND status_code IS NULL`,
        [scope.companyId, caller, key, outcome.status, JSON.stringify(storable(outcome.replayBody ?? outcome.body))],
      );
    } catch (err) {
      // The effect happened: the caller gets its answer. A retry runs again under the same ids
      // (the workflow answers a known update id the same way), so nothing happens twice.
      logger.error({ err, key, operation: scope.operation }, 'could not record an idempotent answer');
    }
  }
  // Not the request that recorded the key (a concurrent duplicate, or the retry of one that never
  // answered): it ran under the same ids and made nothing new, so it answers as a replay does.
  if (inserted.rowCount === 0 && outcome.status < 300) {
    res.setHeader('Idempotent-Replayed', 'true');
    return send(res, replayAs ? replayAs(outcome) : outcome);
  }
  send(res, outcome);
}

/** Refusals a retry may see change (an operator can restore a closed task; a rate limit resets): answered, not replayed. */
const PASSING_REFUSALS = new Set(['task_unavailable', 'rate_limited']);
/** Of those, the ones whose retry must run as a new attempt (a new update id). */
const COME_BACK_LATER = new Set(['rate_limited']);

/** Domain refusals are answers too (and are replayed); anything else propagates. */
async function capture(exec: () => Promise<Outcome>, present: (err: DomainError) => unknown): Promise<Outcome> {
  try {
    return await exec();
  } catch (err) {
    if (err instanceof DomainError && ERROR_HTTP_STATUS[err.code] < 500) {
      // A 429 says when to come back, as sendError does for a refusal outside a key.
      const retryAfter = retryAfterOf(err);
      return {
        status: ERROR_HTTP_STATUS[err.code], body: present(err), final: !PASSING_REFUSALS.has(err.code), comeBackLater: COME_BACK_LATER.has(err.code),
        ...(retryAfter ? { headers: { 'Retry-After': retryAfter } } : {}),
      };
    }
    throw err;
  }
}

function send(res: Response, outcome: Outcome): void {
  if (res.headersSent) return; // the deadline guard answered first
  for (const [name, value] of Object.entries(outcome.headers ?? {})) res.setHeader(name, value);
  res.status(outcome.status).json(outcome.body);
}
