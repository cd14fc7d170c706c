/**
 * CircleCI's webhooks, the fast path for CI on CircleCI (`POST /api/providers/circleci/webhooks/{sourceId}`,
 * the repository's source): `circleci-signature` (`v1=<hex HMAC-SHA256>` of the raw body) checked with
 * the source's CircleCI webhook secret before anything is recorded, the event `id` recorded once, and a
 * completed workflow or job nudges the task in review whose head it ran on to read CI now. The poll
 * covers a lost delivery, as for GitHub.
 */
import { Router } from 'express';
import { CircleWebhookError, parseCircleWebhook, verifyCircleSignature, type CircleWebhookEvent } from '../../activities/circleci/index.js';
import { DomainError } from '../../domain/errors.js';
import type { SourceRow } from '../../db/sources.js';
import { providerEventSignal, workflowIdFor } from '../../workflows/messages.js';
import { deadlineOf } from '../deadline.js';
import type { ApiDeps } from '../deps.js';
import { rawDelivery, recordDelivery, signedSource } from './webhook-sources.js';

/** CircleCI's workflow and job events are a few KB. */
const MAX_DELIVERY = '1mb';

export function circleciRouter(deps: ApiDeps): Router {
  const router = Router();

  router.post('/api/providers/circleci/webhooks/:sourceId', signedSource(deps, 'github', 'circleci_webhook_secret_sealed'), rawDelivery('CircleCI', MAX_DELIVERY), async (req, res) => {
    const source = res.locals.source as SourceRow;
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const secret = res.locals.webhookSecret as string;
    if (!verifyCircleSignature(secret, raw, req.header('circleci-signature'))) throw new DomainError('webhook_signature_invalid', 'circleci-signature is missing or does not match the body');
    let event: CircleWebhookEvent;
    try {
      event = parseCircleWebhook(raw);
    } catch (err) {
      if (err instanceof CircleWebhookError) throw new DomainError(err.code, err.message);
      throw err;
    }
    if (event.kind === 'ignored') return void res.status(202).json({ accepted: true, ignored: event.type });
    if (event.id.length > 200) throw new DomainError('validation_error', 'The event id is too long', { field: 'id' });
    await recordDelivery(deps, res, { source, deliveryId: `circleci:${event.id}`, event: `circleci:${event.kind}`, action: event.kind === 'job' ? event.job.status : event.workflow.status }, async () => {
      if (!source.circleci || event.projectSlug.toLowerCase() !== source.circleci.projectSlug.toLowerCase()) return { status: 202, body: { accepted: true, id: event.id, ignored: 'other_project' } };
      const signalled = await deps.tasks.withTemporal(deadlineOf(res), () => nudgeTasks(deps, source, event, event.id));
      return { status: 202, body: { accepted: true, id: event.id, deduplicated: false, matchedTasks: signalled } };
    });
  });

  return router;
}

/** The tasks in review on this head (any task delivering to this repository): told to read CI now. */
async function nudgeTasks(deps: ApiDeps, source: SourceRow, event: Exclude<CircleWebhookEvent, { kind: 'ignored' }>, id: string): Promise<string[]> {
  if (!event.revision) return [];
  const { rows } = await deps.pool.query<{ id: string }>(
    `SELECT id FROM issues
      WHERE company_id = $1 AND COALESCE(lifecycle->'source'->>'deliverySourceId', lifecycle->'source'->>'sourceId') = $2
        AND status = 'in_review' AND lifecycle->'delivery'->>'headSha' = $3`,
    [source.company_id, source.id, event.revision],
  );
  const signal = { kind: 'check_run', headSha: event.revision, deliveryId: `circleci:${id}` };
  await Promise.all(rows.map((r) => deps.tasks.client.workflow.getHandle(workflowIdFor(r.id)).signal(providerEventSignal, signal)));
  return rows.map((r) => r.id);
}
