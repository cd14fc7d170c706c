/**
 * A key's scopes narrow the availableActions every answer offers it (issue 15 §4): one wrapper around
 * res.json for keys without auth:admin, so no presenter (api/present*.ts, route envelopes, refusals'
 * details, replayed answers) can forget. It only removes actions (domain/scopes.ts ACTION_SCOPES): what
 * the workflow offers stays its decision, and each write route still needs its scope (the route table).
 */
import type { NextFunction, Request, Response } from 'express';
import { ADMIN_SCOPE, narrowActions } from '../domain/scopes.js';
import { callerOf } from './auth.js';

export function narrowActionsToScopes(_req: Request, res: Response, next: NextFunction): void {
  const caller = callerOf(res);
  if (caller.kind !== 'agent' || caller.key.scopes.includes(ADMIN_SCOPE)) return next();
  const json = res.json.bind(res);
  res.json = (body: unknown) => json(narrowed(body, caller.key.scopes));
  next();
}

/** `availableActions`, and the variants some answers carry (`taskAvailableActions`), wherever they sit. */
function narrowed(value: unknown, scopes: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => narrowed(v, scopes));
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, /availableActions$/i.test(k) && Array.isArray(v) && v.every((a) => typeof a === 'string') ? narrowActions(v, scopes) : narrowed(v, scopes)]),
  );
}
