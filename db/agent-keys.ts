/** Writing agent API keys (agent_api_keys, migration 014): the three ways a key is made share this. */
import type pg from 'pg';
import { RUN_TOKEN_SCOPES, SCOPES, type Scope } from '../domain/scopes.js';
import { hashKey, newKeyId } from '../runtime/keys.js';
import { randomBytes } from 'node:crypto';

type Db = Pick<pg.Pool, 'query'>;

export type KeyKind = 'agent_key' | 'api_key' | 'run_token';

export interface NewAgentKey {
  id: string;
  secret: string;
  agentId: string;
  kind: KeyKind;
  scopes: readonly Scope[];
  rateLimit?: { windowSeconds: number; maxRequests: number };
  /** An absolute time, or seconds from now (a run token's TTL). */
  expiresAt?: string | null;
  expiresInSeconds?: number;
  rotatedFromKeyId?: string | null;
  taskId?: string | null;
  runId?: string | null;
  displayName?: string;
  role?: string;
  externalIdentities?: unknown[];
}

/** The agent keys are created with keep every power an agent key had before scopes, in a window no agent reaches. */
export const AGENT_KEY_RATE_LIMIT = { windowSeconds: 60, maxRequests: 10_000 };
export const DEFAULT_RATE_LIMIT = { windowSeconds: 60, maxRequests: 600 };

/** Inserts the key unless its id (or secret) exists already: a retried create with the same derived id makes nothing new. */
export async function insertAgentKey(db: Db, k: NewAgentKey): Promise<boolean> {
  const limit = k.rateLimit ?? DEFAULT_RATE_LIMIT;
  const { rowCount } = await db.query(
    `INSERT INTO agent_api_keys (id, key_hash, agent_id, company_id, kind, scopes, window_seconds, max_requests, expires_at,
                                 rotated_from_key_id, task_id, run_id, agent_display_name, agent_role, external_identities)
     SELECT $1, $2, a.id, a.company_id, $4, $5, $6, $7, COALESCE($8::timestamptz, now() + make_interval(secs => $9::double precision)),
            $10, $11, $12, COALESCE($13, a.name), COALESCE($14, a.role, 'agent'), $15
     FROM agents a WHERE a.id = $3
     ON CONFLICT DO NOTHING`,
    [
      k.id, hashKey(k.secret), k.agentId, k.kind, k.scopes, limit.windowSeconds, limit.maxRequests, k.expiresAt ?? null, k.expiresInSeconds ?? null,
      k.rotatedFromKeyId ?? null, k.taskId ?? null, k.runId ?? null, k.displayName ?? null, k.role ?? null, JSON.stringify(k.externalIdentities ?? []),
    ],
  );
  return (rowCount ?? 0) > 0;
}

/** The key an agent is created with: every scope, as agent keys always had. */
export async function insertAgentKeyOfNewAgent(db: Db, agentId: string, secret: string): Promise<void> {
  await insertAgentKey(db, { id: newKeyId(), secret, agentId, kind: 'agent_key', scopes: [...SCOPES], rateLimit: AGENT_KEY_RATE_LIMIT });
}

/** A process wake's run token: that agent, that run, that task only, expiring. Answers the secret (shown to the process once). */
export async function mintRunToken(db: Db, w: { agentId: string; issueId: string | null; runId: string; ttlSeconds: number }): Promise<string> {
  const secret = `sy_run_${randomBytes(24).toString('base64url')}`;
  await insertAgentKey(db, { id: newKeyId(), secret, agentId: w.agentId, kind: 'run_token', scopes: RUN_TOKEN_SCOPES, expiresInSeconds: w.ttlSeconds, taskId: w.issueId, runId: w.runId });
  return secret;
}
