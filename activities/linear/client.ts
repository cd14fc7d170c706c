/**
 * The Linear client and the one place its failures are normalised: rate limits are waited out (one gate
 * per credential, so concurrent calls with a key wait for the same reset), credential and input refusals
 * become ProviderRefusal (never retried), anything else stays a plain Error (the activity retries).
 */
import { createHash } from 'node:crypto';
import {
  AuthenticationLinearError,
  ForbiddenLinearError,
  GraphqlLinearError,
  InvalidInputLinearError,
  LinearClient,
  LinearError,
  RatelimitedLinearError,
  UsageLimitExceededLinearError,
} from '@linear/sdk';
import { ProviderRefusal } from '../providers/ports.js';

export const LINEAR_API_URL = 'https://api.linear.app/graphql';

/** Plain http only to this machine (a fake or a tunnel); SDK 88.3.0 itself sends the key to any URL. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** `signal` bounds every request of this client (a route's deadline). */
export function linearClient(opts: { apiKey: string; apiUrl?: string; signal?: AbortSignal }): LinearClient {
  const apiUrl = opts.apiUrl ?? LINEAR_API_URL;
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new ProviderRefusal('validation_error', `Linear apiUrl is not a URL: ${apiUrl}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new ProviderRefusal('validation_error', `Linear apiUrl must be https (http only for localhost): ${apiUrl}`);
  }
  if (!opts.apiKey) throw new ProviderRefusal('source_credential_invalid', 'Linear API key is empty');
  const client = new LinearClient({ apiKey: opts.apiKey, apiUrl, ...(opts.signal ? { signal: opts.signal } : {}) });
  credentials.set(client, keyHash(opts.apiKey));
  return client;
}

const credentials = new WeakMap<LinearClient, string>();

function keyHash(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 32);
}

function credentialOf(client: LinearClient): string {
  const known = credentials.get(client);
  if (known) return known;
  const headers = client.options.headers as Record<string, string> | undefined;
  return keyHash(headers?.Authorization ?? headers?.authorization ?? '');
}

/** Per credential (by hash, never the key): until when every call must hold off. */
const gates = new Map<string, number>();

export interface WithLinearOptions {
  /** The most one call waits for rate limits in total before giving up (plain Error: the activity retries later). */
  maxWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * When Linear says the limit resets: `retryAfter` (seconds) when sent, else the reset of the exhausted
 * budget (X-RateLimit-{Requests,Complexity}-Reset; Linear documents epoch milliseconds, seconds are
 * accepted too), else a second from now.
 */
export function rateLimitResetAt(err: RatelimitedLinearError, now: number): number {
  if (typeof err.retryAfter === 'number' && Number.isFinite(err.retryAfter)) return now + err.retryAfter * 1000;
  const epoch = (v: number | undefined) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? (v < 1e12 ? v * 1000 : v) : undefined);
  const requests = err.requestsRemaining === 0 ? epoch(err.requestsResetAt) : undefined;
  const complexity = err.complexityRemaining === 0 ? epoch(err.complexityResetAt) : undefined;
  const exhausted = [requests, complexity].filter((x): x is number => x !== undefined);
  const any = exhausted.length ? exhausted : [epoch(err.requestsResetAt), epoch(err.complexityResetAt)].filter((x): x is number => x !== undefined);
  return any.length ? Math.max(...any) : now + 1000;
}

/** Runs `fn` with the client, waiting out rate limits and turning Linear's verdicts into ProviderRefusal. */
export async function withLinear<T>(client: LinearClient, fn: (client: LinearClient) => Promise<T>, opts: WithLinearOptions = {}): Promise<T> {
  const sleep = opts.sleep ?? defaultSleep;
  const now = opts.now ?? Date.now;
  const budget = opts.maxWaitMs ?? 60_000;
  const credential = credentialOf(client);
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    const until = gates.get(credential) ?? 0;
    const wait = until - now();
    if (wait > 0) {
      if (waited + wait > budget) throw new Error(`Linear rate limit: the reset is ${Math.ceil(wait / 1000)} s away, beyond this call's wait budget; retry later`);
      await sleep(wait);
      waited += wait;
    }
    try {
      return await fn(client);
    } catch (err) {
      if (err instanceof RatelimitedLinearError && attempt < 20) {
        // A floor, so a reset already past (clock skew, a stale header) does not spin.
        const resetAt = Math.max(rateLimitResetAt(err, now()), now() + 100);
        gates.set(credential, Math.max(gates.get(credential) ?? 0, resetAt));
        continue;
      }
      throw normalize(err);
    }
  }
}

/** Linear's verdicts in our vocabulary; anything that may pass on retry stays a plain Error. */
export function normalize(err: unknown): unknown {
  if (!(err instanceof LinearError)) return err;
  const details = { provider: 'linear', type: err.type, status: err.status ?? null, errors: (err.errors ?? []).map((e) => e.message) };
  if (err instanceof AuthenticationLinearError || err instanceof ForbiddenLinearError) {
    return new ProviderRefusal('source_credential_invalid', `Linear refused the credential: ${err.message}`, details);
  }
  if (err instanceof InvalidInputLinearError) {
    const notFound = /not found|could not find/i.test(err.message);
    return new ProviderRefusal(notFound ? 'not_found' : 'validation_error', `Linear refused the input: ${err.message}`, details);
  }
  // Our document does not match Linear's schema: a bug on our side that no retry fixes.
  if (err instanceof GraphqlLinearError) return new ProviderRefusal('provider_rejected', `Linear rejected the query: ${err.message}`, details);
  if (err instanceof UsageLimitExceededLinearError) return new ProviderRefusal('limit_exceeded', `Linear usage limit exceeded: ${err.message}`, details);
  if (err instanceof RatelimitedLinearError) return new Error(`Linear rate limit persisted: ${err.message}`);
  return err;
}

/** Until when calls with this client's credential hold off (epoch ms; 0: they do not). */
export function rateLimitedUntil(client: LinearClient): number {
  const until = gates.get(credentialOf(client)) ?? 0;
  return until > Date.now() ? until : 0;
}

/** Tests only: forget every credential's rate-limit gate. */
export function resetLinearGates(): void {
  gates.clear();
}
