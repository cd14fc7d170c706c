/**
 * Webhook deliveries as Linear sends them: the envelope and entity data checked against the webhook
 * payload types in Linear's own SDL (EntityWebhookPayload, IssueWebhookPayload, CommentWebhookPayload),
 * the raw body signed `Linear-Signature: <hex HMAC-SHA256>`, and kept byte for byte for redelivery.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { isEnumType, isListType, isNonNullType, isObjectType, isScalarType, type GraphQLOutputType, type GraphQLSchema } from 'graphql';

export interface Subscription {
  id: string;
  url: string;
  secret: string;
  /** Only this team's issues and their comments (Linear webhooks are per team or workspace-wide). */
  teamKey?: string;
}

export interface Delivery {
  id: string;
  subscriptionId: string;
  url: string;
  event: 'Issue' | 'Comment';
  action: string;
  body: string;
  headers: Record<string, string>;
  status: number | 'error';
}

export type Violation = { kind: 'document' | 'webhook' | 'fake'; detail: string; errors: unknown };

export class LinearHooks {
  readonly subscriptions: Subscription[] = [];
  readonly deliveries: Delivery[] = [];

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly violations: Violation[],
  ) {}

  static sign(secret: string, body: string): string {
    return createHmac('sha256', secret).update(body).digest('hex');
  }

  subscribe(input: { url: string; secret: string; teamKey?: string }): Subscription {
    const sub = { id: randomUUID(), url: input.url, secret: input.secret, ...(input.teamKey ? { teamKey: input.teamKey } : {}) };
    this.subscriptions.push(sub);
    return sub;
  }

  /** Checks the payload against Linear's types, then signs and sends it to every matching subscription. */
  async emit(event: 'Issue' | 'Comment', envelope: Record<string, unknown> & { action: string }, teamKey: string): Promise<void> {
    const errors = shapeErrors(this.schema, 'EntityWebhookPayload', { ...envelope, webhookId: 'check', webhookTimestamp: Date.now() }, { data: `${event}WebhookPayload`, actor: 'UserActorWebhookPayload' });
    if (errors.length) {
      this.violations.push({ kind: 'webhook', detail: `${event} ${envelope.action}`, errors });
      throw new Error(`fake-linear: ${event} ${envelope.action} webhook does not match Linear's payload types: ${errors.slice(0, 3).join('; ')}`);
    }
    for (const sub of this.subscriptions.filter((s) => !s.teamKey || s.teamKey === teamKey)) {
      const body = JSON.stringify({ ...envelope, webhookId: sub.id, webhookTimestamp: Date.now() });
      const id = randomUUID();
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'Linear-Webhook',
        'linear-delivery': id,
        'linear-event': event,
        'linear-signature': LinearHooks.sign(sub.secret, body),
      };
      const delivery: Delivery = { id, subscriptionId: sub.id, url: sub.url, event, action: envelope.action, body, headers, status: 'error' };
      this.deliveries.push(delivery);
      delivery.status = await send(sub.url, headers, body);
    }
  }

  /** Sends a delivery again, byte for byte: same body (so the old webhookTimestamp), same signature and id. */
  async redeliver(deliveryId: string): Promise<number | 'error'> {
    const d = this.deliveries.find((x) => x.id === deliveryId);
    if (!d) throw new Error(`fake-linear: no delivery ${deliveryId}`);
    d.status = await send(d.url, d.headers, d.body);
    return d.status;
  }
}

async function send(url: string, headers: Record<string, string>, body: string): Promise<number | 'error'> {
  try {
    const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 'error'; // A receiver that is down misses the delivery, as with Linear.
  }
}

/** Every way `value` differs from the SDL object type `typeName`; `hints` name the concrete type of a union at a path. */
export function shapeErrors(schema: GraphQLSchema, typeName: string, value: unknown, hints: Record<string, string> = {}, path = ''): string[] {
  const type = schema.getType(typeName);
  if (!isObjectType(type)) return [`${path || '$'}: ${typeName} is not an object type`];
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [`${path || '$'}: expected a ${typeName} object`];
  const fields = type.getFields();
  const record = value as Record<string, unknown>;
  const errors = Object.keys(record).filter((k) => !fields[k]).map((k) => `${path}${k}: not a field of ${typeName}`);
  for (const f of Object.values(fields)) errors.push(...checkValue(schema, f.type, record[f.name], `${path}${f.name}`, hints));
  return errors;
}

function checkValue(schema: GraphQLSchema, type: GraphQLOutputType, v: unknown, path: string, hints: Record<string, string>): string[] {
  if (isNonNullType(type)) {
    if (v === null || v === undefined) return [`${path}: required`];
    type = type.ofType;
  } else if (v === null || v === undefined) return [];
  if (isListType(type)) return Array.isArray(v) ? v.flatMap((x, i) => checkValue(schema, type.ofType, x, `${path}[${i}]`, hints)) : [`${path}: expected a list`];
  if (isScalarType(type)) return scalarOk(type.name, v) ? [] : [`${path}: expected ${type.name}, got ${JSON.stringify(v)}`];
  if (isEnumType(type)) return type.getValue(String(v)) ? [] : [`${path}: not a ${type.name}`];
  const concrete = isObjectType(type) ? type.name : hints[path.replace(/\[\d+\]/g, '')];
  if (!concrete) return [`${path}: no concrete type given for ${String(type)}`];
  return shapeErrors(schema, concrete, v, hints, `${path}.`);
}

function scalarOk(name: string, v: unknown): boolean {
  switch (name) {
    case 'String':
    case 'ID':
      return typeof v === 'string';
    case 'Float':
      return typeof v === 'number';
    case 'Int':
      return Number.isInteger(v);
    case 'Boolean':
      return typeof v === 'boolean';
    case 'DateTime':
      return typeof v === 'string' && !Number.isNaN(Date.parse(v));
    case 'JSONObject':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    default:
      return v !== undefined;
  }
}
