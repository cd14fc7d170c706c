/**
 * One round trip per agent request (issue 15 §4): sy_admit_agent_key (migration 014) finds the key,
 * refuses or admits it for the route's scope, applies its fixed-window rate limit and counts the
 * outcome by scope and operation, all in Postgres, so every API process sees the same window and a
 * revoked or rotated key stops on all of them at once. Nothing is cached in the process: the window and
 * the counts are written on every request anyway (the commit is most of its ~2 ms, docs/keys.md), and a
 * cache would keep a revoked key alive.
 */
import type { Pool } from '../db/pool.js';
import type { RouteRule } from './route-scopes.js';

export type Verdict = 'admitted' | 'unknown' | 'inactive' | 'expired' | 'insufficient_scope' | 'rate_limited';

export interface Admission {
  verdict: Verdict;
  keyId: string;
  agent: { id: string; name: string; companyId: string; role: string | null };
  scopes: string[];
  /** A run token's task: every other task is 404 for this key. */
  taskId: string | null;
  runId: string | null;
  rateLimit: { windowSeconds: number; maxRequests: number };
  resetAt: string | null;
  retryAfterSeconds: number | null;
}

interface Row {
  verdict: Verdict; key_id: string; agent_id: string; agent_name: string; agent_role: string | null; company_id: string; scopes: string[];
  task_id: string | null; run_id: string | null; window_seconds: number; max_requests: number; reset_at: string | null; retry_after_seconds: number | null;
}

export async function admitKey(pool: Pool, keyHash: string, rule: RouteRule): Promise<Admission> {
  const { rows } = await pool.query<Row>({ name: 'admit-agent-key', text: 'SELECT * FROM sy_admit_agent_key($1, $2, $3)', values: [keyHash, rule.scope, rule.operation] });
  const r = rows[0]!;
  return {
    verdict: r.verdict,
    keyId: r.key_id,
    agent: { id: r.agent_id, name: r.agent_name, companyId: r.company_id, role: r.agent_role },
    scopes: r.scopes ?? [],
    taskId: r.task_id,
    runId: r.run_id,
    rateLimit: { windowSeconds: r.window_seconds, maxRequests: r.max_requests },
    resetAt: r.reset_at,
    retryAfterSeconds: r.retry_after_seconds,
  };
}
