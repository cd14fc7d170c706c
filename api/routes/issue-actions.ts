/** The task's lifecycle verbs: checkout, release, close, heartbeat (each one workflow Update), and restore. */
import { resyncLinks } from './dependencies.js';
import { Router } from 'express';
import { reviewClosingComment } from '../../domain/closeout.js';
import { checkCheckout, type CheckoutCmd } from '../../domain/commands.js';
import { DomainError } from '../../domain/errors.js';
import type { StoredIssue } from '../../db/issues-sql.js';
import { checkoutUpdate, closeUpdate, heartbeatUpdate, releaseUpdate } from '../../workflows/messages.js';
import { actorOf, requireOperator } from '../auth.js';
import { deadlineOf } from '../deadline.js';
import type { ApiDeps } from '../deps.js';
import { runIdempotent } from '../idempotency.js';
import { presentComment, presentIssue } from '../present.js';
import { writeResult } from '../read-model-writer.js';
import { projectionOfState } from '../../runtime/task-projection.js';
import * as schema from '../schemas.js';
import { runIssueUpdate } from './issue-update.js';
import { assertAssignable, assertTaskRunning, companyRules, scopedIssue } from './scope.js';

export function issueActionsRouter(deps: ApiDeps): Router {
  const { config } = deps;
  const router = Router();

  router.post('/api/issues/:issueId/checkout', async (req, res) => {
    const body = schema.parse(schema.checkout, req.body);
    schema.assertLeaseSeconds(body.leaseSeconds, config.minLeaseSeconds, 'leaseSeconds');
    const actor = actorOf(req, res);
    if (actor.kind === 'agent' && actor.agentId !== body.agentId) {
      throw new DomainError('forbidden', 'An agent can only check out as itself', { agentId: body.agentId });
    }
    let cmd: CheckoutCmd | undefined;
    await runIssueUpdate(deps, req, res, {
      operation: 'issue.checkout',
      action: 'checkout',
      def: checkoutUpdate,
      command: (found) => {
        cmd = { actor, agentId: body.agentId, expectedStatuses: body.expectedStatuses, leaseSeconds: body.leaseSeconds ?? companyRules(found.company).defaultLeaseSeconds };
        return cmd;
      },
      // Losers of a race are refused from the read model once it shows the winner: the same rule and
      // 409 body the workflow would give, without queueing on the workflow. The first check uses the
      // issue this request already read; later ones (after waiting for a slot) read again.
      precheck: (found) => {
        let known: StoredIssue | undefined = { state: found.issue, fingerprint: found.fingerprint, workflowStatus: found.workflowStatus };
        return async () => {
          const stored = known ?? (await deps.reads.issue(found.issue.id));
          known = undefined;
          assertTaskRunning({ issue: stored.state, workflowStatus: stored.workflowStatus });
          refuseKnownConflict(stored.state, cmd!);
        };
      },
      // An operator may check out on behalf of an agent: only an agent of this company (422, like create and PATCH).
      prepare: actor.kind === 'operator' ? (found) => assertAssignable(deps, body.agentId, found.company.id) : undefined,
      respond: ({ issue }, found) => ({ status: 200, body: presentIssue(issue, actor, found.workflowStatus) }),
    });
  });

  router.post('/api/issues/:issueId/release', async (req, res) => {
    const body = schema.parse(schema.release, req.body ?? {});
    schema.assertCommentSize(body.comment);
    const actor = actorOf(req, res);
    await runIssueUpdate(deps, req, res, {
      operation: 'issue.release',
      action: 'release',
      def: releaseUpdate,
      command: () => ({ actor, comment: body.comment }),
      commentBody: body.comment,
      respond: ({ issue }) => ({ status: 200, body: presentIssue(issue, actor) }),
    });
  });

  router.post('/api/issues/:issueId/close', async (req, res) => {
    const body = schema.parse(schema.close, req.body);
    schema.assertCommentSize(body.comment);
    const actor = actorOf(req, res);
    await runIssueUpdate(deps, req, res, {
      operation: 'issue.close',
      action: 'close',
      def: closeUpdate,
      command: (found) => ({ actor, comment: body.comment, requireDeliverable: companyRules(found.company).requireDeliverable }),
      commentBody: body.comment,
      respond: ({ issue, comment }) => {
        // The same pure review the workflow ran: the answer need not carry it through history.
        const report = reviewClosingComment(body.comment);
        return { status: 200, body: { issue: presentIssue(issue, actor), comment: comment && presentComment(comment), deliverables: report.signals, warnings: report.warnings } };
      },
    });
  });

  router.post('/api/issues/:issueId/heartbeat', async (req, res) => {
    schema.parse(schema.heartbeat, req.body);
    const actor = actorOf(req, res);
    await runIssueUpdate(deps, req, res, {
      operation: 'issue.heartbeat',
      action: 'heartbeat',
      def: heartbeatUpdate,
      command: () => ({ actor }),
      respond: ({ issue }) => ({ status: 200, body: presentIssue(issue, actor) }),
    });
  });

  /**
   * Operator: start a task whose workflow was terminated or cancelled in Temporal again, from the last
   * state its workflow held (its history), or else the read model's.
   */
  router.post('/api/issues/:issueId/restore', async (req, res) => {
    requireOperator(res);
    schema.parse(schema.restore, req.body ?? {});
    const found = await scopedIssue(deps, req, res);
    const deadline = deadlineOf(res);
    const actor = actorOf(req, res);
    await runIdempotent(deps.pool, req, res, { companyId: found.company.id, operation: 'issue.restore' }, async () => {
      const closed = await deps.tasks.closedStatus(found.issue.id, deadline);
      if (closed && closed.status === null) throw new DomainError('status_conflict', 'This task\'s workflow is running: there is nothing to restore', { issueId: found.issue.id });
      const last = closed?.runId ? await deps.tasks.lastProjection(found.issue.id, closed.runId, deadline) : undefined;
      const from = last ?? projectionOfState(found.issue);
      const result = await deps.tasks.restore(from, { runId: closed?.runId ?? 'unknown', status: closed?.status ?? found.workflowStatus }, { actor }, deadline);
      const { issue } = await writeResult(deps.pool, result, { known: from.state, deadline });
      await resyncLinks(deps, issue, deadline);
      return { status: 200, body: { ...presentIssue(issue, actor), restoredFrom: { runId: closed?.runId ?? null, workflowStatus: closed?.status ?? null, source: last ? 'workflow_history' : 'read_model' } } };
    });
  });

  return router;
}

/**
 * Only a checkout_conflict is decided here; anything else (a win, a renewal, another refusal) goes to
 * the workflow, which is the authority. The read model is never ahead of the workflow, so a conflict
 * seen here was true while this request was in flight.
 */
function refuseKnownConflict(state: import('../../domain/task.js').IssueState, cmd: CheckoutCmd): void {
  try {
    checkCheckout(state, cmd);
  } catch (err) {
    if (err instanceof DomainError && err.code === 'checkout_conflict') throw err;
  }
}
