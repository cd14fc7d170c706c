/** The issue's thread: comments (oldest first) and the activity log, both with run ids. */
import { Router } from 'express';
import { commentUpdate } from '../../workflows/messages.js';
import { actorOf } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { runIdempotent } from '../idempotency.js';
import * as schema from '../schemas.js';
import { scopedIssue } from './scope.js';

export function issueThreadRouter(deps: ApiDeps): Router {
  const { pool, reads, tasks } = deps;
  const router = Router();

  router.get('/api/issues/:issueId/comments', async (req, res) => {
    const { issue } = await scopedIssue(deps, req, res);
    res.json(await reads.comments(issue.id));
  });

  router.post('/api/issues/:issueId/comments', async (req, res) => {
    const { issue, company } = await scopedIssue(deps, req, res);
    const body = schema.parse(schema.commentBody, req.body);
    schema.assertCommentSize(body.body, 'body');
    const actor = actorOf(req, res);
    await runIdempotent(pool, req, res, { companyId: company.id, operation: 'issue.comment' }, async ({ updateId }) => {
      const result = await tasks.update(issue.id, commentUpdate, { actor, body: body.body }, updateId);
      return { status: 201, body: result.comment };
    });
  });

  router.get('/api/issues/:issueId/activity', async (req, res) => {
    const { issue } = await scopedIssue(deps, req, res);
    res.json(await reads.activity(issue.id));
  });

  return router;
}
