/** The OpenAPI 3.1 document served at /api/openapi.json: paths, bodies and every error a call can answer. */
import { PRIORITIES, STATUSES } from '../domain/statuses.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const error = (description: string) => ({ description, ...json(ref('Error')) });

const ERRORS = {
  400: error('validation_error (also: text with a NUL or a lone surrogate, naming the field), invalid_json, invalid_body, run_id_required or comment_too_large'),
  401: error('unauthorized: missing or unknown key'),
  403: error('forbidden: needs the operator key, or acting as another agent'),
  404: error('not_found: no such resource in the caller\'s company'),
  409: error('checkout_conflict, not_owner, status_conflict, idempotency_key_reused, idempotency_in_progress, or task_unavailable (the task\'s workflow was cancelled or terminated in Temporal; an operator can restore it)'),
  415: error('unsupported_encoding: a Content-Encoding the API cannot read'),
  431: error('headers_too_large: headers or URL over the server\'s limit'),
  422: error('invalid_transition, deliverable_missing, comment_required or invalid_assignee'),
  503: error('temporal_unavailable, database_unavailable or deadline_exceeded; retry after Retry-After with the same Idempotency-Key (details.committed: the change was made, the read model is catching up)'),
};

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
        availableActions: { type: 'array', items: { enum: ['checkout', 'update', 'comment', 'release', 'close', 'heartbeat'] } },
        workflowStatus: { enum: ['running', 'canceled', 'terminated', 'completed', 'failed', 'timed_out'], description: 'running, or how the task\'s workflow ended in Temporal (then availableActions is empty until an operator restores it)' },
        version: { type: 'integer' }, createdAt: str, updatedAt: str, startedAt: nullableStr, completedAt: nullableStr,
      }),
      Comment: obj({ id: str, body: str, authorAgentId: nullableStr, authorUser: nullableStr, runId: nullableStr, createdAt: str }),
      Deliverable: obj({ kind: { enum: ['doc', 'asset', 'app', 'commit_url', 'commit_sha', 'inline_result'] }, value: str }),
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/api/companies': { post: op('Create a company (operator)', { body: obj({ name: str, settings: { type: 'object' } }, ['name']), ok: [201, { type: 'object' }], mutates: true }) },
    '/api/companies/{companyId}': {
      get: op('Read a company and its settings', { params: [companyId], ok: [200, { type: 'object' }] }),
      patch: op('Change settings: requireDeliverable, defaultLeaseSeconds (operator)', { params: [companyId], body: { type: 'object' }, ok: [200, { type: 'object' }] }),
    },
    '/api/companies/{companyId}/agents': {
      post: op('Create an agent; its API key is shown once (operator)', { params: [companyId], body: obj({ name: str, role: str }, ['name']), ok: [201, { type: 'object' }], mutates: true }),
      get: op('List the company\'s agents', { params: [companyId], ok: [200, { type: 'array' }] }),
    },
    '/api/agents/me': { get: op('The calling agent', { ok: [200, obj({ id: str, name: str, companyId: str, role: nullableStr })] }) },
    '/api/companies/{companyId}/issues': {
      post: op('Create an issue (starts its workflow issue/<id>)', {
        params: [companyId], mutates: true, ok: [201, ref('Issue')],
        body: obj({ title: str, description: str, status: { enum: ['backlog', 'todo'] }, priority: { enum: PRIORITIES }, assigneeAgentId: str, parentId: str, goalId: str }, ['title']),
      }),
      get: op('List issues, priority then age', {
        params: [companyId, ...['assigneeAgentId', 'status', 'parentId', 'priority', 'limit'].map((name) => ({ name, in: 'query', schema: str }))],
        ok: [200, { type: 'array', items: ref('Issue') }],
      }),
    },
    '/api/issues/{issueId}': {
      get: op('Read an issue with availableActions', { params: [issueId], ok: [200, ref('Issue')] }),
      patch: op('Update: comment and status land together; status done follows the close-out rules', {
        params: [issueId], mutates: true, ok: [200, ref('Issue')],
        body: obj({ status: { enum: STATUSES }, comment: str, priority: { enum: PRIORITIES }, title: str, description: str, assigneeAgentId: nullableStr }),
      }),
    },
    '/api/issues/{issueId}/checkout': {
      post: op('Atomic checkout: one winner, every loser 409 checkout_conflict', {
        params: [issueId], mutates: true, ok: [200, ref('Issue')],
        body: obj({ agentId: str, expectedStatuses: { type: 'array', items: { enum: STATUSES } }, leaseSeconds: { type: 'integer', minimum: 30, maximum: 86400 } }, ['agentId', 'expectedStatuses']),
      }),
    },
    '/api/issues/{issueId}/heartbeat': { post: op('Renew the lease (owner)', { params: [issueId], mutates: true, ok: [200, ref('Issue')] }) },
    '/api/issues/{issueId}/release': { post: op('Give the issue up: checkout and assignment cleared, back to todo', { params: [issueId], mutates: true, body: obj({ comment: str }), ok: [200, ref('Issue')] }) },
    '/api/issues/{issueId}/close': {
      post: op('Atomic close-out: closing comment and done in one transaction', {
        params: [issueId], mutates: true, body: obj({ comment: str }, ['comment']),
        ok: [200, obj({ issue: ref('Issue'), comment: ref('Comment'), deliverables: { type: 'array', items: ref('Deliverable') }, warnings: { type: 'array', items: str } })],
      }),
    },
    '/api/issues/{issueId}/restore': {
      post: op('Start a task whose workflow was cancelled or terminated in Temporal again, from its last state (operator)', {
        params: [issueId], mutates: true, body: obj({}), ok: [200, ref('Issue')],
      }),
    },
    '/api/issues/{issueId}/comments': {
      get: op('Comments, oldest first', { params: [issueId], ok: [200, { type: 'array', items: ref('Comment') }] }),
      post: op('Add a comment', { params: [issueId], mutates: true, body: obj({ body: str }, ['body']), ok: [201, ref('Comment')] }),
    },
    '/api/issues/{issueId}/activity': { get: op('Who did what, with run ids', { params: [issueId], ok: [200, { type: 'array' }] }) },
    '/healthz': { get: { summary: 'Process alive', security: [], responses: { 200: { description: 'OK' } } } },
    '/readyz': { get: { summary: 'Temporal and Postgres reachable, and a worker polling the task queue', security: [], responses: { 200: { description: 'ready' }, 503: { description: 'names the check that fails' } } } },
  },
};
