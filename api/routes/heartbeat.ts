/**
 * A Paperclip heartbeat in two reads (issue 8 §5): the agent's inbox, then one issue's context —
 * where it sits, its goal, where the comments stand and the comment that woke the agent.
 * An entry is `dependencyReady` when every issue it waits on is done.
 */
import { Router } from 'express';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.js';
import { callerOf } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { parse } from '../schemas.js';
import { hierarchyOf } from './hierarchy.js';
import { blockerViews, planReview } from './dependencies.js';
import { scopedIssue, visibleToCaller } from './scope.js';

export const heartbeatContextQuery = z.strictObject({ wakeCommentId: z.string().uuid().optional() });

export function heartbeatRouter(deps: ApiDeps): Router {
  const { pool, reads } = deps;
  const router = Router();

  router.get('/api/agents/me/inbox-lite', async (_req, res) => {
    const caller = callerOf(res);
    if (caller.kind !== 'agent') throw new DomainError('forbidden', 'The inbox is an agent\'s: use an agent key');
    const { rows } = await pool.query(
      `SELECT id, identifier, title, status, priority, NULL AS "projectId", goal_id AS "goalId", parent_id AS "parentId", updated_at AS "updatedAt",
              cardinality(open.ids) = 0 AS "dependencyReady", open.ids AS "unresolvedBlockerIssueIds"
       FROM issues
       CROSS JOIN LATERAL (SELECT ARRAY(SELECT (b->>'id')::uuid FROM jsonb_array_elements(coalesce(collab->'blockedBy', '[]'::jsonb)) b
                                        WHERE NOT (b->>'resolved')::boolean) AS ids) open WHERE assignee_agent_id = $1 AND status IN ('todo', 'in_progress', 'blocked') AND workflow_status = 'running'
       ORDER BY priority_rank, updated_at DESC`,
      [caller.agent.id],
    );
    res.json(rows.filter((r: { id: string }) => visibleToCaller(res, r.id)));
  });

  router.get('/api/issues/:issueId/heartbeat-context', async (req, res) => {
    const query = parse(heartbeatContextQuery, req.query);
    const { issue } = await scopedIssue(deps, req, res);
    const [where, links, cursor, wakeComment] = await Promise.all([
      hierarchyOf(deps, issue),
      blockerViews(deps, issue),
      pool.query<{ total: number; id: string | null; at: string | null }>(
        `SELECT count(*)::int AS total, (array_agg(id ORDER BY created_at DESC, seq DESC))[1] AS id, max(created_at) AS at FROM comments WHERE issue_id = $1`,
        [issue.id],
      ),
      query.wakeCommentId ? reads.comment(issue.id, query.wakeCommentId) : Promise.resolve(undefined),
    ]);
    const c = cursor.rows[0]!;
    res.json({
      issue: {
        id: issue.id, identifier: issue.identifier ?? null, title: issue.title, description: issue.description, status: issue.status, priority: issue.priority,
        assigneeAgentId: issue.assigneeAgentId, parentId: issue.parentId, goalId: issue.goalId, updatedAt: issue.updatedAt, ...links,
      },
      ancestors: where.ancestors,
      project: null,
      goal: where.goal,
      commentCursor: { totalComments: c.total, latestCommentId: c.id, latestCommentAt: c.at },
      wakeComment: wakeComment ?? null,
      attachments: [],
      planReviewContext: planReview(issue),
    });
  });

  return router;
}
