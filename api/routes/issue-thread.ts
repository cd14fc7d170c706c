/**
 * The issue's thread: comments and the activity log, both with run ids. Comments come newest first
 * unless `order=asc`, as Paperclip's server answers (its CLI relies on that default).
 */
import { Router } from 'express';
import { mentionedAgentIds } from '../../domain/comments.js';
import { DomainError } from '../../domain/errors.js';
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
    const { afterCommentId, ...query } = schema.parse(schema.listComments, req.query);
    const { issue } = await scopedIssue(deps, req, res);
    res.json(await reads.comments(issue.id, { ...query, after: query.after ?? afterCommentId }));
  });

  router.get('/api/issues/:issueId/comments/:commentId', async (req, res) => {
    const { issue } = await scopedIssue(deps, req, res);
    const comment = await reads.comment(issue.id, String(req.params.commentId));
    if (!comment) throw new DomainError('not_found', 'Comment not found', { commentId: req.params.commentId });
    res.json(comment);
  });

  router.post('/api/issues/:issueId/comments', async (req, res) => {
    const body = schema.parse(schema.commentBody, req.body);
    schema.assertCommentSize(body.body, 'body');
    const actor = actorOf(req, res);
    let mentions: string[] = [];
    await runIssueUpdate(deps, req, res, {
      operation: 'issue.comment',
      action: 'comment',
      def: commentUpdate,
      prepare: async (found) => {
        mentions = await resolveMentions(deps, found.company.id, body.body);
      },
      command: () => ({ actor, body: body.body, ...(mentions.length ? { mentions } : {}), ...(body.reopen ? { reopen: true } : {}), ...(body.resume ? { resume: true } : {}) }),
      commentBody: body.body,
      respond: ({ comment, issue }) => ({ status: 201, body: comment && presentComment(comment, issue) }),
    });
  });

  router.get('/api/issues/:issueId/activity', async (req, res) => {
    const { issue } = await scopedIssue(deps, req, res);
    res.json(await reads.activity(issue.id));
  });

  return router;
}

/** The agents of the company a comment mentions: `[@Name](agent://<id>)` links, and `@name` by name (case-insensitive). */
async function resolveMentions(deps: ApiDeps, companyId: string, body: string): Promise<string[]> {
  if (!body.includes('@')) return [];
  const { rows } = await deps.pool.query<{ id: string; name: string }>('SELECT id, name FROM agents WHERE company_id = $1', [companyId]);
  const ids = new Set(rows.map((r) => r.id.toLowerCase()));
  const found = mentionedAgentIds(body).filter((id) => ids.has(id));
  const lower = body.toLowerCase();
  for (const agent of rows) {
    const at = `@${agent.name.toLowerCase()}`;
    const i = lower.indexOf(at);
    // `@name` followed by the end, a space or punctuation: not the start of a longer name.
    if (i >= 0 && !/[\w-]/.test(lower[i + at.length] ?? '')) found.push(agent.id.toLowerCase());
  }
  return [...new Set(found)];
}
