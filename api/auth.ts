/**
 * Bearer keys: the operator ("board") key, or an agent API key (agent_api_keys: the key an agent was
 * created with, one minted with scopes, or a process wake's run token), stored only as a SHA-256 hash.
 * An agent key is checked against the route's scope and its rate limit in the same round trip
 * (api/key-admission.ts); enforceKeyAdmission answers the refusals.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { DomainError } from '../domain/errors.js';
import type { Actor } from '../domain/task.js';
import type { Pool } from '../db/pool.js';
import { hashKey } from '../runtime/keys.js';
import { admitKey, type Admission } from './key-admission.js';
import { ruleFor, UNLISTED_ROUTE } from './route-scopes.js';
import { isAgentRailPath } from './errors.js';

export interface AgentIdentity {
  id: string;
  name: string;
  companyId: string;
  role: string | null;
}

/** The key an agent called with: its scopes, and for a run token its task and run. */
export interface KeyGrant {
  id: string;
  scopes: string[];
  taskId: string | null;
  runId: string | null;
}

export type Caller = { kind: 'operator' } | { kind: 'agent'; agent: AgentIdentity; key: KeyGrant };

export { hashKey };
export const newAgentKey = () => `sy_agent_${randomBytes(24).toString('base64url')}`;

const RUN_ID_HEADERS = ['x-run-id', 'x-aimetier-run-id', 'x-paperclip-run-id'];

/** The key a request's `Authorization: Bearer <key>` carries, if any. */
export function bearerKey(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
}

/** Whether a key is the admin key (compared in constant time, over hashes of equal length). */
export function adminKeyMatcher(adminKey: string): (key: string | undefined) => boolean {
  const adminHash = createHash('sha256').update(adminKey).digest();
  return (key) => key !== undefined && timingSafeEqual(createHash('sha256').update(key).digest(), adminHash);
}

/** AgentRail's 401: the same for a missing, unknown, rotated or revoked key. */
const authenticationFailed = () => new DomainError('unauthorized', 'Authentication failed.', { availableActions: ['reauthenticate'] });

export function authenticate(pool: Pool, adminKey: string) {
  const isAdminKey = adminKeyMatcher(adminKey);
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = bearerKey(req.header('authorization'));
    if (!key) throw authenticationFailed();
    if (isAdminKey(key)) {
      res.locals.caller = { kind: 'operator' } satisfies Caller;
      return next();
    }
    const rule = ruleFor(req.method, req.baseUrl + req.path) ?? UNLISTED_ROUTE;
    const admission = await admitKey(pool, hashKey(key), rule);
    if (admission.verdict === 'unknown' || admission.verdict === 'inactive') throw authenticationFailed();
    if (admission.verdict === 'expired') throw new DomainError('unauthorized', 'Agent API key has expired.', { keyId: admission.keyId, availableActions: ['reauthenticate'] });
    res.locals.caller = { kind: 'agent', agent: admission.agent, key: { id: admission.keyId, scopes: admission.scopes, taskId: admission.taskId, runId: admission.runId } } satisfies Caller;
    res.locals.admission = { ...admission, rule };
    // A run token names its run: a header may not claim another one.
    if (admission.runId) res.locals.tokenRunId = admission.runId;
    next();
  };
}

/**
 * After authentication, under /api: an agent key missing the route's scope is 403 insufficient_scope,
 * one past its window 429 rate_limited (both counted as denied by the admission). The operator passes.
 */
export function enforceKeyAdmission(_req: Request, res: Response, next: NextFunction): void {
  const admission = res.locals.admission as (Admission & { rule: { scope: string | null } }) | undefined;
  if (!admission || admission.verdict === 'admitted') return next();
  if (admission.verdict === 'insufficient_scope') {
    throw new DomainError('insufficient_scope', `This key lacks the ${admission.rule.scope} scope this route needs.`, {
      requiredScope: admission.rule.scope, grantedScopes: admission.scopes, availableActions: ['request_scope'],
    });
  }
  const { windowSeconds, maxRequests } = admission.rateLimit;
  throw new DomainError('rate_limited', `Rate limit exceeded: ${maxRequests} requests per ${windowSeconds} s for this key.`, {
    limit: { windowSeconds, maxRequests }, remaining: 0, resetAt: admission.resetAt, retryAfterSeconds: admission.retryAfterSeconds, availableActions: ['retry'],
  });
}

/** The one task a run token is bound to (null: the caller is not bound to a task). */
export function taskScopeOf(res: Response): string | null {
  const caller = callerOf(res);
  return caller.kind === 'agent' ? caller.key.taskId : null;
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
  const agentRail = isAgentRailPath(req.path);
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
