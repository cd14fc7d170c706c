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
/** Company-wide routes only one lane takes (their snapshot is global: the count of companies, the sink agent's wake target). */
export const PRIMARY_ONLY = new Set(['POST /api/companies', 'PUT /api/agents/{agentId}/wake-target', WEBHOOK_ROUTE]);

/** The webhook payloads (zod) as JSON Schema, per event. */
export const WEBHOOK_SCHEMAS: Record<string, JS> = Object.fromEntries(
  Object.entries(eventPayloads).map(([event, s]) => {
    const { $schema: _d, ...rest } = z.toJSONSchema(s as z.ZodType, { io: 'input', unrepresentable: 'any' }) as JS;
    return [event, rest];
  }),
);
