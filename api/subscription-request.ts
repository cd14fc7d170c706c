/**
 * A create request for an event subscription, checked in AgentRail's order (each failure a 400
 * validation_error): Idempotency-Key 8–128, a JSON object, url, eventTypes, secret, then filters and
 * description; then ours: the company, tasks the caller can read (404 otherwise, as for any task it
 * cannot see), and a public target address. Normalized as AgentRail stores it: eventTypes and taskIds
 * de-duplicated and sorted, taskIds as task uuids.
 */
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { DomainError } from '../domain/errors.js';
import { filterKey, normalizedList, SUBSCRIPTION_EVENT_TYPES } from '../domain/event-subscriptions.js';
import { checkTarget } from '../runtime/public-address.js';
import { callerOf, taskScopeOf } from './auth.js';
import type { ApiDeps } from './deps.js';
import * as schema from './schemas-events.js';

export interface SubscriptionRequest {
  idempotencyKey: string;
  companyId: string;
  createdBy: string;
  taskScope: string | null;
  url: string;
  eventTypes: string[];
  taskIds: string[];
  secret: string;
  description: string | null;
  filterKey: string;
}

const invalid = (message: string, details: Record<string, unknown> = {}) => new DomainError('validation_error', message, details);

function field<T extends z.ZodType>(s: T, value: unknown, name: string): z.infer<T> {
  const r = s.safeParse(value);
  if (!r.success) throw invalid(`${name} ${r.error.issues[0]?.message ?? 'is not valid'}.`, { field: name, issues: r.error.issues.map((i) => ({ path: [name, ...i.path].join('.'), message: i.message })) });
  return r.data;
}

export async function subscriptionRequest(deps: ApiDeps, req: Request, res: Response): Promise<SubscriptionRequest> {
  const key = req.header('idempotency-key') ?? '';
  if (key.length < 8 || key.length > 128) throw invalid('Idempotency-Key header is required.', { header: 'Idempotency-Key', minLength: 8, maxLength: 128 });
  const body = req.body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('Request body must be a JSON object.');
  const url = field(schema.subscriptionUrl, body.url, 'url');
  if (!Array.isArray(body.eventTypes) || body.eventTypes.length === 0) throw invalid('eventTypes must be a non-empty array.', { field: 'eventTypes', supportedEventTypes: SUBSCRIPTION_EVENT_TYPES });
  const unknownType = body.eventTypes.find((t) => typeof t !== 'string' || !SUBSCRIPTION_EVENT_TYPES.includes(t));
  if (unknownType !== undefined) throw invalid('Unsupported event type.', { field: 'eventTypes', eventType: unknownType, supportedEventTypes: SUBSCRIPTION_EVENT_TYPES });
  const eventTypes = normalizedList(field(schema.subscriptionEventTypes, body.eventTypes, 'eventTypes'));
  const secret = field(schema.subscriptionSecret, body.secret, 'secret');
  const filters = field(schema.subscriptionFilters.optional(), body.filters, 'filters');
  // Everything else (unknown fields, description, companyId) by the whole schema.
  const whole = schema.createEventSubscription.safeParse(body);
  if (!whole.success) {
    const issue = whole.error.issues[0]!;
    throw invalid(`${issue.path.join('.') || 'body'}: ${issue.message}.`, { issues: whole.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code })) });
  }

  const caller = callerOf(res);
  const taskScope = taskScopeOf(res);
  let companyId: string;
  if (caller.kind === 'operator') {
    // AgentRail's SDK sends no companyId: the operator's subscription is then the company of the tasks it
    // filters on, or the only company there is.
    companyId = whole.data.companyId
      ? (await deps.reads.company(whole.data.companyId)).id
      : await impliedCompany(deps, normalizedList(filters?.taskIds ?? []));
  } else {
    // An agent's subscription is its company's; naming another company finds nothing, as everywhere.
    if (whole.data.companyId && whole.data.companyId !== caller.agent.companyId) throw new DomainError('not_found', 'Company not found', { companyId: whole.data.companyId });
    companyId = caller.agent.companyId;
  }

  const taskIds: string[] = [];
  for (const given of normalizedList(filters?.taskIds ?? [])) {
    const notFound = new DomainError('not_found', 'Task not found', { taskId: given, availableActions: ['list_my_tasks'] });
    const found = await deps.reads.issueWithCompany(given, companyId).catch((err) => {
      throw err instanceof DomainError && err.code === 'not_found' ? notFound : err;
    });
    if (found.issue.companyId !== companyId || (taskScope && found.issue.id !== taskScope)) throw notFound;
    taskIds.push(found.issue.id);
  }
  const tasks = normalizedList(taskIds);

  if (!deps.config.allowPrivateTargets) {
    const target = await checkTarget(url);
    if (!target.ok) throw invalid(`url is not a public address: ${target.reason}. Webhooks go to the public internet only (the operator may allow private targets: SWITCHYARD_ALLOW_PRIVATE_TARGETS=true on the API and worker).`, { field: 'url', reason: 'private_target' });
  }

  return {
    idempotencyKey: key,
    companyId,
    createdBy: caller.kind === 'agent' ? `agent:${caller.agent.id}` : 'operator',
    taskScope,
    url,
    eventTypes,
    taskIds: tasks,
    secret,
    description: whole.data.description ?? null,
    filterKey: filterKey(url, { eventTypes, taskIds: tasks, taskScope }),
  };
}

/** The company an operator's subscription without companyId is for, or a 400 saying to name it. */
async function impliedCompany(deps: ApiDeps, taskIds: string[]): Promise<string> {
  if (taskIds[0]) {
    const found = await deps.reads.issueWithCompany(taskIds[0]).catch(() => undefined);
    if (found) return found.issue.companyId;
  } else {
    const { rows } = await deps.pool.query<{ id: string }>('SELECT id FROM companies ORDER BY created_at LIMIT 2');
    if (rows.length === 1) return rows[0]!.id;
  }
  throw invalid('companyId is required with the operator key when there is more than one company and no task filter names one: name the company whose events the subscription carries.', { field: 'companyId' });
}
