/**
 * Stable error codes and their HTTP statuses. The workflow throws them as ApplicationFailure
 * types; the API maps them back with the same table, so the code an agent sees is the same
 * whichever layer refused.
 */
export const ERROR_HTTP_STATUS = {
  validation_error: 400,
  invalid_json: 400,
  invalid_body: 400,
  invalid_payload: 400,
  run_id_required: 400,
  comment_too_large: 400,
  unauthorized: 401,
  forbidden: 403,
  insufficient_scope: 403,
  not_found: 404,
  linear_source_not_found: 404,
  checkout_conflict: 409,
  /** AgentRail's own 409: rotating a key that is not active; an active event subscription already covering this endpoint and filter set. */
  conflict: 409,
  not_owner: 409,
  status_conflict: 409,
  idempotency_key_reused: 409,
  idempotency_in_progress: 409,
  task_unavailable: 409,
  not_submittable: 409,
  not_shippable: 409,
  no_provider_source: 409,
  no_merged_commit: 409,
  head_sha_mismatch: 409,
  pull_request_taken: 409,
  merge_conflict: 409,
  not_mergeable: 409,
  revision_conflict: 409,
  already_resolved: 409,
  plan_not_approved: 409,
  ambiguous_identifier: 409,
  source_in_use: 409,
  source_exists: 409,
  source_deleted: 409,
  webhook_signature_invalid: 401,
  provider_rejected: 502,
  upstream_error: 502,
  rate_limited: 429,
  provider_unavailable: 503,
  invalid_transition: 422,
  deliverable_missing: 422,
  comment_required: 422,
  invalid_assignee: 422,
  invalid_routing_rule: 422,
  source_credential_invalid: 422,
  repository_not_found: 422,
  team_not_found: 422,
  branch_not_found: 422,
  target_not_current: 422,
  reason_required: 422,
  unresolved_blockers: 422,
  invalid_blockers: 422,
  invalid_review_interaction: 422,
  limit_exceeded: 422,
  cursor_expired: 410,
  payload_too_large: 413,
  unsupported_encoding: 415,
  headers_too_large: 431,
  temporal_unavailable: 503,
  database_unavailable: 503,
  deadline_exceeded: 503,
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_HTTP_STATUS;

/** A refusal decided by the rules (never a crash). Plain data so it crosses Temporal intact. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && value in ERROR_HTTP_STATUS;
}
