/** Bearer keys: the operator ("board") key, or an agent's key, stored only as a SHA-256 hash. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { DomainError } from '../domain/errors.js';
import type { Actor } from '../domain/task.js';
import type { Pool } from '../db/pool.js';
import { hashKey } from '../runtime/keys.js';

export interface AgentIdentity {
  id: string;
  name: string;
  companyId: string;
  role: string | null;
}

export type Caller = { kind: 'operator' } | { kind: 'agent'; agent: AgentIdentity };

export { hashKey };
export const newAgentKey = () => `sy_agent_${randomBytes(24).toString('base64url')}`;

const RUN_ID_HEADERS = ['x-run-id', 'x-aimetier-run-id', 'x-paperclip-run-id'];

/** Agent keys looked up in the last 30 s are trusted without a query (agents are never deleted). */
const AGENT_CACHE_MS = 30_000;
const AGENT_CACHE_MAX = 10_000;

/** The key a request's `Authorization: Bearer <key>` carries, if any. */
export function bearerKey(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
}

/** Whether a key is the admin key (compared in constant time, over hashes of equal length). */
export function adminKeyMatcher(adminKey: string): (key: string | undefined) => boolean {
  const adminHash = createHash('sha256').update(adminKey).digest();
  return (key) => key !== undefined && timingSafeEqual(createHash('sha256').update(key).digest(), adminHash);
}

export function authenticate(pool: Pool, adminKey: string) {
  const isAdminKey = adminKeyMatcher(adminKey);
  const cache = new Map<string, { agent: AgentIdentity; until: number }>();
  const lookup = async (hash: string): Promise<AgentIdentity | undefined> => {
    const hit = cache.get(hash);
    if (hit && hit.until > Date.now()) return hit.agent;
    const { rows } = await pool.query<AgentIdentity>(
      'SELECT id, name, company_id AS "companyId", role FROM agents WHERE api_key_hash = $1',
      [hash],
    );
    if (rows[0]) {
      if (cache.size >= AGENT_CACHE_MAX) cache.clear();
      cache.set(hash, { agent: rows[0], until: Date.now() + AGENT_CACHE_MS });
    }
    return rows[0];
  };
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = bearerKey(req.header('authorization'));
    if (!key) throw new DomainError('unauthorized', 'Send Authorization: Bearer <key>');
    if (isAdminKey(key)) {
      res.locals.caller = { kind: 'operator' } satisfies Caller;
      return next();
    }
    const hash = hashKey(key);
    const agent = await lookup(hash);
    if (agent) {
      res.locals.caller = { kind: 'agent', agent } satisfies Caller;
      return next();
    }
    // A run token minted for one wake of a managed local agent: that agent, that run, until it expires.
    const { rows } = await pool.query<AgentIdentity & { runId: string; expired: boolean }>(
      `SELECT a.id, a.name, a.company_id AS "companyId", a.role, t.run_id AS "runId", t.expires_at <= now() AS expired
       FROM run_tokens t JOIN agents a ON a.id = t.agent_id WHERE t.token_hash = $1`,
      [hash],
    );
    const token = rows[0];
    if (!token) throw new DomainError('unauthorized', 'Unknown API key');
    if (token.expired) throw new DomainError('unauthorized', 'This run token has expired', { expired: true });
    res.locals.caller = { kind: 'agent', agent: { id: token.id, name: token.name, companyId: token.companyId, role: token.role } } satisfies Caller;
    res.locals.tokenRunId = token.runId;
    next();
  };
}

export function callerOf(res: Response): Caller {
  return res.locals.caller as Caller;
}

export function runIdOf(req: Request): string | null {
  for (const name of RUN_ID_HEADERS) {
    const value = req.header(name)?.trim();
    if (value) {
      if (value.length > 200) throw new DomainError('validation_error', 'The run id is over 200 characters', { header: name });
      return value;
    }
  }
  return null;
}

/** Agents' state changes must say which run made them; operators may omit it. */
export function requireRunId(req: Request, res: Response, next: NextFunction): void {
  const mutating = req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS';
  // AgentRail's SDK sends no run id: its routes take the run from the header when there is one.
  const agentRail = req.path === '/tasks' || req.path.startsWith('/tasks/') || req.path.startsWith('/providers/linear/tasks/');
  if (mutating && !agentRail && callerOf(res).kind === 'agent' && !runIdOf(req) && !res.locals.tokenRunId) {
    throw new DomainError('run_id_required', 'Agent state changes need an X-Run-Id header (X-AImetier-Run-Id and X-Paperclip-Run-Id are accepted too)');
  }
  next();
}

export function actorOf(req: Request, res: Response): Actor {
  const caller = callerOf(res);
  // A run token names its run; a header may not claim another one.
  const runId = (res.locals.tokenRunId as string | undefined) ?? runIdOf(req);
  return caller.kind === 'agent' ? { kind: 'agent', agentId: caller.agent.id, runId } : { kind: 'operator', user: 'board', runId };
}

export function requireOperator(res: Response): void {
  if (callerOf(res).kind !== 'operator') throw new DomainError('forbidden', 'This needs the operator (board) key');
}

/** Another company's resources do not exist for this caller: 404, never 403. */
export function assertCompanyAccess(res: Response, companyId: string, what = 'Company'): void {
  const caller = callerOf(res);
  if (caller.kind === 'agent' && caller.agent.companyId !== companyId) throw new DomainError('not_found', `${what} not found`);
}
