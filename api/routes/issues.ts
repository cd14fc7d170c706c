/** Issues: create (starts the task's workflow), list and read (Postgres), update (a workflow Update). */
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { DomainError } from '../../domain/errors.js';
import { PRIORITIES, STATUSES } from '../../domain/statuses.js';
import type { IssueState } from '../../domain/task.js';
import { patchUpdate } from '../../workflows/messages.js';
import { actorOf, assertCompanyAccess, callerOf } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { runIdempotent } from '../idempotency.js';
import { uuidFromSeed } from '../ids.js';
import { presentIssue } from '../present.js';
import * as schema from '../schemas.js';
import { createIssueRecord } from './create-issue.js';
import { assertAssignable, companyRules, scopedIssue } from './scope.js';

export function issuesRouter(deps: ApiDeps): Router {
  const { pool, reads, tasks } = deps;
  const router = Router();

  router.post('/api/companies/:companyId/issues', async (req, res) => {
    assertCompanyAccess(res, req.params.companyId);
    const company = await reads.company(req.params.companyId);
    const body = schema.parse(schema.createIssue, req.body);
    await assertAssignable(deps, body.assigneeAgentId, company.id);
    if (body.parentId && !(await reads.issueInCompany(body.parentId, company.id))) {
      throw new DomainError('validation_error', 'The parent issue does not exist in this company', { parentId: body.parentId });
    }
    const actor = actorOf(req, res);
    await runIdempotent(pool, req, res, { companyId: company.id, operation: 'issue.create' }, async ({ seed }) => {
      const now = new Date().toISOString();
      const state: IssueState = {
        id: seed ? uuidFromSeed(seed) : randomUUID(),
        companyId: company.id,
        title: body.title,
        description: body.description ?? null,
        status: body.status ?? (body.assigneeAgentId ? 'todo' : 'backlog'),
        priority: body.priority ?? 'medium',
        assigneeAgentId: body.assigneeAgentId ?? null,
        parentId: body.parentId ?? null,
        goalId: body.goalId ?? null,
        checkout: null,
        version: 1,
        expiryStreak: 0,
        createdAt: now,
        updatedAt: now,
        startedAt: null,
        completedAt: null,
      };
      const created = await createIssueRecord(deps, state, actor);
      return { status: 201, body: presentIssue(created, actor) };
    });
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
      parentId: query.parentId,
      priorities: schema.parseList(query.priority, PRIORITIES, 'priority'),
      limit: query.limit ?? 200,
    });
    const actor = actorOf(req, res);
    res.json(issues.map((i) => presentIssue(i, actor)));
  });

  router.get('/api/issues/:issueId', async (req, res) => {
    const { issue } = await scopedIssue(deps, req, res);
    res.json(presentIssue(issue, actorOf(req, res)));
  });

  router.patch('/api/issues/:issueId', async (req, res) => {
    const { issue, company } = await scopedIssue(deps, req, res);
    const patch = schema.parse(schema.patchIssue, req.body);
    if (Object.keys(patch).length === 0) throw new DomainError('validation_error', 'Nothing to update: send at least one field');
    schema.assertCommentSize(patch.comment);
    await assertAssignable(deps, patch.assigneeAgentId, company.id);
    const actor = actorOf(req, res);
    const { requireDeliverable } = companyRules(company);
    await runIdempotent(pool, req, res, { companyId: company.id, operation: 'issue.update' }, async ({ updateId }) => {
      const result = await tasks.update(issue.id, patchUpdate, { actor, patch, requireDeliverable }, updateId);
      return {
        status: 200,
        body: {
          ...presentIssue(result.issue, actor),
          ...(result.comment ? { comment: result.comment } : {}),
          ...(result.closeout ? { deliverables: result.closeout.signals, warnings: result.closeout.warnings } : {}),
        },
      };
    });
  });

  return router;
}
