/** Issues: create (starts the task's workflow), list and read (Postgres), update (a workflow Update). */
import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { reviewClosingComment } from '../../domain/closeout.js';
import { changedFields } from '../../domain/commands.js';
import { initialIssue } from '../../domain/creation.js';
import { DomainError } from '../../domain/errors.js';
import { PRIORITIES, STATUSES } from '../../domain/statuses.js';
import { actorLabel } from '../../domain/task.js';
import { patchUpdate } from '../../workflows/messages.js';
import { actorOf, assertCompanyAccess, callerOf } from '../auth.js';
import { deadlineOf } from '../deadline.js';
import type { ApiDeps } from '../deps.js';
import { runIdempotent } from '../idempotency.js';
import { uuidFromSeed } from '../../runtime/ids.js';
import { presentComment, presentIssue } from '../present.js';
import * as schema from '../schemas.js';
import { createIssueRecord } from './create-issue.js';
import { identifierFor } from '../../db/identifiers.js';
import { runIssueUpdate } from './issue-update.js';
import { assertAssignable, companyRules, scopedIssue, visibleToCaller } from './scope.js';
import { assertHierarchy, hierarchyOf } from './hierarchy.js';
import { admitChild, blockerViews, checkBlockers, recentOpenTitle, withBlockerLock, withGoalHeld } from './dependencies.js';

export function issuesRouter(deps: ApiDeps): Router {
  const { pool, reads } = deps;
  const router = Router();

  /** Creates an issue (a subtask when it has a parent): checks its links, then starts its workflow. */
  const create = async (req: Request, res: Response, companyId: string, given: unknown, impliedParent?: string) => {
    assertCompanyAccess(res, companyId);
    const company = await reads.company(companyId);
    const parsed = schema.parse(schema.createIssue, given);
    // Paperclip's fields without a meaning here are accepted and ignored (README: "Paperclip's fields").
    const { idempotencyKey, workMode: _w, requestDepth: _r, allowDuplicate, blockedByIssueIds, projectId: _p, assigneeUserId: _u, unblockDescriptor: _d, billingCode: _b, executionPolicy: _e, acceptanceCriteria: _ac, blockParentUntilDone: _bp, ...fields } = parsed;
    const body = { ...fields, ...(impliedParent ? { parentId: impliedParent } : {}) };
    await assertAssignable(deps, body.assigneeAgentId, company.id);
    await assertHierarchy(deps, company.id, body.parentId, body.goalId);
    const actor = actorOf(req, res);
    // With blockers: checked and created under the company's blocker lock, so a burst cannot pass the
    // dependents bound together (the new links are in the read model before the lock is released).
    const underBlockerLock = (fn: () => Promise<void>) => (blockedByIssueIds?.length ? withBlockerLock(deps, company.id, deadlineOf(res), fn) : fn());
    await underBlockerLock(async () => {
      const blockersDone = await checkBlockers(deps, company.id, null, blockedByIssueIds);
      const dedup = (o: { status: number; body: unknown }) =>
        o.status === 201 ? { status: 200, body: { ...(o.body as object), deduplicated: true, deduplicationReason: 'idempotency_key' } } : o;
      await runIdempotent(pool, req, res, { companyId: company.id, operation: 'issue.create', bodyKey: idempotencyKey, replayAs: dedup }, async ({ seed }) => {
        // Inside: a replay of a create that passed is answered even if the parent's plan changed since.
        // The parent's workflow admits the child (plan gate, delegate offer, bound), from the state it holds.
        const id = seed ? uuidFromSeed(seed) : randomUUID();
        if (body.parentId) await admitChild(deps, body.parentId, { actor, enforcePlanApproval: companyRules(company).enforcePlanApproval, childId: id }, deadlineOf(res));
        // An agent creating the same open subtask twice within 48 hours gets the first (Paperclip's guard; allowDuplicate skips it).
        if (actor.kind === 'agent' && allowDuplicate !== true) {
          const twin = await recentOpenTitle(deps, company.id, body.title, body.parentId ?? null);
          if (twin) return { status: 200, body: { ...presentIssue(twin, actor), deduplicated: true, deduplicationReason: 'recent_open_title' } };
        }
        const identifier = await identifierFor(pool, company.id, id);
        const blockedBy = [...new Set(blockedByIssueIds ?? [])].map((b) => ({ id: b, resolved: blockersDone.includes(b) }));
        const by = actorLabel(actor);
        const state = { ...initialIssue({ ...body, id, companyId: company.id, blockedBy, createdBy: { agentId: by.actorAgentId, user: by.actorUser } }, Date.now()), identifier };
        const created = await createIssueRecord(deps, state, actor, deadlineOf(res));
        return { status: 201, body: presentIssue(created, actor) };
      });
    });
  };

  router.post('/api/companies/:companyId/issues', (req, res) => create(req, res, req.params.companyId, req.body));

  /** Paperclip's route for a child issue: the body of a create, the parent implied. */
  router.post('/api/issues/:issueId/children', async (req, res) => {
    const parent = await scopedIssue(deps, req, res);
    if (req.body && typeof req.body === 'object' && 'parentId' in req.body) throw new DomainError('validation_error', 'The parent is the issue in the path: leave parentId out', { field: 'parentId' });
    await create(req, res, parent.company.id, req.body, parent.issue.id);
  });

  router.get('/api/companies/:companyId/issues', async (req, res) => {
    assertCompanyAccess(res, req.params.companyId);
    await reads.assertCompanyExists(req.params.companyId);
    const query = schema.parse(schema.listIssues, req.query);
    const caller = callerOf(res);
    let assigneeAgentId = query.assigneeAgentId;
    if (assigneeAgentId === 'me') {
      if (caller.kind !== 'agent') throw new DomainError('validation_error', 'assigneeAgentId=me needs an agent key');
      assigneeAgentId = caller.agent.id;
    }
    const issues = await reads.listIssues(req.params.companyId, {
      assigneeAgentId,
      statuses: schema.parseList(query.status, STATUSES, 'status'),
      parentId: query.parentId ?? query.parentIssueId,
      descendantOf: query.descendantOf,
      priorities: schema.parseList(query.priority, PRIORITIES, 'priority'),
      limit: query.limit ?? 200,
    });
    const actor = actorOf(req, res);
    res.json(issues.filter((i) => visibleToCaller(res, i.state.id)).map((i) => presentIssue(i.state, actor, i.workflowStatus)));
  });

  router.get('/api/issues/:issueId', async (req, res) => {
    const { issue, workflowStatus } = await scopedIssue(deps, req, res);
    const [where, links] = await Promise.all([hierarchyOf(deps, issue), blockerViews(deps, issue)]);
    res.json({ ...presentIssue(issue, actorOf(req, res), workflowStatus), ...where, ...links });
  });

  router.patch('/api/issues/:issueId', async (req, res) => {
    const parsed = schema.parse(schema.patchIssue, req.body);
    // Paperclip's fields without a meaning here (README); `resume` is what any comment by another does.
    const { reopen, resume: _resume, workMode: _w, requestDepth: _r, reviewRequest: _rr, interrupt: _i, hiddenAt: _h, projectId: _p, assigneeUserId: _u, unblockDescriptor: _d, billingCode: _b, executionPolicy: _e, acceptanceCriteria: _ac, blockParentUntilDone: _bp, parentId, ...patch } = parsed;
    if (Object.keys(parsed).length === 0) throw new DomainError('validation_error', 'Nothing to update: send at least one field');
    schema.assertCommentSize(patch.comment);
    const actor = actorOf(req, res);
    let blockersDone: string[] = [];
    await runIssueUpdate(deps, req, res, {
      operation: 'issue.update',
      action: () => (patch.status === 'done' ? 'close' : 'update'),
      def: patchUpdate,
      prepare: async (found) => {
        if (parentId !== undefined && parentId !== found.issue.parentId) {
          throw new DomainError('validation_error', 'Moving an issue to another parent is not supported: create the subtask under the new parent', { field: 'parentId' });
        }
        // `reopen` on a closed issue is a move back to todo.
        if (reopen && patch.status === undefined && (found.issue.status === 'done' || found.issue.status === 'cancelled')) patch.status = 'todo';
        await assertAssignable(deps, patch.assigneeAgentId, found.company.id);
        if (patch.goalId) await assertHierarchy(deps, found.company.id, null, patch.goalId);
        blockersDone = await checkBlockers(deps, found.company.id, found.issue.id, patch.blockedByIssueIds);
      },
      command: (found) => ({ actor, patch, requireDeliverable: companyRules(found.company).requireDeliverable, ...(patch.blockedByIssueIds ? { blockersDone } : {}) }),
      // Blocker changes are checked and made one at a time per company (no ring closed by two at once);
      // a new goal is claimed while the change is made, so a racing delete of it sees the issue.
      around: async (found, change) => {
        const withGoal = () => (patch.goalId ? withGoalHeld(deps, found.company.id, patch.goalId, found.issue.id, change) : change());
        await (patch.blockedByIssueIds?.length ? withBlockerLock(deps, found.company.id, deadlineOf(res), withGoal) : withGoal());
      },
      commentBody: patch.comment,
      respond: ({ issue, comment }, found) => {
        // A close-out through PATCH answers with the same review POST /close gives.
        const report = patch.status === 'done' ? reviewClosingComment(patch.comment ?? '') : undefined;
        return {
          status: 200,
          body: {
            ...presentIssue(issue, actor),
            changes: changedFields(found.issue, issue),
            comment: comment ? presentComment(comment, issue) : null,
            ...(report ? { deliverables: report.signals, warnings: report.warnings } : {}),
          },
        };
      },
    });
  });

  return router;
}
