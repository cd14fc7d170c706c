/** Agent API keys as AgentRail's clients read them, and which of them a caller may see (never a secret). */
import type pg from 'pg';
import type { Response } from 'express';
import { DomainError } from '../domain/errors.js';
import { ADMIN_SCOPE } from '../domain/scopes.js';
import { callerOf } from './auth.js';

type Db = Pick<pg.Pool, 'query'>;

export interface KeyRow {
  id: string; agent_id: string; company_id: string; kind: string; scopes: string[]; window_seconds: number; max_requests: number;
  status: 'active' | 'rotated' | 'revoked'; created_at: string; expires_at: string | null; rotated_from_key_id: string | null; rotated_at: string | null;
  grace_until: string | null; revoked_at: string | null; task_id: string | null; run_id: string | null; agent_display_name: string; agent_role: string;
  external_identities: unknown[]; last_used_at: string | null; accepted: number; denied: number; by_scope: Record<string, number>;
  by_operation: Record<string, number>; window_started_at: string | null; window_used: number;
  /** Computed by the database's clock, as the admission is. */
  expired: boolean; now: string;
}

/** Every column but the hash, with expiry judged by the database's clock. */
export const KEY_SELECT = `SELECT k.id, k.agent_id, k.company_id, k.kind, k.scopes, k.window_seconds, k.max_requests, k.status, k.created_at, k.expires_at,
  k.rotated_from_key_id, k.rotated_at, k.grace_until, k.revoked_at, k.task_id, k.run_id, k.agent_display_name, k.agent_role, k.external_identities,
  k.last_used_at, k.accepted, k.denied, k.by_scope, k.by_operation, k.window_started_at, k.window_used,
  (k.expires_at IS NOT NULL AND k.expires_at <= now()) AS expired, now() AS now FROM agent_api_keys k`;

export async function keyRow(db: Db, id: string): Promise<KeyRow | undefined> {
  return (await db.query<KeyRow>(`${KEY_SELECT} WHERE k.id = $1`, [id])).rows[0];
}

/** Stored status, or `expired` once expires_at has passed (expiry is by time, never written). */
export function statusOf(k: KeyRow): string {
  return k.status === 'active' && k.expired ? 'expired' : k.status;
}

const isLive = (k: KeyRow) => statusOf(k) === 'active';
export const keyActions = (k: KeyRow) => (isLive(k) ? ['rotate', 'view_usage'] : ['view_usage']);

const agentOf = (k: KeyRow) => ({ id: k.agent_id, displayName: k.agent_display_name, role: k.agent_role, externalIdentities: k.external_identities });
const rateLimitOf = (k: KeyRow) => ({ windowSeconds: k.window_seconds, maxRequests: k.max_requests });

/** The answer to a create or rotate: AgentRail's shape exactly, with the secret this once. */
export function issuedKeyView(k: KeyRow, apiKey: string | null) {
  return {
    id: k.id, apiKey, agent: agentOf(k), scopes: k.scopes, rateLimit: rateLimitOf(k), status: statusOf(k), createdAt: k.created_at, expiresAt: k.expires_at,
    rotatedFromKeyId: k.rotated_from_key_id, availableActions: keyActions(k),
  };
}

/** A key as listed and read: AgentRail's fields and ours (kind, company, task scope, rotation and revocation times). */
export function keyView(k: KeyRow) {
  return {
    id: k.id, agent: agentOf(k), companyId: k.company_id, kind: k.kind, scopes: k.scopes, rateLimit: rateLimitOf(k), status: statusOf(k),
    createdAt: k.created_at, expiresAt: k.expires_at, rotatedFromKeyId: k.rotated_from_key_id, rotatedAt: k.rotated_at, graceEndsAt: k.grace_until,
    revokedAt: k.revoked_at, lastUsedAt: k.last_used_at, taskId: k.task_id, runId: k.run_id, availableActions: keyActions(k),
  };
}

const counts = <N extends string>(name: N, by: Record<string, number>) =>
  Object.keys(by).sort().map((key) => ({ [name]: key, count: Number(by[key]) }) as { [K in N]: string } & { count: number });

/** AgentRail's usage answer; the current window is read now (a window that ended shows the next one, unused). */
export function usageView(k: KeyRow) {
  const now = Date.parse(k.now);
  const started = k.window_started_at ? Date.parse(k.window_started_at) : undefined;
  const open = started !== undefined && started + k.window_seconds * 1000 > now;
  const startedAt = open ? started! : now;
  const used = open ? k.window_used : 0;
  return {
    keyId: k.id, agent: agentOf(k), scopes: k.scopes, status: statusOf(k), lastUsedAt: k.last_used_at,
    totals: { accepted: Number(k.accepted), denied: Number(k.denied) },
    byScope: counts('scope', k.by_scope),
    byOperation: counts('operation', k.by_operation),
    rateLimit: {
      ...rateLimitOf(k),
      currentWindow: { startedAt: new Date(startedAt).toISOString(), resetAt: new Date(startedAt + k.window_seconds * 1000).toISOString(), used, remaining: Math.max(0, k.max_requests - used) },
    },
    availableActions: isLive(k) ? ['rotate'] : [],
  };
}

/**
 * The operator sees every key; an agent only its own agent's, whatever its scopes (auth:admin on an
 * agent's key never reaches another agent: that would let one agent act as another). A key the caller
 * may not see answers exactly as one that does not exist.
 */
export function maySee(res: Response, k: Pick<KeyRow, 'company_id' | 'agent_id'>): boolean {
  const caller = callerOf(res);
  if (caller.kind === 'operator') return true;
  return caller.agent.companyId === k.company_id && caller.agent.id === k.agent_id;
}

/**
 * What an agent may mint for itself: never from a key bound to one task (a run token would escape its
 * task), and never a scope its own key lacks (auth:admin stands for all of them).
 */
export function assertMayMint(res: Response, scopes: readonly string[]): void {
  const caller = callerOf(res);
  if (caller.kind === 'operator') return;
  if (caller.key.taskId) throw new DomainError('forbidden', 'A key bound to one task cannot mint keys', { availableActions: [] });
  const held = caller.key.scopes;
  const wider = held.includes(ADMIN_SCOPE) ? [] : scopes.filter((s) => !held.includes(s));
  if (wider.length) throw new DomainError('insufficient_scope', `A key cannot mint scopes it does not hold: ${wider.join(', ')}`, { requiredScope: wider[0], grantedScopes: held, availableActions: ['request_scope'] });
}

/** AgentRail's answers for a key id it does not know: 401 on rotate and usage, 404 elsewhere; an id not of its shape is the generic 404. */
export async function visibleKey(db: Db, res: Response, keyId: string, notFound: 'unauthorized' | 'not_found'): Promise<KeyRow> {
  if (!/^akey_[A-Za-z0-9]+$/.test(keyId)) throw new DomainError('not_found', 'Not found', { availableActions: [] });
  const k = await keyRow(db, keyId);
  if (k && maySee(res, k)) return k;
  if (notFound === 'unauthorized') throw new DomainError('unauthorized', 'Agent API key was not found.', { keyId, availableActions: ['reauthenticate'] });
  throw new DomainError('not_found', 'Agent API key not found.', { keyId, availableActions: ['list_agent_api_keys'] });
}
