/**
 * Linear's webhooks: verification (hex HMAC-SHA256 of the raw body in `Linear-Signature`, and the body's
 * `webhookTimestamp` within 60 s of now, so a captured delivery cannot be replayed later) and parsing
 * into what intake needs. Shapes per Linear's webhook docs and the SDL's *WebhookPayload types.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { ErrorCode } from '../../domain/errors.js';
import { storableString } from '../providers/payload-text.js';
import type { Candidate } from '../providers/ports.js';
import { candidateFromLinear } from './intake.js';

export const LINEAR_WEBHOOK_TOLERANCE_MS = 60_000;

export type LinearWebhookFailure = 'signature_missing' | 'signature_mismatch' | 'invalid_json' | 'timestamp_missing' | 'timestamp_stale' | 'timestamp_future' | 'invalid_payload';

export class LinearWebhookError extends Error {
  /** Our error code for the HTTP answer: 401 for anything about authenticity, 400 for a body we cannot read. */
  readonly code: ErrorCode;
  constructor(
    readonly reason: LinearWebhookFailure,
    message: string,
  ) {
    super(message);
    this.name = 'LinearWebhookError';
    this.code = reason === 'invalid_json' ? 'invalid_json' : reason === 'invalid_payload' ? 'invalid_payload' : 'webhook_signature_invalid';
  }
}

/**
 * The signature first (over the raw bytes, before anything is parsed), then the timestamp. Returns the
 * parsed body; throws LinearWebhookError naming what failed.
 */
export function verifyLinearWebhook(input: { secret: string; rawBody: string | Buffer; signature: string | null | undefined; now?: number }): { payload: Record<string, unknown>; webhookTimestamp: number } {
  const raw = typeof input.rawBody === 'string' ? Buffer.from(input.rawBody, 'utf8') : input.rawBody;
  const given = (input.signature ?? '').trim();
  if (!given) throw new LinearWebhookError('signature_missing', 'Linear-Signature header is missing');
  const expected = Buffer.from(createHmac('sha256', input.secret).update(raw).digest('hex'), 'utf8');
  const actual = Buffer.from(given.toLowerCase(), 'utf8');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) throw new LinearWebhookError('signature_mismatch', 'Linear-Signature does not match the body');
  let payload: unknown;
  try {
    payload = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new LinearWebhookError('invalid_json', 'webhook body is not JSON');
  }
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw new LinearWebhookError('invalid_json', 'webhook body is not a JSON object');
  const ts = (payload as { webhookTimestamp?: unknown }).webhookTimestamp;
  if (typeof ts !== 'number' || !Number.isFinite(ts)) throw new LinearWebhookError('timestamp_missing', 'webhookTimestamp is missing');
  const skew = (input.now ?? Date.now()) - ts;
  if (skew > LINEAR_WEBHOOK_TOLERANCE_MS) throw new LinearWebhookError('timestamp_stale', `webhookTimestamp is ${Math.round(skew / 1000)} s old`);
  if (skew < -LINEAR_WEBHOOK_TOLERANCE_MS) throw new LinearWebhookError('timestamp_future', `webhookTimestamp is ${Math.round(-skew / 1000)} s in the future`);
  return { payload: payload as Record<string, unknown>, webhookTimestamp: ts };
}

/** An id or action word of Linear's, used as a key in Postgres: one with a NUL or a lone surrogate is not Linear's (400, never a 500). */
const keyText = storableString();

const envelope = z.object({
  action: keyText,
  type: z.string(),
  createdAt: z.string(),
  data: z.unknown(),
  url: z.string().nullish(),
  updatedFrom: z.record(z.string(), z.unknown()).nullish(),
  webhookTimestamp: z.number(),
  webhookId: z.string(),
  organizationId: z.string(),
});

const issueData = z.object({
  id: keyText,
  identifier: z.string(),
  number: z.number(),
  title: z.string(),
  description: z.string().nullish(),
  priority: z.number().nullish(),
  url: z.string(),
  updatedAt: z.string(),
  state: z.object({ id: z.string(), name: z.string(), type: z.string() }),
  team: z.object({ id: z.string(), key: z.string(), name: z.string().optional() }).nullish(),
  // Required in Linear's IssueWebhookPayload, where `team` may be absent.
  teamId: z.string().nullish(),
  labels: z.array(z.object({ name: z.string() })).default([]),
});

const commentData = z.object({
  id: keyText,
  body: z.string(),
  createdAt: z.string(),
  issueId: keyText.nullish(),
  issue: z.object({ id: keyText }).nullish(),
  user: z.object({ id: z.string(), name: z.string() }).nullish(),
});

export type LinearWebhookEvent =
  | { kind: 'issue'; action: 'create' | 'update' | 'remove'; issue: Candidate; teamKey: string | null; teamId: string | null; updatedFrom: Record<string, unknown> | null; webhookId: string; webhookTimestamp: number }
  | { kind: 'comment'; commentId: string; issueId: string; body: string; user: { id: string; name: string } | null; createdAt: string }
  | { kind: 'ignored'; type: string; action: string };

/** What a delivery means to us; the type comes from `Linear-Event`, else the body's `type`. */
export function parseLinearWebhook(rawBody: string | Buffer | Record<string, unknown>, eventHeader?: string | null): LinearWebhookEvent {
  let body: unknown = rawBody;
  if (typeof rawBody === 'string' || Buffer.isBuffer(rawBody)) {
    try {
      body = JSON.parse(rawBody.toString());
    } catch {
      throw new LinearWebhookError('invalid_json', 'webhook body is not JSON');
    }
  }
  const env = envelope.safeParse(body);
  if (!env.success) throw new LinearWebhookError('invalid_payload', `not a Linear webhook: ${z.prettifyError(env.error)}`);
  const type = eventHeader?.trim() || env.data.type;
  const { action } = env.data;
  if (type === 'Issue' && (action === 'create' || action === 'update' || action === 'remove')) {
    const data = issueData.safeParse(env.data.data);
    if (!data.success) throw new LinearWebhookError('invalid_payload', `Issue ${action} data: ${z.prettifyError(data.error)}`);
    return { kind: 'issue', action, issue: candidateFromLinear(data.data), teamKey: data.data.team?.key ?? null, teamId: data.data.teamId ?? data.data.team?.id ?? null, updatedFrom: env.data.updatedFrom ?? null, webhookId: env.data.webhookId, webhookTimestamp: env.data.webhookTimestamp };
  }
  if (type === 'Comment' && action === 'create') {
    const data = commentData.safeParse(env.data.data);
    if (!data.success) throw new LinearWebhookError('invalid_payload', `Comment create data: ${z.prettifyError(data.error)}`);
    const issueId = data.data.issueId ?? data.data.issue?.id;
    // Comments on projects, documents or updates have no issue: nothing of ours.
    if (!issueId) return { kind: 'ignored', type, action };
    return { kind: 'comment', commentId: data.data.id, issueId, body: data.data.body, user: data.data.user ? { id: data.data.user.id, name: data.data.user.name } : null, createdAt: data.data.createdAt };
  }
  return { kind: 'ignored', type, action };
}
