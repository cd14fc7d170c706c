/**
 * Every string a request carries (body, query) must be text Postgres can store: a NUL or a lone
 * surrogate anywhere is 400 validation_error naming the field, before anything is read or changed.
 */
import type { NextFunction, Request, Response } from 'express';
import { DomainError } from '../domain/errors.js';
import { findUnstorableText } from '../domain/text.js';

export function refuseUnstorableText(req: Request, _res: Response, next: NextFunction): void {
  const bad = findUnstorableText(req.body) ?? findUnstorableText(req.query, 'query');
  if (bad) throw new DomainError('validation_error', `${bad.path} ${bad.problem}`, { field: bad.path, issues: [{ path: bad.path, message: bad.problem, code: 'unstorable_text' }] });
  next();
}
