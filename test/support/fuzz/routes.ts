/** The routes of the OpenAPI document, and the webhook payload schemas, as the fuzz sends them. */
import { z } from 'zod';
import { openApiDocument } from '../../../api/openapi.js';
import { eventPayloads } from '../../../activities/github/payloads.js';

export type JS = Record<string, any>;
export interface RouteDef {
  key: string;
  method: string;
  template: string;
  scope: 'task' | 'company';
  body?: JS;
  query: Array<{ name: string; schema: JS }>;
  write: boolean;
}

function routesOfDocument(): RouteDef[] {
  const out: RouteDef[] = [];
  for (const [template, ops] of Object.entries(openApiDocument.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(ops)) {
      const params: Array<{ name: string; in: string; schema: JS }> = op.parameters ?? [];
      const write = method !== 'get';
      out.push({
        key: `${method.toUpperCase()} ${template}`,
        method: method.toUpperCase(),
        template,
        scope: template.includes('{issueId}') ? 'task' : 'company',
        body: op.requestBody?.content?.['application/json']?.schema ?? (write ? { type: 'object', properties: {}, additionalProperties: false } : undefined),
        query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema })),
        write,
      });
    }
  }
  return out;
}
export const ROUTES = routesOfDocument();
export const WEBHOOK_ROUTE = 'POST /api/providers/github/webhooks/{sourceId}';
export const LINEAR_HOOK_ROUTE = 'POST /api/providers/linear/webhooks/{sourceId}';
export const CIRCLE_HOOK_ROUTE = 'POST /api/providers/circleci/webhooks/{sourceId}';
/** AgentRail's Linear task routes (an Idempotency-Key of 8-128 characters required); Linear refusing a move (a state id not the team's) is their documented 502 `upstream_error`. */
export const LINEAR_STATE_ROUTE = 'POST /api/providers/linear/tasks/{issueId}/workflow-state';
export const LINEAR_TASK_ROUTES = new Set(['POST /api/providers/linear/tasks/{issueId}/comments', LINEAR_STATE_ROUTE]);
/** Routes only an operator may call: their well-formed requests go out as the operator. */
export const OPERATOR_ROUTES = new Set(['POST /api/companies/{companyId}/sources', 'GET /api/companies/{companyId}/sources', 'GET /api/sources/{sourceId}', 'PATCH /api/sources/{sourceId}', 'POST /api/sources/{sourceId}/sync']);
/** Company-wide routes only one lane takes (their snapshot is global: the count of companies, the sink agent's wake target). */
export const PRIMARY_ONLY = new Set(['POST /api/companies', 'PUT /api/agents/{agentId}/wake-target', WEBHOOK_ROUTE]);

/** The webhook payloads (zod) as JSON Schema, per event. */
export const WEBHOOK_SCHEMAS: Record<string, JS> = Object.fromEntries(
  Object.entries(eventPayloads).map(([event, s]) => {
    const { $schema: _d, ...rest } = z.toJSONSchema(s as z.ZodType, { io: 'input', unrepresentable: 'any' }) as JS;
    return [event, rest];
  }),
);

// ---- Linear's and CircleCI's webhook payloads, as they send them (the shapes activities/linear/webhooks.ts and
// activities/circleci/webhooks.ts read; both providers send more fields than these, so the objects stay open).

const text = (max = 200): JS => ({ type: 'string', minLength: 1, maxLength: max });
const time: JS = { type: 'string', format: 'date-time' };
const object = (properties: Record<string, JS>, required: string[] = Object.keys(properties)): JS => ({ type: 'object', properties, required });
const linearEnvelope = (type: string, actions: string[], data: JS): JS =>
  object(
    { action: { type: 'string', enum: actions }, type: { type: 'string', const: type }, createdAt: time, data, url: { type: ['string', 'null'] }, webhookTimestamp: { type: 'integer' }, webhookId: text(), organizationId: text() },
    ['action', 'type', 'createdAt', 'data', 'webhookTimestamp', 'webhookId', 'organizationId'],
  );
const linearState = object({ id: text(), name: text(), type: { type: 'string', enum: ['triage', 'backlog', 'unstarted', 'started', 'completed', 'canceled'] } });

/** Linear's deliveries per `Linear-Event`: issues (intake), comments (on a task), and a type we take no interest in. */
export const LINEAR_HOOK_SCHEMAS: Record<string, JS> = {
  Issue: linearEnvelope('Issue', ['create', 'update', 'remove'], object(
    {
      id: text(), identifier: text(), number: { type: 'integer', minimum: 1 }, title: text(500), description: { type: ['string', 'null'], maxLength: 2000 }, priority: { type: ['integer', 'null'], minimum: 0, maximum: 4 },
      url: text(), updatedAt: time, state: linearState, team: object({ id: text(), key: text(20), name: text() }, ['id', 'key']), labels: { type: 'array', items: object({ name: text(100) }), maxItems: 5 },
    },
    ['id', 'identifier', 'number', 'title', 'url', 'updatedAt', 'state'],
  )),
  Comment: linearEnvelope('Comment', ['create'], object(
    { id: text(), body: text(5000), createdAt: time, issueId: { type: ['string', 'null'] }, user: object({ id: text(), name: text(100) }) },
    ['id', 'body', 'createdAt'],
  )),
  Project: linearEnvelope('Project', ['create', 'update'], object({ id: text(), name: text() })),
};

const circleCommon: Record<string, JS> = {
  id: { type: 'string', format: 'uuid' },
  happened_at: time,
  webhook: object({ id: text(), name: text() }),
  project: object({ id: text(), name: text(), slug: text(300) }),
  organization: object({ id: text(), name: text() }),
  pipeline: object({ id: text(), number: { type: 'integer', minimum: 1 }, created_at: time, vcs: object({ revision: text(40), branch: text() }, []) }, ['id', 'number', 'created_at']),
  workflow: object({ id: text(), name: text(), status: { type: 'string', enum: ['success', 'failed', 'error', 'canceled', 'unauthorized', 'not_run'] }, created_at: time, stopped_at: { type: ['string', 'null'], format: 'date-time' }, url: text() }, ['id', 'name', 'status', 'created_at', 'url']),
};
/** CircleCI's deliveries per `type` (the body says which): the two we take. */
export const CIRCLE_HOOK_SCHEMAS: Record<string, JS> = {
  'workflow-completed': object({ type: { type: 'string', const: 'workflow-completed' }, ...circleCommon }),
  'job-completed': object({
    type: { type: 'string', const: 'job-completed' },
    ...circleCommon,
    job: object({ id: text(), name: text(), number: { type: 'integer', minimum: 1 }, status: { type: 'string', enum: ['success', 'failed', 'canceled', 'unauthorized', 'blocked'] }, started_at: time, stopped_at: time }, ['id', 'name', 'status']),
  }),
};

/** Every signed webhook route: its payload schemas per event, and events no schema describes (sent as they come). */
export const HOOKS: Record<string, { provider: 'github' | 'linear' | 'circleci'; schemas: Record<string, JS>; unknown: string[] }> = {
  [WEBHOOK_ROUTE]: { provider: 'github', schemas: WEBHOOK_SCHEMAS, unknown: ['ping', 'installation'] },
  [LINEAR_HOOK_ROUTE]: { provider: 'linear', schemas: LINEAR_HOOK_SCHEMAS, unknown: ['IssueLabel', 'Reaction'] },
  [CIRCLE_HOOK_ROUTE]: { provider: 'circleci', schemas: CIRCLE_HOOK_SCHEMAS, unknown: ['ping', 'pipeline-created'] },
};
