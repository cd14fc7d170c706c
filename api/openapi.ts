/**
 * The OpenAPI 3.1 document served at /api/openapi.json. Request bodies and queries are derived from
 * the zod schemas that validate them, and the error responses from the one error-code table, so the
 * document cannot drift from what the API enforces.
 */
import { z } from 'zod';
import { ERROR_HTTP_STATUS } from '../domain/errors.js';
import { PRIORITIES, STATUSES } from '../domain/statuses.js';
import * as schema from './schemas.js';
import * as delivery from './schemas-delivery.js';
import * as keys from './schemas-keys.js';
import * as events from './schemas-events.js';
import { createGoal, patchGoal } from './routes/goals.js';
import { heartbeatContextQuery } from './routes/heartbeat.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const error = (description: string) => ({ description, ...json(ref('Error')) });

/** What each status means here, followed by every code the table maps to it. */
const STATUS_MEANING: Record<number, string> = {
  400: 'the request is malformed (text with a NUL or a lone surrogate names the field)',
  401: 'missing, unknown, rotated, revoked or expired key',
  403: 'needs the operator key, or acting as another agent; insufficient_scope: the key lacks the route\'s scope (docs/keys.md)',
  404: 'no such resource in the caller\'s company',
  409: 'refused by the task\'s current state (task_unavailable: its workflow was cancelled or terminated in Temporal; an operator can restore it)',
  413: 'a webhook delivery larger than its provider sends',
  415: 'a Content-Encoding the API cannot read',
  422: 'the rules refuse this change',
  429: 'the key\'s rate window is full: retry after Retry-After',
  431: 'headers or URL over the server\'s limit',
  500: 'a bug: reported with its request id',
  503: 'retry after Retry-After with the same Idempotency-Key (details.committed: the change was made, the read model is catching up)',
};
const codesByStatus = new Map<number, string[]>();
for (const [code, status] of Object.entries(ERROR_HTTP_STATUS)) codesByStatus.set(status, [...(codesByStatus.get(status) ?? []), code]);
const ERRORS = Object.fromEntries([...codesByStatus].map(([status, codes]) => [status, error(`${STATUS_MEANING[status] ?? ''}: ${codes.join(', ')}`)]));

/** A validating schema as JSON Schema: what the API accepts on input. */
export const bodyOf = (s: z.ZodType) => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};
const queryOf = (s: z.ZodObject) =>
  Object.entries((bodyOf(s) as { properties: Record<string, unknown> }).properties).map(([name, sch]) => ({ name, in: 'query', schema: sch }));

const headers = [
  { name: 'X-Run-Id', in: 'header', description: 'Required on agents\' state changes (X-AImetier-Run-Id and X-Paperclip-Run-Id are accepted too).', schema: { type: 'string' } },
  { name: 'Idempotency-Key', in: 'header', description: 'Same key and body replay the first answer; same key with another body is 409 idempotency_key_reused.', schema: { type: 'string', maxLength: 255 } },
];
const issueId = { name: 'issueId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const companyId = { name: 'companyId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };

function op(summary: string, opts: { params?: unknown[]; body?: unknown; ok: [number, unknown]; mutates?: boolean }) {
  return {
    summary,
    parameters: [...(opts.params ?? []), ...(opts.mutates ? headers : [])],
    ...(opts.body ? { requestBody: { required: true, ...json(opts.body) } } : {}),
    responses: { [opts.ok[0]]: { description: 'OK', ...json(opts.ok[1]) }, ...ERRORS },
  };
}

const obj = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', additionalProperties: false, properties, required });
const str = { type: 'string' };
const nullableStr = { type: ['string', 'null'] };

const sourceId = { name: 'sourceId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const agentId = { name: 'agentId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const taskId = { name: 'issueId', in: 'path', required: true, description: 'the task id or its identifier (ACME-12)', schema: { type: 'string' } };
const keyRequired = { name: 'Idempotency-Key', in: 'header', required: true, description: 'Required: a retry with the same key attaches to the same operation (one PR, one merge).', schema: { type: 'string', maxLength: 255 } };
/** AgentRail's envelope; its errors are nested: {error: {code, message, details: {availableActions}}}. */
const envelope = { type: 'object', properties: { data: { type: 'object' }, availableActions: { type: 'array', items: str }, meta: { type: 'object' } }, required: ['data', 'availableActions'] };
const taskOp = (summary: string, opts: { body?: z.ZodType; ok?: number; write?: boolean }) => ({
  summary,
  parameters: [taskId, ...(opts.write ? [keyRequired] : [])],
  ...(opts.body ? { requestBody: { required: true, ...json(bodyOf(opts.body)) } } : {}),
  responses: { [opts.ok ?? 200]: { description: 'OK', ...json(envelope) }, ...ERRORS },
});

/** Task events (issue 15): the SSE stream, AgentRail's framing. */
const eventPaths = {
  '/api/task-events/stream': {
    get: {
      summary: 'Task events as Server-Sent Events (AgentRail framing: retry, then id/event/one-line data per event, keep-alive comments): scoped to what the caller may read; resumes from cursor or Last-Event-ID (the header wins); 410 cursor_expired for an unknown or expired cursor; 429 past the per-key stream limit',
      parameters: [
        { name: 'eventTypes', in: 'query', description: 'comma-separated event types (README "Task events")', schema: str },
        { name: 'taskId', in: 'query', description: 'one task (id or identifier)', schema: str },
        { name: 'cursor', in: 'query', description: 'an event id or sequence: replay what came after it, then live', schema: str },
        { name: 'heartbeatSeconds', in: 'query', description: 'keep-alive interval, clamped to 10–60 (default 20)', schema: { type: 'integer' } },
        { name: 'Last-Event-ID', in: 'header', description: 'as cursor; wins over it', schema: str },
      ],
      responses: { 200: { description: 'the event stream', content: { 'text/event-stream': { schema: str } } }, ...ERRORS },
    },
  },
};

/** The delivery half (issue 7): sources, routing, webhooks, wakes, and AgentRail's task API. */
const deliveryPaths = {
  '/api/companies/{companyId}/sources': {
    post: op('Connect a repository (operator); credentials are sealed and never returned', { params: [companyId], body: bodyOf(delivery.createSource), ok: [201, { type: 'object' }], mutates: true }),
    get: op('The company\'s sources (operator)', { params: [companyId], ok: [200, { type: 'array' }] }),
  },
  '/api/sources/{sourceId}': {
    get: op('One source (operator)', { params: [sourceId], ok: [200, { type: 'object' }] }),
    patch: op('Interval, filters, policy, paused, secrets (operator); the intake Schedule follows', { params: [sourceId], body: bodyOf(delivery.patchSource), ok: [200, { type: 'object' }], mutates: true }),
    delete: op('Stop intake (the Schedule goes; tasks stay)', { params: [sourceId], ok: [200, { type: 'object' }] }),
  },
  '/api/sources/{sourceId}/sync': { post: op('Poll now, as the Schedule intake/<id> would; answers what it found (202 {status: running, workflowId} when the poll outlasts the request: it goes on in Temporal)', { params: [sourceId], ok: [200, { type: 'object' }] }) },
  '/api/companies/{companyId}/routing': {
    get: op('The ordered routing rules', { params: [companyId], ok: [200, { type: 'object' }] }),
    put: op('Replace the rules (operator); every unroutable task is routed again', { params: [companyId], body: bodyOf(delivery.putRouting), ok: [200, { type: 'object' }], mutates: true }),
  },
  '/api/issues/{issueId}/route': { post: op('Route this unassigned task now (operator)', { params: [issueId], ok: [200, ref('Issue')], mutates: true }) },
  '/api/providers/github/webhooks/{sourceId}': {
    post: {
      summary: 'GitHub webhook deliveries: X-Hub-Signature-256 checked with the source\'s secret, X-GitHub-Delivery deduplicated (a replay is 200), 202 once handed to Temporal',
      security: [],
      parameters: [sourceId],
      responses: { 202: { description: 'accepted' }, 200: { description: 'a delivery already taken' }, 401: error('webhook_signature_invalid'), 404: error('not_found'), 503: error('temporal_unavailable: redeliver') },
    },
  },
  '/api/providers/linear/webhooks/{sourceId}': {
    post: {
      summary: 'Linear webhook deliveries: Linear-Signature (hex HMAC-SHA256 of the raw body) and webhookTimestamp (within 60 s) checked, Linear-Delivery deduplicated (a replay is 200 duplicate); an Issue is 202 (intake), a Comment 200 (on its task)',
      security: [],
      parameters: [sourceId],
      responses: { 202: { description: 'accepted' }, 200: { description: 'a comment taken, or a delivery already taken' }, 400: error('invalid_json, invalid_payload, validation_error'), 401: error('webhook_signature_invalid'), 404: error('not_found'), 503: error('temporal_unavailable: redeliver') },
    },
  },
  '/api/providers/circleci/webhooks/{sourceId}': {
    post: {
      summary: 'CircleCI webhook deliveries to a repository\'s source: circleci-signature v1 checked with its CircleCI webhook secret, the event id deduplicated; a completed workflow or job makes the tasks in review on that head read CI now',
      security: [],
      parameters: [sourceId],
      responses: { 202: { description: 'accepted' }, 200: { description: 'a delivery already taken' }, 400: error('invalid_json, invalid_payload'), 401: error('webhook_signature_invalid'), 404: error('not_found'), 503: error('temporal_unavailable: redeliver') },
    },
  },
  '/api/providers/linear/tasks/{issueId}/comments': {
    post: taskOp('AgentRail: a comment on the task\'s Linear issue (201; 404 linear_source_not_found for a task not from Linear; 429 rate_limited with Retry-After; 502 upstream_error)', { body: delivery.linearComment, ok: 201, write: true }),
  },
  '/api/providers/linear/tasks/{issueId}/workflow-state': {
    post: taskOp('AgentRail: move the task\'s Linear issue to a workflow state; the task follows as for a person\'s move in Linear (200 with stateName and agentRailStatus)', { body: delivery.linearWorkflowState, ok: 200, write: true }),
  },
  '/api/agents/{agentId}/wake-target': { put: op('Set how an assignment wakes the agent (operator): signed HTTP POST, a local process, or null', { params: [agentId], body: bodyOf(delivery.putWakeTarget), ok: [200, { type: 'object' }] }) },
  '/api/agents/me/wakeups': { get: op('The calling agent\'s wakes, newest first (for agents that poll)', { ok: [200, { type: 'object' }] }) },
  '/api/tasks/mine': {
    get: { summary: 'The calling agent\'s tasks, newest change first', parameters: queryOf(delivery.listMine), responses: { 200: { description: 'OK', ...json(envelope) }, ...ERRORS } },
  },
  '/api/tasks/{issueId}': { get: taskOp('TaskDetail: status, stage, routing, submission and PR, CI, review, availableActions', {}) },
  '/api/tasks/{issueId}/start': { post: taskOp('Start (checkout) as the assignee', { body: delivery.startTask.unwrap(), ok: 202 }) },
  '/api/tasks/{issueId}/blocker': { post: taskOp('Blocked, with the reason as a comment', { body: delivery.blockTask, ok: 202 }) },
  '/api/tasks/{issueId}/resolve-blocker': { post: taskOp('Back to todo', { body: delivery.resolveBlocker, ok: 202 }) },
  '/api/tasks/{issueId}/submit': { post: taskOp('Submit: open or reuse the PR (adapter_managed) or record artifacts; implies the checkout from todo', { body: delivery.submitTask, ok: 202, write: true }) },
  '/api/tasks/{issueId}/ci-status': { get: taskOp('CI on the current head only', {}) },
  '/api/tasks/{issueId}/review-feedback': { get: taskOp('The latest review decision and comments', {}) },
  '/api/tasks/{issueId}/ship': { post: taskOp('Merge with GitHub\'s head-SHA guard (409 head_sha_mismatch, not_shippable, merge_conflict, not_mergeable)', { body: delivery.shipTask, ok: 202, write: true }) },
  '/api/tasks/{issueId}/rollback': { post: taskOp('Open a revert PR; the task returns to todo for its assignee', { body: delivery.rollbackTask, ok: 202, write: true }) },
  '/api/tasks/{issueId}/checks': { post: taskOp('Artifact mode: checks from any CI system (operator)', { body: delivery.reportChecks, ok: 202 }) },
  '/api/tasks/{issueId}/review': { post: taskOp('Artifact mode: a review verdict (operator)', { body: delivery.reviewTask, ok: 202 }) },
};

const keyId = { name: 'keyId', in: 'path', required: true, description: 'akey_ and 20 hex characters', schema: { type: 'string', pattern: '^akey_[A-Za-z0-9]+$' } };
const keyHeader = (required: boolean) => ({
  name: 'Idempotency-Key', in: 'header', required, schema: { type: 'string', minLength: 8, maxLength: 128 },
  description: required ? 'Required (8-128 characters): a replay with the same body answers the same key and secret; another body is 409.' : 'Optional (8-128 characters): a retry with it answers the same new key and secret.',
});
const keyOp = (summary: string, opts: { params?: unknown[]; body?: z.ZodType; bodyOptional?: boolean; ok?: number }) => ({
  summary,
  parameters: opts.params ?? [],
  ...(opts.body ? { requestBody: { required: !opts.bodyOptional, ...json(bodyOf(opts.body)) } } : {}),
  responses: { [opts.ok ?? 200]: { description: 'OK', ...json(envelope) }, ...ERRORS },
});

/** AgentRail's agent API keys (issue 15 §4; docs/keys.md): scopes, rate limits, rotation, usage. */
const keyPaths = {
  '/api/agent-api-keys': {
    post: keyOp('Mint a key for one of our agents (agent.id: its UUID) with scopes, a rate limit and an expiry (operator, or a key with auth:admin for its company); 201 with the secret, shown once', { params: [keyHeader(true)], body: keys.createAgentKey, ok: 201 }),
    get: keyOp('The keys the caller may see, newest first (never a secret)', { params: queryOf(keys.listAgentKeys) }),
  },
  '/api/agent-api-keys/{keyId}': {
    get: keyOp('One key', { params: [keyId] }),
    delete: keyOp('Revoke: the key stops at once on every API process (200 with the key; a repeat answers the same)', { params: [keyId] }),
  },
  '/api/agent-api-keys/{keyId}/rotate': {
    post: keyOp('A new key in place of this one (201, rotatedFromKeyId); the old one stops at once, or after graceSeconds; 409 conflict when it is not active', { params: [keyId, keyHeader(false)], body: keys.rotateAgentKey, bodyOptional: true, ok: 201 }),
  },
  '/api/agent-api-keys/{keyId}/usage': { get: keyOp('Accepted and denied calls, by scope and operation, and the current rate window', { params: [keyId] }) },
};

const subscriptionId = { name: 'subscriptionId', in: 'path', required: true, schema: { type: 'string', pattern: '^evsub_[A-Za-z0-9]+$' } };
const subscriptionKey = { name: 'Idempotency-Key', in: 'header', required: true, description: 'Required, 8–128 characters: the same key and body replay the 201; another body is 409 idempotency_key_reused.', schema: { type: 'string', minLength: 8, maxLength: 128 } };
const subscriptionData = obj({
  id: { type: 'string', pattern: '^evsub_[0-9a-f]{20}$' }, url: str, eventTypes: { type: 'array', items: str }, filters: obj({ taskIds: { type: 'array', items: str } }),
  status: { enum: ['active', 'disabled'] }, signingAlgorithm: { const: 'hmac_sha256' },
  retryPolicy: obj({ maxAttempts: { const: 8 }, initialBackoffSeconds: { const: 10 }, maxBackoffSeconds: { const: 3600 } }),
  createdAt: str, description: nullableStr, availableActions: { type: 'array', items: str },
  companyId: str, disabledReason: { enum: ['deactivated', 'remote_gone', null] }, disabledAt: nullableStr, lastDeliveryAt: nullableStr,
  lastFailure: { type: ['object', 'null'], description: 'the last attempt that did not deliver: eventId, sequence, status, statusCode, error, attempt, at' },
  deliveredThroughSequence: { type: 'integer', description: 'every matching event at or below this sequence has been handled' },
});
const subscriptionEnvelope = obj({ data: subscriptionData, availableActions: { type: 'array', items: str } }, ['data', 'availableActions']);
const subscriptionOp = (summary: string, opts: { params?: unknown[]; body?: z.ZodType; ok: [number, unknown] }) => ({
  summary,
  parameters: opts.params ?? [],
  ...(opts.body ? { requestBody: { required: true, ...json(bodyOf(opts.body)) } } : {}),
  responses: { [opts.ok[0]]: { description: 'OK', ...json(opts.ok[1]) }, ...ERRORS },
});

/** AgentRail's event subscriptions (issue 15 §3): webhooks out, delivered by a Temporal workflow per subscription (docs/event-subscriptions.md). */
const subscriptionPaths = {
  '/api/event-subscriptions': {
    get: subscriptionOp('The subscriptions the caller may see (an agent: its company\'s; the operator: all), in creation order; availableActions [create]', { ok: [200, obj({ data: { type: 'array', items: subscriptionData }, availableActions: { type: 'array', items: str } })] }),
    post: subscriptionOp('Subscribe a URL to task events: 201 {data, availableActions:[deactivate]}; 400 validation_error in AgentRail\'s order (Idempotency-Key, body, url, eventTypes, secret, filters), also for a non-public target; 404 for a task the caller cannot read; 409 conflict {subscriptionId} when an active subscription has the same url, eventTypes and taskIds; no backfill', { params: [subscriptionKey], body: events.createEventSubscription, ok: [201, subscriptionEnvelope] }),
  },
  '/api/event-subscriptions/{subscriptionId}': {
    get: subscriptionOp('One subscription, with its delivery health (404 not_found "Event subscription not found.")', { params: [subscriptionId], ok: [200, subscriptionEnvelope] }),
    delete: subscriptionOp('Deactivate: 202 with status disabled and availableActions [] at both levels; a repeat is 202 with no change; deliveries stop without the answer waiting for them', { params: [subscriptionId], ok: [202, subscriptionEnvelope] }),
  },
  '/api/event-subscriptions/{subscriptionId}/deliveries': {
    get: subscriptionOp('Its deliveries, newest event first: status (retrying, delivered, failed, exhausted, gone, refused), attempts, last status code or error', { params: [subscriptionId, ...queryOf(events.listDeliveriesQuery)], ok: [200, { type: 'object' }] }),
  },
};

const goalId = { name: 'goalId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };

const docKey = { name: 'key', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' } };
const interactionId = { name: 'interactionId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };

/** Seed 000's collaboration (issue 8): goals, subtasks, documents, confirmations. */
const collaborationPaths = {
  '/api/companies/{companyId}/goals': {
    post: op('A goal: company, team, agent or task level', { params: [companyId], body: bodyOf(createGoal), ok: [201, { type: 'object' }], mutates: true }),
    get: op('The company\'s goals, oldest first', { params: [companyId], ok: [200, { type: 'array' }] }),
  },
  '/api/goals/{goalId}': {
    get: op('One goal', { params: [goalId], ok: [200, { type: 'object' }] }),
    patch: op('Change a goal', { params: [goalId], body: bodyOf(patchGoal), ok: [200, { type: 'object' }] }),
    delete: op('Delete a goal nothing points at (409 otherwise)', { params: [goalId], ok: [200, { type: 'object' }] }),
  },
  '/api/agents/me/inbox-lite': { get: op('The calling agent\'s todo, in_progress and blocked issues (Paperclip\'s inbox)', { ok: [200, { type: 'array' }] }) },
  '/api/issues/{issueId}/heartbeat-context': {
    get: op('One read for a heartbeat: the issue, ancestors, goal, comment cursor, the waking comment', { params: [issueId, ...queryOf(heartbeatContextQuery)], ok: [200, { type: 'object' }] }),
  },
  '/api/issues/{issueId}/children': {
    post: op('A child issue (the body of a create; the parent is the issue in the path), admitted by the parent\'s workflow: 409 plan_not_approved while the parent\'s plan waits, 409 task_unavailable while its workflow is closed, 422 limit_exceeded past 500 children', { params: [issueId], body: bodyOf(schema.createIssue), ok: [201, ref('Issue')], mutates: true }),
  },
  '/api/issues/{issueId}/documents': { get: op('The issue\'s documents with their latest body, by key', { params: [issueId], ok: [200, { type: 'array' }] }) },
  '/api/issues/{issueId}/documents/{key}': {
    get: op('One document at its latest revision', { params: [issueId, docKey], ok: [200, { type: 'object' }] }),
    put: op('Create (no base: 201, revision 1) or update (baseRevisionId = latestRevisionId: 200, revision + 1); 409 revision_conflict {currentRevisionId}', { params: [issueId, docKey], body: bodyOf(schema.putDocument), ok: [200, { type: 'object' }], mutates: true }),
  },
  '/api/issues/{issueId}/documents/{key}/revisions': { get: op('Every revision, newest first', { params: [issueId, docKey], ok: [200, { type: 'array' }] }) },
  '/api/issues/{issueId}/interactions': {
    get: op('The issue\'s confirmations, oldest first', { params: [issueId], ok: [200, { type: 'array' }] }),
    post: op('Ask for a confirmation (201, also when the same idempotencyKey and body come again); 422 target_not_current', { params: [issueId], body: bodyOf(schema.createInteraction), ok: [201, { type: 'object' }], mutates: true }),
  },
  '/api/issues/{issueId}/interactions/{interactionId}': { get: op('One confirmation', { params: [issueId, interactionId], ok: [200, { type: 'object' }] }) },
  '/api/issues/{issueId}/interactions/{interactionId}/accept': { post: op('Accept (one resolution wins: 409 already_resolved); a stale target answers 200 expired', { params: [issueId, interactionId], body: bodyOf(schema.acceptInteraction.unwrap()), ok: [200, { type: 'object' }], mutates: true }) },
  '/api/issues/{issueId}/interactions/{interactionId}/reject': { post: op('Reject, with a reason (422 reason_required when the request asks for one)', { params: [issueId, interactionId], body: bodyOf(schema.rejectInteraction.unwrap()), ok: [200, { type: 'object' }], mutates: true }) },
  '/api/issues/{issueId}/interactions/{interactionId}/withdraw': { post: op('Withdraw (its creator, the assignee or an operator)', { params: [issueId, interactionId], body: bodyOf(schema.withdrawInteraction.unwrap()), ok: [200, { type: 'object' }], mutates: true }) },
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'Switchyard', version: '0.1.0', description: 'Agent task control plane: every task is a Temporal workflow; reads come from Postgres.' },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: obj({ error: str, code: str, details: { type: 'object' } }, ['error', 'code']),
      Checkout: { type: ['object', 'null'], properties: { agentId: str, runId: nullableStr, leaseExpiresAt: { type: 'string', format: 'date-time' } } },
      Issue: obj({
        id: str, companyId: str, title: { type: 'string', maxLength: 500 }, description: { type: ['string', 'null'], description: 'at most 64 KiB (UTF-8)' },
        status: { enum: STATUSES }, priority: { enum: PRIORITIES },
        assigneeAgentId: nullableStr, parentId: nullableStr, goalId: nullableStr,
        checkout: ref('Checkout'),
        availableActions: { type: 'array', items: { enum: ['checkout', 'update', 'comment', 'release', 'close', 'heartbeat', 'delegate'] } },
        workflowStatus: { enum: ['running', 'canceled', 'terminated', 'completed', 'failed', 'timed_out'], description: 'running, or how the task\'s workflow ended in Temporal (then availableActions is empty until an operator restores it)' },
        version: { type: 'integer' }, createdAt: str, updatedAt: str, startedAt: nullableStr, completedAt: nullableStr,
      }),
      Comment: obj({ id: str, issueId: str, companyId: str, body: str, authorType: { enum: ['agent', 'user', 'system'] }, authorAgentId: nullableStr, authorUser: nullableStr, authorUserId: nullableStr, runId: nullableStr, createdByRunId: nullableStr, createdAt: str, updatedAt: str }),
      Deliverable: obj({ kind: { enum: ['doc', 'asset', 'app', 'commit_url', 'commit_sha', 'inline_result'] }, value: str }),
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/api/companies': { post: op('Create a company (operator)', { body: bodyOf(schema.createCompany), ok: [201, { type: 'object' }], mutates: true }) },
    '/api/companies/{companyId}': {
      get: op('Read a company and its settings', { params: [companyId], ok: [200, { type: 'object' }] }),
      patch: op('Change settings: requireDeliverable, defaultLeaseSeconds (operator)', { params: [companyId], body: bodyOf(schema.patchCompany), ok: [200, { type: 'object' }] }),
    },
    '/api/companies/{companyId}/agents': {
      post: op('Create an agent; its API key is shown once (operator)', { params: [companyId], body: bodyOf(schema.createAgent), ok: [201, { type: 'object' }], mutates: true }),
      get: op('List the company\'s agents', { params: [companyId], ok: [200, { type: 'array' }] }),
    },
    '/api/agents/me': { get: op('The calling agent', { ok: [200, obj({ id: str, name: str, companyId: str, role: nullableStr })] }) },
    '/api/companies/{companyId}/issues': {
      post: op('Create an issue (starts its workflow issue/<id>)', {
        params: [companyId], mutates: true, ok: [201, ref('Issue')],
        body: bodyOf(schema.createIssue),
      }),
      get: op('List issues, priority then age', {
        params: [companyId, ...queryOf(schema.listIssues)],
        ok: [200, { type: 'array', items: ref('Issue') }],
      }),
    },
    '/api/issues/{issueId}': {
      get: op('Read an issue with availableActions', { params: [issueId], ok: [200, ref('Issue')] }),
      patch: op('Update: comment and status land together; status done follows the close-out rules', {
        params: [issueId], mutates: true, ok: [200, ref('Issue')],
        body: bodyOf(schema.patchIssue),
      }),
    },
    '/api/issues/{issueId}/checkout': {
      post: op('Atomic checkout: one winner, every loser 409 checkout_conflict', {
        params: [issueId], mutates: true, ok: [200, ref('Issue')],
        body: bodyOf(schema.checkout),
      }),
    },
    '/api/issues/{issueId}/heartbeat': { post: op('Renew the lease (owner)', { params: [issueId], mutates: true, ok: [200, ref('Issue')] }) },
    '/api/issues/{issueId}/release': { post: op('Give the issue up: checkout and assignment cleared, back to todo', { params: [issueId], mutates: true, body: bodyOf(schema.release), ok: [200, ref('Issue')] }) },
    '/api/issues/{issueId}/close': {
      post: op('Atomic close-out: closing comment and done in one transaction', {
        params: [issueId], mutates: true, body: bodyOf(schema.close),
        ok: [200, obj({ issue: ref('Issue'), comment: ref('Comment'), deliverables: { type: 'array', items: ref('Deliverable') }, warnings: { type: 'array', items: str } })],
      }),
    },
    '/api/issues/{issueId}/restore': {
      post: op('Start a task whose workflow was cancelled or terminated in Temporal again, from its last state (operator)', {
        params: [issueId], mutates: true, body: bodyOf(schema.restore), ok: [200, ref('Issue')],
      }),
    },
    '/api/issues/{issueId}/comments': {
      get: op('Comments, oldest first unless order=desc; after a comment id; up to limit', { params: [issueId, ...queryOf(schema.listComments)], ok: [200, { type: 'array', items: ref('Comment') }] }),
      post: op('Add a comment', { params: [issueId], mutates: true, body: bodyOf(schema.commentBody), ok: [201, ref('Comment')] }),
    },
    '/api/issues/{issueId}/comments/{commentId}': {
      get: op('One comment', { params: [issueId, { name: 'commentId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }], ok: [200, ref('Comment')] }),
    },
    '/api/issues/{issueId}/activity': { get: op('Who did what, with run ids', { params: [issueId], ok: [200, { type: 'array' }] }) },
    ...deliveryPaths,
    ...eventPaths,
    ...collaborationPaths,
    ...keyPaths,
    ...subscriptionPaths,
    '/healthz': { get: { summary: 'Process alive', security: [], responses: { 200: { description: 'OK' } } } },
    '/readyz': { get: { summary: 'Temporal and Postgres reachable, and a worker polling the task queue', security: [], responses: { 200: { description: 'ready' }, 503: { description: 'names the check that fails' } } } },
  },
};
