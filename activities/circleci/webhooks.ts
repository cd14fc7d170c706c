/**
 * CircleCI's outbound webhooks: the `circleci-signature` check (hex HMAC-SHA256 of the raw body, `v1`),
 * and the two event types we use, `workflow-completed` and `job-completed`, typed. The payload fields
 * follow CircleCI's webhooks reference; its maps are open, so unknown fields are ignored.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { findUnstorableText } from '../../domain/text.js';
import { storableString } from '../providers/payload-text.js';

/**
 * True only when a `v1` pair of the header is the HMAC-SHA256 of exactly these bytes under `secret`.
 * Anything malformed (no header, no v1, not 64 hex digits, an empty secret) is false, never an exception.
 */
export function verifyCircleSignature(secret: string, rawBody: string | Buffer, header: string | null | undefined): boolean {
  if (!secret || typeof header !== 'string' || !header) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  let ok = false;
  for (const pair of header.split(',')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== 'v1') continue;
    const hex = pair.slice(eq + 1).trim();
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) continue;
    const given = Buffer.from(hex, 'hex');
    // Constant time, and every v1 pair is looked at (no early exit on the first match).
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}

const iso = z.string().min(1);
/** What is kept or looked up in Postgres (the event id, a status, the commit): one with a NUL or a lone surrogate is not CircleCI's (400, never a 500). */
const keyText = storableString();
const common = {
  id: keyText.min(1),
  happened_at: iso,
  webhook: z.object({ id: z.string(), name: z.string() }),
  project: z.object({ id: z.string(), name: z.string(), slug: z.string().min(1) }),
  organization: z.object({ id: z.string(), name: z.string() }),
  pipeline: z.object({
    id: z.string().min(1),
    number: z.number().int(),
    created_at: iso,
    // Absent for GitLab / GitHub App projects: their commit is in trigger_parameters.
    vcs: z.object({ revision: keyText.optional(), branch: z.string().optional(), tag: z.string().optional() }).optional(),
    trigger_parameters: z.record(z.string(), z.unknown()).optional(),
  }),
  workflow: z.object({ id: z.string().min(1), name: z.string(), status: keyText, created_at: iso, stopped_at: iso.nullish(), url: z.string() }),
};
const workflowCompleted = z.object({ type: z.literal('workflow-completed'), ...common });
const jobCompleted = z.object({
  type: z.literal('job-completed'),
  ...common,
  job: z.object({ id: z.string().min(1), name: z.string(), number: z.number().int().optional(), status: keyText, started_at: iso.nullish(), stopped_at: iso.nullish() }),
});

interface EventBase {
  /** The event's id: deliveries of one event (CircleCI retries) share it. */
  id: string;
  happenedAt: string;
  projectSlug: string;
  projectId: string;
  pipeline: { id: string; number: number };
  /** The commit the pipeline ran (null when CircleCI sent none). */
  revision: string | null;
  branch: string | null;
  workflow: { id: string; name: string; status: string; createdAt: string; stoppedAt: string | null; url: string };
}

export type CircleWebhookEvent =
  | ({ kind: 'workflow' } & EventBase)
  | ({ kind: 'job'; job: { id: string; name: string; number: number | null; status: string; startedAt: string | null; stoppedAt: string | null } } & EventBase)
  | { kind: 'ignored'; type: string };

export class CircleWebhookError extends Error {
  constructor(
    readonly code: 'invalid_json' | 'invalid_payload',
    message: string,
  ) {
    super(message);
    this.name = 'CircleWebhookError';
  }
}

/** The raw body (already verified) as a typed event; another type is `ignored`; bad JSON or a bad shape throws CircleWebhookError. */
export function parseCircleWebhook(rawBody: string | Buffer): CircleWebhookEvent {
  let body: unknown;
  try {
    body = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch {
    throw new CircleWebhookError('invalid_json', 'The CircleCI webhook body is not JSON');
  }
  const type = (body as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !type) throw new CircleWebhookError('invalid_payload', 'The CircleCI webhook body has no type');
  if (type !== 'workflow-completed' && type !== 'job-completed') return { kind: 'ignored', type };
  const parsed = (type === 'job-completed' ? jobCompleted : workflowCompleted).safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CircleWebhookError('invalid_payload', `The CircleCI ${type} payload's ${issue?.path.join('.') || 'body'} is invalid: ${issue?.message ?? 'unknown'}`);
  }
  const p = parsed.data;
  const param = (group: string, key: string) => {
    const v = (p.pipeline.trigger_parameters?.[group] as Record<string, unknown> | undefined)?.[key];
    return typeof v === 'string' && v && findUnstorableText(v) === undefined ? v : null;
  };
  const base: EventBase = {
    id: p.id,
    happenedAt: p.happened_at,
    projectSlug: p.project.slug,
    projectId: p.project.id,
    pipeline: { id: p.pipeline.id, number: p.pipeline.number },
    revision: p.pipeline.vcs?.revision || param('github_app', 'commit_sha') || param('git', 'checkout_sha'),
    branch: p.pipeline.vcs?.branch || param('github_app', 'branch') || param('git', 'branch'),
    workflow: { id: p.workflow.id, name: p.workflow.name, status: p.workflow.status, createdAt: p.workflow.created_at, stoppedAt: p.workflow.stopped_at ?? null, url: p.workflow.url },
  };
  if (p.type === 'workflow-completed') return { kind: 'workflow', ...base };
  const j = (p as z.infer<typeof jobCompleted>).job;
  return { kind: 'job', ...base, job: { id: j.id, name: j.name, number: j.number ?? null, status: j.status, startedAt: j.started_at ?? null, stoppedAt: j.stopped_at ?? null } };
}
