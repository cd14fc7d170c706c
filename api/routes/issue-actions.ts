/** The task's lifecycle verbs: checkout, release, close, heartbeat. Each is one workflow Update. */
import { Router, type Request, type Response } from 'express';
import { DomainError } from '../../domain/errors.js';
import { checkCheckout, type CheckoutCmd } from '../../domain/commands.js';
import type { IssueState } from '../../domain/task.js';
import type { TaskResult } from '../../workflows/messages.js';
import { checkoutUpdate, closeUpdate, heartbeatUpdate, releaseUpdate } from '../../workflows/messages.js';
import { actorOf } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { runIdempotent } from '../idempotency.js';
import { presentIssue } from '../present.js';
import * as schema from '../schemas.js';
import { companyRules, scopedIssue } from './scope.js';

export function issueActionsRouter(deps: ApiDeps): Router {
  const { pool, tasks, config } = deps;
  const router = Router();

  type Ctx = { issue: IssueState; issueId: string; rules: ReturnType<typeof companyRules>; updateId?: string };

  /** Load and scope the issue, then run the update under the request's Idempotency-Key. */
  const action = async (req: Request, res: Response, operation: string, handle: (ctx: Ctx) => Promise<TaskResult>, present?: (r: TaskResult) => unknown) => {
    const { issue, company } = await scopedIssue(deps, req, res);
    const rules = companyRules(company);
    await runIdempotent(pool, req, res, { companyId: company.id, operation }, async ({ updateId }) => {
      const result = await handle({ issue, issueId: issue.id, rules, updateId });
      return { status: 200, body: present ? present(result) : presentIssue(result.issue, actorOf(req, res)) };
    });
  };

  router.post('/api/issues/:issueId/checkout', async (req, res) => {
    const body = schema.parse(schema.checkout, req.body);
    schema.assertLeaseSeconds(body.leaseSeconds, config.minLeaseSeconds, 'leaseSeconds');
    const actor = actorOf(req, res);
    if (actor.kind === 'agent' && actor.agentId !== body.agentId) {
      throw new DomainError('forbidden', 'An agent can only check out as itself', { agentId: body.agentId });
    }
    await action(req, res, 'issue.checkout', async ({ issue, issueId, rules, updateId }) => {
      const cmd = { actor, agentId: body.agentId, expectedStatuses: body.expectedStatuses, leaseSeconds: body.leaseSeconds ?? rules.defaultLeaseSeconds };
      // Losers of a race are refused from the read model when it already shows the winner: the same
      // rule and the same 409 body the workflow would give, without queueing on the workflow.
      // The first check uses the issue this request already read; later ones (after waiting) read again.
      let known: IssueState | undefined = issue;
      const precheck = async () => {
        refuseKnownConflict(known ?? (await deps.reads.issue(issueId)), cmd);
        known = undefined;
      };
      return tasks.update(issueId, checkoutUpdate, cmd, updateId, precheck);
    });
  });

  router.post('/api/issues/:issueId/release', async (req, res) => {
    const body = schema.parse(schema.release, req.body ?? {});
    schema.assertCommentSize(body.comment);
    await action(req, res, 'issue.release', ({ issueId, updateId }) => tasks.update(issueId, releaseUpdate, { actor: actorOf(req, res), comment: body.comment }, updateId));
  });

  router.post('/api/issues/:issueId/close', async (req, res) => {
    const body = schema.parse(schema.close, req.body);
    schema.assertCommentSize(body.comment);
    await action(
      req,
      res,
      'issue.close',
      ({ issueId, rules, updateId }) => tasks.update(issueId, closeUpdate, { actor: actorOf(req, res), comment: body.comment, requireDeliverable: rules.requireDeliverable }, updateId),
      (result) => ({
        issue: presentIssue(result.issue, actorOf(req, res)),
        comment: result.comment,
        deliverables: result.closeout?.signals ?? [],
        warnings: result.closeout?.warnings ?? [],
      }),
    );
  });

  router.post('/api/issues/:issueId/heartbeat', async (req, res) => {
    schema.parse(schema.heartbeat, req.body);
    await action(req, res, 'issue.heartbeat', ({ issueId, updateId }) => tasks.update(issueId, heartbeatUpdate, { actor: actorOf(req, res) }, updateId));
  });

  return router;
}

/**
 * Only a checkout_conflict is decided here; anything else (a win, a renewal, another refusal) goes to
 * the workflow, which is the authority. The read model is never ahead of the workflow, and an update
 * returns only after its write, so a conflict seen here was true while this request was in flight.
 */
function refuseKnownConflict(state: IssueState, cmd: CheckoutCmd): void {
  try {
    checkCheckout(state, cmd);
  } catch (err) {
    if (err instanceof DomainError && err.code === 'checkout_conflict') throw err;
  }
}
