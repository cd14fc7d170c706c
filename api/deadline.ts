/**
 * One deadline per request, set when it arrives: queueing behind other requests on the same issue,
 * the Temporal call and the read-model write all count against SWITCHYARD_TEMPORAL_TIMEOUT_MS.
 */
import type { NextFunction, Request, Response } from 'express';

export function setDeadline(timeoutMs: number) {
  return (_req: Request, res: Response, next: NextFunction) => {
    res.locals.deadline = Date.now() + timeoutMs;
    next();
  };
}

export function deadlineOf(res: Response): number {
  return res.locals.deadline as number;
}
