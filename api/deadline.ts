/**
 * One deadline per request, set when it arrives: queueing behind other requests on the same issue,
 * the Temporal call and the read-model writes all count against SWITCHYARD_TEMPORAL_TIMEOUT_MS. Each
 * of those answers 503 by the deadline itself; the guard here is the backstop for anything else that
 * hangs (a paused Postgres on a read): no request goes unanswered past the deadline.
 */
import type { NextFunction, Request, Response } from 'express';
import { DomainError } from '../domain/errors.js';
import { sendError } from './errors.js';

const GUARD_GRACE_MS = 500;

export function setDeadline(timeoutMs: number) {
  return (_req: Request, res: Response, next: NextFunction) => {
    res.locals.deadline = Date.now() + timeoutMs;
    const guard = setTimeout(() => {
      if (res.headersSent) return;
      sendError(
        res,
        new DomainError('deadline_exceeded', 'The request did not finish by its deadline; the change may or may not have been made: retry with the same Idempotency-Key'),
      );
    }, timeoutMs + GUARD_GRACE_MS);
    const clear = () => clearTimeout(guard);
    res.once('finish', clear);
    res.once('close', clear);
    next();
  };
}

export function deadlineOf(res: Response): number {
  return res.locals.deadline as number;
}
