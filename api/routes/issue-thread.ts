/** The issue's thread: comments (oldest first) and the activity log, both with run ids. */
import { Router } from 'express';
import { commentUpdate } from '../../workflows/messages.js';
import { actorOf } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { presentComment } from '../present.js';
import * as schema from '../schemas.js';
import { runIssueUpdate } from './issue-update.js';
import { scopedIssue } from './scope.js';

export function issueThreadRouter(deps: ApiDeps): Router {
  const { reads } = deps;
  const router = Router();

  router.get('/api/issues/:issueId/comments', async (req, res) => {
    const { issue } = await scopedIssue(deps, req, res);
    res.json(await reads.comments(issue.id));
  });

  router.post('/api/issues/:issueId/comments', async (req, res) => {
    const body = schema.parse(schema.commentBody, req.body);
    schema.assertCommentSize(body.body, 'body');
    const actor = actorOf(req, res);
    await runIssueUpdate(deps, req, res, {
      operation: 'issue.comment',
      def: commentUpdate,
      command: () => ({ actor, body: body.body }),
      commentBody: body.body,
      respond: ({ comment }) => ({ status: 201, body: comment && presentComment(comment) }),
    });
  });

  router.get('/api/issues/:issueId/activity', async (req, res) => {
    const { issue } = await scopedIssue(deps, req, res);
    res.json(await reads.activity(issue.id));
  });

  return router;
}
