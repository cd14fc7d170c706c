/**
 * AgentRail's event subscriptions under `/api/event-subscriptions`, in its shapes and status codes
 * (create 201, deactivate 202, errors nested), owned by a company: an agent's are its company's (a
 * task-scoped key's only those it made within its task), the operator's name their company and it
 * sees every one. Creating one starts its delivery workflow; deactivating stops it without waiting.
 * Beyond AgentRail: delivery health on each subscription, and its deliveries (`…/deliveries`).
 */
import { createHash, createHmac } from 'node:crypto';
import { Router, type Response } from 'express';
import { DomainError } from '../../domain/errors.js';
import { RETRY_POLICY, subscriptionActions } from '../../domain/event-subscriptions.js';
import { activeTwin, disableSubscription, getSubscription, insertSubscription, listDeliveries, listSubscriptions, type SubscriptionRow } from '../../db/event-subscriptions.js';
import { logger } from '../../runtime/logger.js';
import { secretBox } from '../../runtime/secrets.js';
import { ensureSubscriptionWorkflow, stopSubscriptionWorkflow } from '../../runtime/subscription-workflows.js';
import { callerOf, taskScopeOf } from '../auth.js';
import { deadlineOf } from '../deadline.js';
import type { ApiDeps } from '../deps.js';
import { agentRailErrorBody } from '../errors.js';
import { runIdempotent } from '../idempotency.js';
import { parse } from '../schemas.js';
import * as schema from '../schemas-events.js';
import { subscriptionRequest } from '../subscription-request.js';

/** What AgentRail's clients read, plus delivery health and the owning company. */
export function presentSubscription(s: SubscriptionRow) {
  return {
    id: s.id,
    url: s.url,
    eventTypes: s.eventTypes,
    filters: { taskIds: s.taskIds },
    status: s.status,
    signingAlgorithm: 'hmac_sha256' as const,
    retryPolicy: { ...RETRY_POLICY },
    createdAt: s.createdAt,
    description: s.description,
    availableActions: subscriptionActions(s.status),
    companyId: s.companyId,
    disabledReason: s.disabledReason,
    disabledAt: s.disabledAt,
    lastDeliveryAt: s.lastDeliveryAt,
    lastFailure: s.lastFailure,
    deliveredThroughSequence: s.deliveredThrough,
  };
}

/**
 * Who made a subscription, as stored in created_by. An agent sees and stops only its own: another
 * agent's or the operator's URL may be a capability (a chat webhook's token), and an agent stopping
 * the operator's would silence it.
 */
const creatorOf = (res: Response) => {
  const caller = callerOf(res);
  return caller.kind === 'agent' ? `agent:${caller.agent.id}` : 'operator';
};

const notFound = () => new DomainError('not_found', 'Event subscription not found.', { availableActions: ['list_event_subscriptions', 'create_event_subscription'] });

/** How long a create waits for Temporal to start the workflow before answering anyway (the dispatcher starts it later). */
const START_WAIT_MS = 3_000;

export function eventSubscriptionsRouter(deps: ApiDeps): Router {
  const { pool, config } = deps;
  const router = Router();

  /** The subscription if this caller may see it; otherwise not found, exactly like one that does not exist. */
  const visible = async (res: Response, id: string): Promise<SubscriptionRow> => {
    if (!/^evsub_[A-Za-z0-9]{1,64}$/.test(id)) throw notFound();
    const sub = await getSubscription(pool, id);
    const caller = callerOf(res);
    const scope = taskScopeOf(res);
    if (!sub || (caller.kind === 'agent' && (sub.companyId !== caller.agent.companyId || sub.createdBy !== creatorOf(res) || (scope !== null && sub.taskScope !== scope)))) throw notFound();
    return sub;
  };

  router.get('/api/event-subscriptions', async (_req, res) => {
    const caller = callerOf(res);
    const rows = await listSubscriptions(pool, caller.kind === 'agent' ? caller.agent.companyId : null, taskScopeOf(res), caller.kind === 'agent' ? creatorOf(res) : null);
    res.json({ data: rows.map(presentSubscription), availableActions: ['create'] });
  });

  router.get('/api/event-subscriptions/:subscriptionId', async (req, res) => {
    const data = presentSubscription(await visible(res, String(req.params.subscriptionId)));
    res.json({ data, availableActions: data.availableActions });
  });

  router.get('/api/event-subscriptions/:subscriptionId/deliveries', async (req, res) => {
    const sub = await visible(res, String(req.params.subscriptionId));
    const q = parse(schema.listDeliveriesQuery, req.query);
    const limit = Math.min(200, Math.max(1, Number(q.limit ?? 50)));
    res.json({ data: await listDeliveries(pool, sub.id, limit, q.status ?? null), availableActions: [] });
  });

  router.post('/api/event-subscriptions', async (req, res) => {
    const r = await subscriptionRequest(deps, req, res);
    // The key's fingerprint is of the normalized request (AgentRail's), with the secret as a keyed digest: never stored in the clear.
    req.body = { ...r, secret: createHmac('sha256', config.secretKey ?? '').update(r.secret).digest('hex'), idempotencyKey: undefined };
    await runIdempotent(pool, req, res, { companyId: r.companyId, operation: 'event_subscription.create', keyRequired: true }, async ({ seed }) => {
      const id = `evsub_${createHash('sha256').update(seed!).digest('hex').slice(0, 20)}`;
      const sealed = secretBox(config.secretKey).seal(r.secret);
      for (let tries = 0; tries < 3; tries++) {
        const inserted = await insertSubscription(pool, { id, companyId: r.companyId, createdBy: r.createdBy, taskScope: r.taskScope, url: r.url, eventTypes: r.eventTypes, taskIds: r.taskIds, secretSealed: sealed, description: r.description, filterKey: r.filterKey }, config.maxSubscriptionsPerCompany);
        if (inserted === 'limit') {
          const full = new DomainError('conflict', `The company holds ${config.maxSubscriptionsPerCompany} active event subscriptions, the most it may: deactivate one first.`, { limit: config.maxSubscriptionsPerCompany, availableActions: ['list_event_subscriptions', 'deactivate'] });
          // Answered, not replayed: once one is deactivated, the same key may create.
          return { status: 409, body: agentRailErrorBody(full), final: false };
        }
        // Ours (new, or made by a concurrent retry with this key), or an active twin holds the filter set.
        const mine = await getSubscription(pool, id);
        if (mine) {
          await startWorkflow(mine, deadlineOf(res));
          return { status: 201, body: { data: presentSubscription(mine), availableActions: subscriptionActions(mine.status) } };
        }
        const twin = await activeTwin(pool, r.companyId, r.filterKey);
        if (twin) {
          const conflict = new DomainError('conflict', 'An active subscription already exists for this endpoint and filter set.', { subscriptionId: twin, availableActions: ['deactivate'] });
          // Answered, not replayed: once the twin is deactivated, the same key may create.
          return { status: 409, body: agentRailErrorBody(conflict), final: false };
        }
        // The twin was deactivated between the two statements: try again.
      }
      throw new DomainError('conflict', 'The subscription could not be created while others for the same endpoint changed; retry', { availableActions: ['retry'] });
    });
  });

  router.delete('/api/event-subscriptions/:subscriptionId', async (req, res) => {
    const sub = await visible(res, String(req.params.subscriptionId));
    await disableSubscription(pool, sub.id, 'deactivated');
    const data = presentSubscription((await getSubscription(pool, sub.id))!);
    // Not awaited: the row already says disabled, which the workflow checks before every delivery.
    void deps.tasks.withTemporal(Date.now() + START_WAIT_MS, () => stopSubscriptionWorkflow(deps.tasks.client, sub.id)).catch((err) => {
      logger.warn({ err, subscriptionId: sub.id }, 'could not signal a deactivated subscription\'s workflow; it stops at its next look at the row');
    });
    res.status(202).json({ data: { ...data, availableActions: [] }, availableActions: [] });
  });

  /** Started before the 201; if Temporal does not confirm in time, the worker's dispatcher starts it (next matching event, or its sweep within a minute). */
  async function startWorkflow(sub: SubscriptionRow, deadline: number): Promise<void> {
    if (sub.status !== 'active') return;
    try {
      await deps.tasks.withTemporal(Math.min(deadline, Date.now() + START_WAIT_MS), () => ensureSubscriptionWorkflow(deps.tasks.client, config, sub.id));
    } catch (err) {
      logger.warn({ err, subscriptionId: sub.id }, 'event subscription created; its workflow is started by the worker\'s dispatcher');
    }
  }

  return router;
}
