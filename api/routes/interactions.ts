/**
 * Confirmations (issue 8 §3): an agent with a run id (or an operator) asks on an issue; the board (or
 * whom the resolver policy names) accepts, rejects, or the asker withdraws. Each is an Update of the
 * issue's workflow, which alone decides the one resolution that wins.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { DomainError } from '../../domain/errors.js';
import type { Resolution } from '../../domain/interactions.js';
import { interactionByKey, interactionOf, interactionsOf } from '../../db/collab-reads.js';
import { uuidFromSeed } from '../../runtime/ids.js';
import { createInteractionUpdate, resolveInteractionUpdate } from '../../workflows/messages.js';
import { actorOf } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { canonical } from '../idempotency.js';
import { isUuid } from '../read-model.js';
import * as schema from '../schemas.js';
import { runIssueUpdate } from './issue-update.js';
import { scopedIssue } from './scope.js';

export function interactionsRouter(deps: ApiDeps): Router {
  const { pool } = deps;
  const router = Router();

  router.get('/api/issues/:issueId/interactions', async (req, res) => {
    const { issue } = await scopedIssue(deps, req, res);
    res.json(await interactionsOf(pool, issue.id));
  });

  router.get('/api/issues/:issueId/interactions/:interactionId', async (req, res) => {
    const { issue } = await scopedIssue(deps, req, res);
    const found = isUuid(String(req.params.interactionId)) ? await interactionOf(pool, issue.id, String(req.params.interactionId)) : undefined;
    if (!found) throw new DomainError('not_found', 'Interaction not found', { interactionId: req.params.interactionId });
    res.json(found);
  });

  router.post('/api/issues/:issueId/interactions', async (req, res) => {
    const body = schema.parse(schema.createInteraction, req.body);
    const actor = actorOf(req, res);
    const { idempotencyKey, continuationPolicy, resolverPolicy, title, summary, payload } = body;
    // The key is the caller's own (issue 13 §6): the hash covers who asks, so another caller sending the same key
    // and body gets 409 idempotency_key_reused, never someone else's confirmation.
    const requestHash = createHash('sha256').update(JSON.stringify({ by: actor.agentId ?? 'operator', body: canonical(body) })).digest('hex');
    let interactionId: string = randomUUID();
    if (idempotencyKey) {
      const { issue } = await scopedIssue(deps, req, res);
      interactionId = uuidFromSeed(`${issue.id}:interaction:${idempotencyKey}`);
      // The same key again: the read model answers when it knows it (also long after the workflow forgot it).
      const known = await interactionByKey(pool, issue.id, idempotencyKey);
      if (known) {
        if (known.requestHash !== requestHash) {
          throw new DomainError('idempotency_key_reused', 'This idempotencyKey was used for a different interaction', { idempotencyKey, interactionId: known.id });
        }
        const { requestHash: _h, ...shown } = known;
        res.status(201).json(shown);
        return;
      }
    }
    await runIssueUpdate(deps, req, res, {
      operation: 'issue.interaction.create',
      action: 'request_confirmation',
      def: createInteractionUpdate,
      command: () => ({ actor, interactionId, idempotencyKey: idempotencyKey ?? null, requestHash, continuationPolicy, resolverPolicy, title, summary, payload }),
      respond: async ({ issue }) => ({ status: 201, body: await interactionOf(pool, issue.id, interactionId) }),
    });
  });

  const resolve = (action: Resolution, bodySchema: typeof schema.rejectInteraction | typeof schema.acceptInteraction) => async (req: Request, res: Response) => {
    const body = (schema.parse(bodySchema, req.body ?? {}) ?? {}) as { reason?: string | null };
    const actor = actorOf(req, res);
    const interactionId = String(req.params.interactionId);
    await runIssueUpdate(deps, req, res, {
      operation: `issue.interaction.${action}`,
      // Decided per confirmation by its resolver policy (domain/interactions.ts mayResolve), not by who holds the task.
      action: null,
      def: resolveInteractionUpdate,
      prepare: async (found) => {
        const known = isUuid(interactionId) ? await interactionOf(pool, found.issue.id, interactionId) : undefined;
        if (!known) throw new DomainError('not_found', 'Interaction not found', { interactionId });
        if (known.status !== 'pending') throw new DomainError('already_resolved', 'Interaction has already been resolved', { interactionId, status: known.status });
      },
      command: () => ({ actor, interactionId, action, reason: body.reason ?? null }),
      respond: async ({ issue }) => ({ status: 200, body: await interactionOf(pool, issue.id, interactionId) }),
    });
  };
  router.post('/api/issues/:issueId/interactions/:interactionId/accept', resolve('accept', schema.acceptInteraction));
  router.post('/api/issues/:issueId/interactions/:interactionId/reject', resolve('reject', schema.rejectInteraction));
  router.post('/api/issues/:issueId/interactions/:interactionId/withdraw', resolve('withdraw', schema.withdrawInteraction));

  return router;
}
