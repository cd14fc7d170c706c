/**
 * Every string a request carries (body, query) must be text Postgres can store: a NUL or a lone
 * surrogate anywhere is 400 validation_error naming the field, before anything is read or changed.
 * Bodies nested absurdly deep are refused first.
 */
import type { NextFunction, Request, Response } from 'express';
import { DomainError } from '../domain/errors.js';
import { findUnstorableText, nestingDepth } from '../domain/text.js';

/** No request of this API nests deeper than a few levels; past this it is refused before any walk. */
const MAX_NESTING = 32;

export function refuseUnstorableText(req: Request, _res: Response, next: NextFunction): void {
  if (nestingDepth(req.body, MAX_NESTING) > MAX_NESTING) {
    throw new DomainError('validation_error', `The request body nests deeper than ${MAX_NESTING} levels`, { maxNesting: MAX_NESTING });
  }
  const bad = findUnstorableText(req.body) ?? findUnstorableText(req.query, 'query');
  if (bad) throw new DomainError('validation_error', `${bad.path} ${bad.problem}`, { field: bad.path, issues: [{ path: bad.path, message: bad.problem, code: 'unstorable_text' }] });
  next();
}
