/**
 * AgentRail's task API under `/api/tasks`: the same task as `/api/issues/{id}` (one workflow, one id,
 * the identifier accepted too), in AgentRail's envelope `{data, availableActions, meta?}`; reads 200,
 * writes 202; errors nested (`{error: {code, message, details: {availableActions}}}`, api/errors.ts).
 * Stricter than AgentRail: submit, ship and rollback need an Idempotency-Key that survives restarts,
 * ship checks `expectedHeadSha` and merges with GitHub's own head-SHA guard.
 */
import { Router, type Request, type Response } from 'express';
import { DomainError } from '../../domain/errors.js';
import { STATUSES, type Status } from '../../domain/statuses.js';
import { checkoutUpdate, patchUpdate, reportChecksUpdate, reviewUpdate, rollbackUpdate, shipUpdate, submitUpdate } from '../../workflows/messages.js';
import { actorOf, callerOf, requireOperator } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { actionsFor, ciStatus, reviewFeedback, taskDetail, taskSummary } from '../present-task.js';
import { parse } from '../schemas.js';
import * as schema from '../schemas-delivery.js';
import { runIssueUpdate, type Found } from './issue-update.js';
import { companyRules, scopedIssue, visibleToCaller } from './scope.js';
import type { Written } from '../read-model-writer.js';

const MINE_DEFAULT = 25;
const MINE_MAX = 100;

export function tasksRouter(deps: ApiDeps): Router {
  const router = Router();

  const detail = async (written: { issue: Written['issue'] }, req: Request, res: Response, workflowStatus: Found['workflowStatus'] = 'running') => {
    const actor = actorOf(req, res);
    const data = taskDetail(written.issue, actor, workflowStatus, await deps.reads.agentName(written.issue.assigneeAgentId));
    return { data, availableActions: data.availableActions };
  };

  router.get('/api/tasks/mine', async (req, res) => {
    const caller = callerOf(res);
    if (caller.kind !== 'agent') throw new DomainError('validation_error', '/tasks/mine lists the calling agent\'s tasks: use an agent key (operators list /api/companies/{id}/issues)');
    const q = parse(schema.listMine, req.query);
    const statuses = q.status ? q.status.split(',').map((x) => x.trim()).filter(Boolean) : undefined;
    const bad = statuses?.filter((x) => !(STATUSES as readonly string[]).includes(x));
    if (bad?.length) throw new DomainError('validation_error', `Unknown status: ${bad.join(', ')}`, { field: 'status', allowed: STATUSES });
    // Clamped like AgentRail's server, never refused.
    const limit = Math.min(MINE_MAX, Math.max(1, Math.trunc(Number(q.limit ?? MINE_DEFAULT)) || MINE_DEFAULT));
    const offset = q.cursor ? decodeCursor(q.cursor) : 0;
    const rows = await deps.reads.tasksOf(caller.agent.id, statuses as Status[] | undefined, limit + 1, offset);
    const actor = actorOf(req, res);
    const page = rows.slice(0, limit).filter((r) => visibleToCaller(res, r.state.id));
    const hasMore = rows.length > limit;
    res.json({
      data: page.map((r) => taskSummary(r.state, actor, r.workflowStatus)),
      page: { nextCursor: hasMore ? Buffer.from(String(offset + limit)).toString('base64url') : null, hasMore },
      availableActions: hasMore ? ['fetch_next_page'] : [],
      meta: { tokenBudgetHint: 'compact' },
    });
  });

  router.get('/api/tasks/:issueId', async (req, res) => {
    const found = await scopedIssue(deps, req, res);
    const body = await detail(found, req, res, found.workflowStatus);
    res.json({ ...body, meta: { tokenBudgetHint: 'standard', truncatedFields: [] } });
  });

  router.get('/api/tasks/:issueId/ci-status', async (req, res) => {
    const found = await scopedIssue(deps, req, res);
    const data = ciStatus(found.issue, actorOf(req, res), found.workflowStatus);
    res.json({ data, availableActions: data.availableActions, meta: { tokenBudgetHint: 'compact', truncatedFields: [] } });
  });

  router.get('/api/tasks/:issueId/review-feedback', async (req, res) => {
    const found = await scopedIssue(deps, req, res);
    const data = reviewFeedback(found.issue, actorOf(req, res), found.workflowStatus);
    res.json({ data, availableActions: data.availableActions });
  });

  /** AgentRail's start: our checkout, for the assignee, from todo. */
  router.post('/api/tasks/:issueId/start', async (req, res) => {
    parse(schema.startTask, req.body);
    const actor = actorOf(req, res);
    if (actor.kind !== 'agent') throw new DomainError('forbidden', 'start is for the assigned agent\'s key');
    await runIssueUpdate(deps, req, res, {
      operation: 'task.start',
      action: 'start',
      def: checkoutUpdate,
      command: (found) => ({ actor, agentId: actor.agentId!, expectedStatuses: ['todo'] as Status[], leaseSeconds: companyRules(found.company).defaultLeaseSeconds }),
      respond: async (written) => ({ status: 202, body: await detail(written, req, res) }),
    });
  });

  router.post('/api/tasks/:issueId/blocker', async (req, res) => {
    const body = parse(schema.blockTask, req.body);
    const actor = actorOf(req, res);
    const comment = [`Blocked: ${body.reason}`, body.actionRequired && `Action required: ${body.actionRequired}`, body.resumeInstructions && `To resume: ${body.resumeInstructions}`].filter(Boolean).join('\n');
    await runIssueUpdate(deps, req, res, {
      operation: 'task.blocker',
      action: 'blocker',
      def: patchUpdate,
      command: (found) => ({ actor, patch: { status: 'blocked' as Status, comment }, requireDeliverable: companyRules(found.company).requireDeliverable }),
      commentBody: comment,
      respond: async (written) => ({ status: 202, body: await detail(written, req, res) }),
    });
  });

  router.post('/api/tasks/:issueId/resolve-blocker', async (req, res) => {
    const body = parse(schema.resolveBlocker, req.body);
    const actor = actorOf(req, res);
    const comment = `Blocker resolved: ${body.resolutionSummary}`;
    await runIssueUpdate(deps, req, res, {
      operation: 'task.resolve_blocker',
      action: 'resolve_blocker',
      def: patchUpdate,
      prepare: async (found) => {
        if (found.issue.status !== 'blocked') throw new DomainError('status_conflict', 'Task is not blocked', { currentStatus: found.issue.status, availableActions: actionsFor(found.issue, actor, found.workflowStatus) });
      },
      command: (found) => ({ actor, patch: { status: 'todo' as Status, comment }, requireDeliverable: companyRules(found.company).requireDeliverable }),
      commentBody: comment,
      respond: async (written) => ({ status: 202, body: await detail(written, req, res) }),
    });
  });

  router.post('/api/tasks/:issueId/submit', async (req, res) => {
    const body = parse(schema.submitTask, req.body);
    const actor = actorOf(req, res);
    await runIssueUpdate(deps, req, res, {
      operation: 'task.submit',
      action: 'submit',
      keyRequired: true,
      waitsOnProvider: true,
      def: submitUpdate,
      command: () => ({ actor, mode: body.mode ?? 'adapter_managed', summary: body.summary, notes: body.notes ?? null, pullRequest: body.pullRequest, artifacts: body.artifacts, checks: body.checks }),
      respond: ({ issue }) => {
        const d = issue.lifecycle!.delivery!;
        const availableActions = actionsFor(issue, actor, 'running');
        const action = d.action;
        const data = {
          submissionId: d.submissionId, taskId: issue.id, status: issue.status, prUrl: d.prUrl, prNumber: d.prNumber, head: d.head, base: d.base, headSha: d.headSha,
          action, idempotencyKey: req.header('idempotency-key') ?? null, acceptedAt: d.submittedAt, availableActions: ['view_review_feedback', 'view_ci_status', ...availableActions.filter((a) => !a.startsWith('view_'))],
        };
        return { status: 202, body: { data, availableActions } };
      },
    });
  });

  router.post('/api/tasks/:issueId/ship', async (req, res) => {
    const body = parse(schema.shipTask, req.body);
    const actor = actorOf(req, res);
    await runIssueUpdate(deps, req, res, {
      operation: 'task.ship',
      action: 'ship',
      keyRequired: true,
      waitsOnProvider: true,
      def: shipUpdate,
      command: () => ({ actor, expectedHeadSha: body.expectedHeadSha, mergeMethod: body.mergeMethod, ...(body.mode ? { mode: body.mode } : {}), ...(body.targetEnvironment ? { targetEnvironment: body.targetEnvironment } : {}) }),
      respond: ({ issue }) => {
        const d = issue.lifecycle!.delivery!;
        const ship = d.ship!;
        const availableActions = actionsFor(issue, actor, 'running');
        const data = {
          taskId: issue.id, operationId: ship.operationId, status: 'succeeded', queuedAt: ship.shippedAt, prUrl: d.prUrl, prNumber: d.prNumber,
          mergeCommitSha: ship.mergeCommitSha, mergeCommitUrl: ship.mergeCommitUrl, headSha: d.headSha, issueUrl: issue.lifecycle?.source?.url ?? null,
          // Switchyard merges; it does not deploy: said, whatever mode was asked.
          mode: ship.mode ?? 'merge_only', targetEnvironment: ship.targetEnvironment ?? null, deployed: false, availableActions,
        };
        return { status: 202, body: { data, availableActions } };
      },
    });
  });

  router.post('/api/tasks/:issueId/rollback', async (req, res) => {
    const body = parse(schema.rollbackTask, req.body);
    const actor = actorOf(req, res);
    await runIssueUpdate(deps, req, res, {
      operation: 'task.rollback',
      action: 'rollback',
      keyRequired: true,
      waitsOnProvider: true,
      def: rollbackUpdate,
      command: () => ({ actor, reason: body.reason }),
      commentBody: undefined,
      respond: ({ issue }) => {
        const d = issue.lifecycle!.delivery!;
        const availableActions = actionsFor(issue, actor, 'running');
        const data = { taskId: issue.id, rollbackPrUrl: d.rollback?.prUrl ?? null, rollbackPrNumber: d.rollback?.prNumber ?? null, revertedCommitSha: d.ship?.mergeCommitSha ?? null, status: issue.status, reason: d.rollback?.reason, availableActions };
        return { status: 202, body: { data, availableActions } };
      },
    });
  });

  /** Artifact mode: CI results from any CI system (operator key). */
  router.post('/api/tasks/:issueId/checks', async (req, res) => {
    requireOperator(res);
    const body = parse(schema.reportChecks, req.body);
    const actor = actorOf(req, res);
    await runIssueUpdate(deps, req, res, {
      operation: 'task.checks',
      action: 'report_checks',
      def: reportChecksUpdate,
      command: () => ({ actor, headSha: body.headSha?.toLowerCase(), checks: body.checks }),
      respond: ({ issue }) => {
        const data = ciStatus(issue, actor, 'running');
        return { status: 202, body: { data, availableActions: data.availableActions } };
      },
    });
  });

  /** Artifact mode (or a human reviewer on any task): the review verdict (operator key). */
  router.post('/api/tasks/:issueId/review', async (req, res) => {
    requireOperator(res);
    const body = parse(schema.reviewTask, req.body);
    const actor = actorOf(req, res);
    await runIssueUpdate(deps, req, res, {
      operation: 'task.review',
      action: 'record_review',
      def: reviewUpdate,
      command: () => ({ actor, outcome: body.outcome, comments: body.comments ?? [] }),
      respond: ({ issue }) => {
        const data = reviewFeedback(issue, actor, 'running');
        return { status: 202, body: { data, availableActions: data.availableActions } };
      },
    });
  });

  return router;
}

function decodeCursor(cursor: string): number {
  const n = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!Number.isInteger(n) || n < 0 || n > 1_000_000) throw new DomainError('validation_error', 'cursor is not one this API gave out', { field: 'cursor' });
  return n;
}
