/**
 * The activity boundary: whatever an activity throws reaches the workflow in our vocabulary. A verdict
 * (a provider's refusal, a domain rule, a 4xx that would repeat) becomes a non-retryable
 * ApplicationFailure typed with a stable code from domain/errors.ts; everything else (5xx, timeouts,
 * connection errors, rate limits the client gave up waiting on) stays retryable.
 */
import { ApplicationFailure } from '@temporalio/common';
import { DomainError } from '../domain/errors.js';
import { isTransientDbError } from '../db/projection.js';
import { ProviderError } from './github/types.js';
import { ProviderRefusal } from './providers/ports.js';

const REPEATING_4XX = new Set([400, 401, 404, 405, 409, 410, 422, 451]);

export function normalizeError(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof ProviderRefusal || err instanceof DomainError) {
    return ApplicationFailure.create({ type: err.code, message: err.message, details: [err.details ?? {}], nonRetryable: true });
  }
  if (err instanceof ProviderError) {
    const code = err.code === 'head_sha_mismatch' || err.code === 'not_mergeable' || err.code === 'branch_not_found' ? err.code : 'provider_rejected';
    return ApplicationFailure.create({ type: code, message: err.message, details: [{ upstreamStatus: err.status ?? null, providerCode: err.code }], nonRetryable: true });
  }
  // Postgres refusing the data (class 22/23…) would refuse it on every retry.
  const sqlState = (err as { code?: unknown })?.code;
  if (typeof sqlState === 'string' && /^[0-9A-Z]{5}$/.test(sqlState) && !isTransientDbError(err)) {
    return ApplicationFailure.create({ type: 'internal_error', message: `Postgres refused: ${(err as Error).message}`, details: [{ sqlState }], nonRetryable: true });
  }
  if (credentialRefused(err)) {
    return ApplicationFailure.create({ type: 'source_credential_invalid', message: `The source's credential is refused: ${(err as Error).message}; set a working one (PATCH /api/sources/{id})`, details: [{ upstreamStatus: (err as { status?: number }).status ?? null }], nonRetryable: true });
  }
  const status = (err as { status?: unknown })?.status;
  if (typeof status === 'number' && REPEATING_4XX.has(status)) {
    return ApplicationFailure.create({ type: 'provider_rejected', message: (err as Error).message, details: [{ upstreamStatus: status }], nonRetryable: true });
  }
  return err;
}

/**
 * A credential the provider will never accept: GitHub's 401, or a GitHub App private key that cannot
 * sign (WebCrypto's DataError, before any request). A configuration error, not an outage.
 */
export function credentialRefused(err: unknown): boolean {
  const e = err as { status?: unknown; name?: unknown; message?: unknown };
  return e?.status === 401 || (e?.name === 'DataError' && /key/i.test(String(e.message)));
}

/** Wraps every function of an activity object so its failures cross the boundary normalized. */
export function atBoundary<T extends { [K in keyof T]: (...args: any[]) => Promise<unknown> }>(activities: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities) as Array<[string, (...args: unknown[]) => Promise<unknown>]>) {
    out[name] = async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw normalizeError(err);
      }
    };
  }
  return out as T;
}
