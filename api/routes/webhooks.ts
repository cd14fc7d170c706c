/**
 * GitHub webhooks, the fast path: `POST /api/providers/github/webhooks/{sourceId}`. The signature is
 * checked over the raw bytes with the source's secret (forged or missing: 401, nothing recorded); the
 * delivery id is recorded once (a replay is 200 with no second effect); the effect goes through
 * Temporal (intake by signal-with-start, PR/CI/review events by signal to the task that owns the PR or
 * head) and the answer is 202 well within GitHub's 10 s. If Temporal cannot take it, the record is
 * dropped and the answer is 503, so a redelivery tries again; the watcher's polling covers the gap.
 */
import express, { Router } from 'express';
import { admitCandidate } from '../../activities/intake.js';
import { passesLabels } from '../../activities/providers/github.js';
import { ProviderError, WebhookVerifier, type ProviderEvent } from '../../activities/github/index.js';
import { DomainError } from '../../domain/errors.js';
import { claimKeyOf, isSourceRepository, type SourceRow } from '../../db/sources.js';
import { providerEventSignal, workflowIdFor } from '../../workflows/messages.js';
import { deadlineOf } from '../deadline.js';
import type { ApiDeps } from '../deps.js';
import { recordDelivery, signedSource } from './webhook-sources.js';

/**
 * GitHub caps a delivery at 25 MB, but the events taken here are small (a push, the one large kind,
 * is ignored): 5 MB keeps unsigned junk from costing much memory before its signature is checked.
 */
const MAX_DELIVERY = '5mb';

export function webhooksRouter(deps: ApiDeps): Router {
  const router = Router();

  router.post('/api/providers/github/webhooks/:sourceId', signedSource(deps, 'github', 'webhook_secret_sealed'), express.raw({ type: () => true, limit: MAX_DELIVERY }), async (req, res) => {
    const source = res.locals.source as SourceRow;
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    let event: ProviderEvent;
    try {
      event = await new WebhookVerifier(res.locals.webhookSecret as string).parse(req.headers, raw);
    } catch (err) {
      if (err instanceof ProviderError && err.code === 'bad_payload') throw new DomainError('invalid_json', err.message);
      if (err instanceof ProviderError && err.code === 'invalid_payload') throw new DomainError('invalid_payload', err.message);
      if (err instanceof ProviderError) throw new DomainError('webhook_signature_invalid', err.message);
      throw new DomainError('invalid_body', `The delivery cannot be read: ${(err as Error).message}`);
    }
    const deliveryId = req.header('x-github-delivery');
    if (!deliveryId || deliveryId.length > 200) throw new DomainError('validation_error', 'X-GitHub-Delivery is missing or too long', { header: 'X-GitHub-Delivery' });
    const eventName = req.header('x-github-event') ?? 'unknown';
    await recordDelivery(deps, res, { source, deliveryId, event: eventName, action: 'action' in event ? String(event.action) : null }, async () => {
      const effect = await deps.tasks.withTemporal(deadlineOf(res), () => routeEvent(deps, source, event, deliveryId));
      return { status: 202, body: { deliveryId, event: eventName, ...effect } };
    });
  });

  return router;
}

async function routeEvent(deps: ApiDeps, source: SourceRow, event: ProviderEvent, deliveryId: string): Promise<Record<string, unknown>> {
  if (event.kind === 'ignored' || event.kind === 'push') return { ignored: event.kind === 'push' ? 'push' : event.event };
  if (event.kind === 'issue') {
    const c = event.candidate;
    if (!isSourceRepository(source, { id: event.repoId, fullName: c.source.repo })) return { ignored: 'other_repository' };
    const key = c.id;
    const known = await deps.pool.query('SELECT 1 FROM source_items WHERE source_key = $1', [claimKeyOf(source, c.source.number)]);
    // Label filters decide what is taken in; a task already taken in follows its issue whatever its labels.
    if (!known.rowCount && c.source.state === 'closed') return { ignored: 'closed' };
    if (!known.rowCount && !passesLabels(c.source.labels, source.labels)) return { ignored: 'label_filter' };
    // A paused source takes nothing new in (its polling finds the issue once resumed); its tasks still follow their issues.
    if (!known.rowCount && source.paused) return { ignored: 'source_paused' };
    const admitted = await admitCandidate(deps.pool, deps.tasks.client, deps.config, source, {
      key, number: c.source.number, title: c.source.title, body: c.source.body, labels: c.source.labels, state: c.source.state, url: c.source.url, updatedAt: c.source.updatedAt,
    });
    return { intake: admitted };
  }
  if (!isSourceRepository(source, { id: event.repoId, fullName: event.repo })) return { ignored: 'other_repository' };
  const byPr = event.kind === 'pull_request' || event.kind === 'review' || event.kind === 'review_comment' ? event.prNumber : null;
  const sha = event.kind === 'status' ? event.sha : 'headSha' in event ? event.headSha : null;
  const { rows } = await deps.pool.query<{ id: string }>(
    `SELECT id FROM issues
     WHERE company_id = $1 AND COALESCE(lifecycle->'source'->>'deliverySourceId', lifecycle->'source'->>'sourceId') = $2 AND status = 'in_review'
       AND (($3::int IS NOT NULL AND (lifecycle->'delivery'->>'prNumber')::int = $3) OR ($3::int IS NULL AND lifecycle->'delivery'->>'headSha' = $4))`,
    [source.company_id, source.id, byPr, sha],
  );
  const signal = { kind: event.kind, headSha: sha, deliveryId };
  await Promise.all(rows.map((r) => deps.tasks.client.workflow.getHandle(workflowIdFor(r.id)).signal(providerEventSignal, signal)));
  return { signalled: rows.map((r) => r.id) };
}
