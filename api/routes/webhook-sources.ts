/**
 * What every provider's webhook route shares: the source and its secret looked up before the body is
 * read (nothing is buffered for a delivery that cannot be checked), and the delivery id recorded once
 * (a replay is 200 `duplicate` with no second effect; a delivery Temporal could not take is forgotten
 * again, so the provider's redelivery is taken).
 */
import express from 'express';
import type { Response } from 'express';
import { DomainError } from '../../domain/errors.js';
import { getSource, type SourceRow } from '../../db/sources.js';
import { secretBox } from '../../runtime/secrets.js';
import type { ApiDeps } from '../deps.js';
import { fromTemporal } from '../errors.js';
import { isUuid } from '../read-model.js';

export function signedSource(deps: ApiDeps, provider: SourceRow['provider'], secret: 'webhook_secret_sealed' | 'circleci_webhook_secret_sealed'): express.RequestHandler {
  return async (req, res, next) => {
    const sourceId = String(req.params.sourceId);
    if (!isUuid(sourceId)) throw new DomainError('not_found', 'Source not found');
    const source = await getSource(deps.pool, sourceId);
    if (source.provider !== provider) throw new DomainError('not_found', `Source ${sourceId} is not a ${provider} source`, { sourceId, provider: source.provider });
    if (!source[secret]) throw new DomainError('webhook_signature_invalid', 'This source has no webhook secret: set one before sending deliveries');
    res.locals.source = source;
    // Opened here for the route that checks the signature (never logged, never answered).
    res.locals.webhookSecret = secretBox(deps.config.secretKey).open(source[secret]!, `the ${secret === 'circleci_webhook_secret_sealed' ? 'CircleCI ' : ''}webhook secret of source ${source.id}`);
    next();
  };
}

export async function recordDelivery(
  deps: ApiDeps,
  res: Response,
  d: { source: SourceRow; deliveryId: string; event: string; action: string | null },
  take: () => Promise<{ status: number; body: Record<string, unknown> }>,
): Promise<void> {
  const recorded = await deps.pool.query(
    'INSERT INTO webhook_deliveries (source_id, delivery_id, event, action) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING RETURNING 1',
    [d.source.id, d.deliveryId, d.event, d.action],
  );
  if (!recorded.rowCount) return void res.status(200).json({ deliveryId: d.deliveryId, duplicate: true });
  try {
    const answer = await take();
    res.status(answer.status).json(answer.body);
  } catch (err) {
    await deps.pool.query('DELETE FROM webhook_deliveries WHERE source_id = $1 AND delivery_id = $2', [d.source.id, d.deliveryId]).catch(() => {});
    throw fromTemporal(err);
  }
}

/** The raw body for a signature check, at most `limit`; one over it is 413 payload_too_large (not a malformed request), before anything is recorded. */
export function rawDelivery(provider: string, limit: string): express.RequestHandler {
  const raw = express.raw({ type: () => true, limit });
  return (req, res, next) =>
    raw(req, res, (err?: unknown) => {
      const e = err as { type?: string; limit?: number } | undefined;
      if (e?.type === 'entity.too.large') return next(new DomainError('payload_too_large', `A ${provider} delivery is at most ${limit}`, { limitBytes: e.limit }));
      next(err);
    });
}
