/** Every refusal leaves as `{error, code, details?}` with the status the domain's table gives its code. */
import type { ErrorRequestHandler, Response } from 'express';
import {
  ServiceError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  isGrpcServiceError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DomainError, ERROR_HTTP_STATUS, isErrorCode } from '../domain/errors.js';
import { logger } from '../runtime/logger.js';

export const RETRY_AFTER_SECONDS = 2;

export function sendError(res: Response, err: DomainError): void {
  const status = ERROR_HTTP_STATUS[err.code];
  const retryAfter = retryAfterOf(err);
  if (retryAfter) res.setHeader('Retry-After', retryAfter);
  res.status(status).json(presenterFor(res.req?.path ?? '')(err));
}

/** When to come back after a refusal, in whole seconds (a 429 says when its window resets), if it says. */
export function retryAfterOf(err: DomainError): string | undefined {
  const status = ERROR_HTTP_STATUS[err.code];
  if (status === 503) return String(RETRY_AFTER_SECONDS);
  if (status === 429) return String(Math.max(1, Math.ceil(Number(err.details?.retryAfterSeconds ?? RETRY_AFTER_SECONDS))));
  return undefined;
}

/** Our flat shape, for the `/api/issues` family and everything else. */
export function errorBody(err: DomainError) {
  return { error: err.message, code: err.code, ...(err.details ? { details: err.details } : {}) };
}

/** What an AgentRail client can do after each refusal when the rules did not say. */
const AGENTRAIL_NEXT: Partial<Record<string, string[]>> = {
  unauthorized: ['reauthenticate'],
  insufficient_scope: ['request_scope'],
  not_found: ['list_my_tasks'],
  temporal_unavailable: ['retry'],
  provider_unavailable: ['retry'],
  database_unavailable: ['retry'],
  deadline_exceeded: ['retry'],
  idempotency_key_reused: ['retry'],
  idempotency_in_progress: ['retry'],
  head_sha_mismatch: ['get_task'],
  branch_not_found: ['submit'],
  rate_limited: ['retry'],
  // Linear refused the write (an unknown state, say): trying it again will not help; read the task.
  upstream_error: ['get_task'],
};

/** AgentRail's nested shape for `/api/tasks` (its SDK throws on anything else): details always has availableActions. */
export function agentRailErrorBody(err: DomainError) {
  const details = { ...(err.details ?? {}) };
  if (!Array.isArray(details.availableActions)) details.availableActions = AGENTRAIL_NEXT[err.code] ?? [];
  return { error: { code: err.code, message: err.message, details } };
}

/** AgentRail's route families (with or without /api: a client whose baseUrl lacks it). */
const AGENTRAIL_PREFIXES = ['/tasks', '/providers/linear/tasks/', '/agent-api-keys', '/task-events', '/event-subscriptions'];

export function isAgentRailPath(path: string): boolean {
  const p = path.startsWith('/api/') ? path.slice(4) : path;
  return AGENTRAIL_PREFIXES.some((prefix) => p === prefix || p.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`));
}

/** One error type, two presenters, chosen by route family. */
export function presenterFor(path: string): (err: DomainError) => unknown {
  return isAgentRailPath(path) ? agentRailErrorBody : errorBody;
}

// gRPC codes CANCELLED(1), DEADLINE_EXCEEDED(4), RESOURCE_EXHAUSTED(8), UNAVAILABLE(14): the engine is not answering.
const UNAVAILABLE_GRPC = new Set<number>([1, 4, 8, 14]);

/** Temporal's answers in our vocabulary: a domain refusal keeps its code; an unreachable server is 503. */
export function fromTemporal(err: unknown, issueId?: string): unknown {
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure && isErrorCode(cause.type)) {
      return new DomainError(cause.type, cause.message, (cause.details?.[0] as Record<string, unknown> | undefined) ?? undefined);
    }
    return err;
  }
  if (err instanceof WorkflowNotFoundError) return new DomainError('not_found', 'Issue not found', issueId ? { issueId } : undefined);
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return temporalUnavailable();
  if (isGrpcServiceError(err) && UNAVAILABLE_GRPC.has(err.code)) return temporalUnavailable();
  if (err instanceof ServiceError) {
    const code = isGrpcServiceError(err.cause) ? err.cause.code : undefined;
    if (code === undefined || UNAVAILABLE_GRPC.has(code)) return temporalUnavailable();
  }
  return err;
}

/** A workflow the API ran to completion failed: its failure's code if it has one, else the provider did not answer. */
export function workflowFailure(err: unknown): unknown {
  if (err instanceof WorkflowFailedError) {
    let cause: unknown = err.cause;
    while (cause && !(cause instanceof ApplicationFailure && isErrorCode(cause.type))) cause = (cause as { cause?: unknown }).cause;
    if (cause instanceof ApplicationFailure && isErrorCode(cause.type)) {
      return new DomainError(cause.type, cause.message, (cause.details?.[0] as Record<string, unknown> | undefined) ?? undefined);
    }
    return new DomainError('provider_unavailable', `The provider did not answer: ${err.cause?.message ?? err.message}`);
  }
  return fromTemporal(err);
}

/** An operation waiting on GitHub (or another provider) past the caller's deadline: it goes on; the same key gets its result. */
export function providerUnavailable(): DomainError {
  return new DomainError('provider_unavailable', 'The provider has not answered yet; the operation goes on: retry with the same Idempotency-Key for its result', {
    retryAfterSeconds: RETRY_AFTER_SECONDS,
  });
}

export function temporalUnavailable(): DomainError {
  return new DomainError('temporal_unavailable', 'The workflow engine did not answer in time; retry with the same Idempotency-Key', {
    retryAfterSeconds: RETRY_AFTER_SECONDS,
  });
}

function isDatabaseDown(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'ECONNREFUSED' || code === '57P01' || code === '57P03' || /timeout exceeded when trying to connect|Connection terminated|Query read timeout/i.test(String((err as Error)?.message));
}

/** body-parser's refusals (http-errors with a 4xx status): the client's mistake, never a server error. */
function bodyError(err: unknown): DomainError | undefined {
  const e = err as { type?: string; status?: number; message?: string; limit?: number };
  if (typeof e?.status !== 'number' || e.status < 400 || e.status >= 500) return undefined;
  if (e.type === 'entity.parse.failed') return new DomainError('invalid_json', 'The request body is not valid JSON');
  if (e.type === 'entity.too.large') return new DomainError('validation_error', 'The request body is too large', { limitBytes: e.limit });
  if (e.status === 415) return new DomainError('unsupported_encoding', `The request body cannot be read: ${e.message}`);
  // The router's refusal of a path whose percent-encoding does not decode.
  if (/decode param/i.test(e.message ?? '')) return new DomainError('validation_error', 'The URL path is not valid percent-encoding');
  // e.g. Content-Encoding: gzip over a body that is not gzip.
  return new DomainError('invalid_body', `The request body cannot be read: ${e.message}`);
}

export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  // Answered already (the deadline guard spoke first): the late outcome has nowhere to go.
  if (res.headersSent) return;
  if (err instanceof DomainError) return sendError(res, err);
  const refused = bodyError(err);
  if (refused) return sendError(res, refused);
  if (isDatabaseDown(err)) return sendError(res, new DomainError('database_unavailable', 'The database is not reachable'));
  logger.error({ err, method: req.method, path: req.path }, 'unhandled error');
  sendError(res, new DomainError('internal_error', 'Internal error'));
};
