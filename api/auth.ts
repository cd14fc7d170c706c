/** Bearer keys: the operator ("board") key, or an agent's key, stored only as a SHA-256 hash. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { DomainError } from '../domain/errors.js';
import type { Actor } from '../domain/task.js';
import type { Pool } from '../db/pool.js';

export interface AgentIdentity {
  id: string;
  name: string;
  companyId: string;
  role: string | null;
}

export type Caller = { kind: 'operator' } | { kind: 'agent'; agent: AgentIdentity };

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');
export const newAgentKey = () => `sy_agent_${randomBytes(24).toString('base64url')}`;

const RUN_ID_HEADERS = ['x-run-id', 'x-aimetier-run-id', 'x-paperclip-run-id'];

/** Agent keys looked up in the last 30 s are trusted without a query (agents are never deleted). */
const AGENT_CACHE_MS = 30_000;
const AGENT_CACHE_MAX = 10_000;

export function authenticate(pool: Pool, adminKey: string) {
  const adminHash = createHash('sha256').update(adminKey).digest();
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
    const header = req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new DomainError('unauthorized', 'Send Authorization: Bearer <key>');
    const key = match[1]!;
    if (timingSafeEqual(createHash('sha256').update(key).digest(), adminHash)) {
      res.locals.caller = { kind: 'operator' } satisfies Caller;
      return next();
    }
    const agent = await lookup(hashKey(key));
    if (!agent) throw new DomainError('unauthorized', 'Unknown API key');
    res.locals.caller = { kind: 'agent', agent } satisfies Caller;
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
  if (mutating && callerOf(res).kind === 'agent' && !runIdOf(req)) {
    throw new DomainError('run_id_required', 'Agent state changes need an X-Run-Id header (X-AImetier-Run-Id and X-Paperclip-Run-Id are accepted too)');
  }
  next();
}

export function actorOf(req: Request, res: Response): Actor {
  const caller = callerOf(res);
  const runId = runIdOf(req);
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
