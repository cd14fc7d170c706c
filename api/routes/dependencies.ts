/**
 * Checks of what an issue waits on, and of whether it may be broken down yet (issue 8 §1, §4). The
 * workflows decide and tell each other; these refuse bad links before anything is sent.
 */
import { DomainError } from '../../domain/errors.js';
import { isPlanTarget, isTerminal, MAX_DEPENDENTS, type CollabMessage } from '../../domain/collab.js';
import type { AdmitChildCmd } from '../../domain/delegation.js';
import type { Status } from '../../domain/statuses.js';
import { logger } from '../../runtime/logger.js';
import { admitChildUpdate, collabSignal, workflowIdFor } from '../../workflows/messages.js';
import type { IssueState } from '../../domain/task.js';
import type { ApiDeps } from '../deps.js';

/**
 * Blockers must be issues of the same company (404 otherwise), never the issue itself and never
 * waiting on it, however indirectly (422 invalid_blockers). Answers those already done.
 */
export async function checkBlockers(deps: ApiDeps, companyId: string, issueId: string | null, ids: string[] | undefined): Promise<string[]> {
  if (!ids?.length) return [];
  const unique = [...new Set(ids)];
  if (issueId && unique.includes(issueId)) throw new DomainError('invalid_blockers', 'An issue cannot wait on itself', { issueId });
  const { rows } = await deps.pool.query<{ id: string; status: string }>('SELECT id, status FROM issues WHERE id = ANY($1::uuid[]) AND company_id = $2', [unique, companyId]);
  const missing = unique.filter((id) => !rows.some((r) => r.id === id));
  if (missing.length) throw new DomainError('not_found', 'A blocker issue does not exist in this company', { blockedByIssueIds: missing });
  // Blast radius: one issue waits on at most MAX_BLOCKERS (the workflow's rule); one is waited on by at most MAX_DEPENDENTS.
  const crowded = await deps.pool.query<{ id: string }>(
    `SELECT blocker_issue_id AS id FROM issue_blockers WHERE blocker_issue_id = ANY($1::uuid[]) AND issue_id IS DISTINCT FROM $2::uuid
      GROUP BY blocker_issue_id HAVING count(*) >= $3`,
    [unique, issueId, MAX_DEPENDENTS],
  );
  if (crowded.rowCount) {
    throw new DomainError('limit_exceeded', `An issue is waited on by at most ${MAX_DEPENDENTS} others`, { blockedByIssueIds: crowded.rows.map((r) => r.id), limit: MAX_DEPENDENTS });
  }
  if (issueId) {
    // Does any blocker already wait (through any chain) on this issue? Then this link closes a cycle.
    const cycle = await deps.pool.query(
      // UNION keeps each issue once: the walk ends however long the chain (or an old ring) is.
      `WITH RECURSIVE chain(id) AS (
         SELECT unnest($1::uuid[])
         UNION SELECT b.blocker_issue_id FROM issue_blockers b JOIN chain ON b.issue_id = chain.id)
       SELECT 1 FROM chain WHERE id = $2 LIMIT 1`,
      [unique, issueId],
    );
    if (cycle.rowCount) throw new DomainError('invalid_blockers', 'These blockers would make issues wait on each other in a cycle', { issueId, blockedByIssueIds: unique });
  }
  return rows.filter((r) => r.status === 'done').map((r) => r.id);
}

/**
 * Asks the parent's workflow to admit one more child (domain/delegation.ts): it refuses from the
 * state it holds, so a plan revision it committed a moment ago is never missed.
 */
export async function admitChild(deps: ApiDeps, parentId: string, cmd: AdmitChildCmd, deadline: number): Promise<void> {
  await deps.tasks.update(parentId, admitChildUpdate, cmd, { deadline });
}

/** Paperclip's duplicate guard: an open issue of the same title and parent created in the last 48 hours. */
export async function recentOpenTitle(deps: ApiDeps, companyId: string, title: string, parentId: string | null): Promise<IssueState | undefined> {
  const { rows } = await deps.pool.query<{ id: string }>(
    `SELECT id FROM issues WHERE company_id = $1 AND title = $2 AND parent_id IS NOT DISTINCT FROM $3::uuid
       AND status NOT IN ('done', 'cancelled') AND created_at > now() - interval '48 hours' ORDER BY created_at LIMIT 1`,
    [companyId, title, parentId],
  );
  return rows[0] ? (await deps.reads.issueWithCompany(rows[0].id, companyId)).issue : undefined;
}

/** The issues it waits on and those waiting on it, as Paperclip shows them. */
export async function blockerViews(deps: ApiDeps, issue: IssueState) {
  const { rows } = await deps.pool.query<{ rel: 'blockedBy' | 'blocks'; id: string; identifier: string | null; title: string; status: string; priority: string; assigneeAgentId: string | null }>(
    `SELECT 'blockedBy' AS rel, i.id, i.identifier, i.title, i.status, i.priority, i.assignee_agent_id AS "assigneeAgentId"
       FROM issue_blockers b JOIN issues i ON i.id = b.blocker_issue_id WHERE b.issue_id = $1
     UNION ALL
     SELECT 'blocks', i.id, i.identifier, i.title, i.status, i.priority, i.assignee_agent_id
       FROM issue_blockers b JOIN issues i ON i.id = b.issue_id WHERE b.blocker_issue_id = $1`,
    [issue.id],
  );
  const view = (rel: string) => rows.filter((r) => r.rel === rel).map(({ rel: _rel, ...r }) => ({ ...r, assigneeUserId: null }));
  return { blockedBy: view('blockedBy'), blocks: view('blocks') };
}

/** The pending confirmation of the issue's plan, if any (Paperclip's planReviewContext). */
export function planReview(issue: IssueState) {
  const i = (issue.collab?.interactions ?? []).filter(isPlanTarget).at(-1);
  return i ? { interactionId: i.id, status: i.status, target: i.payload.target, result: i.result } : null;
}

/**
 * Blocker changes of one company, one at a time: the cycle check reads the read model, so two
 * PATCHes closing a ring together must not both pass it. The holder keeps one connection; waiters
 * hold none (they try again), so a burst cannot exhaust the pool. Given up at the deadline (503).
 */
export async function withBlockerLock<T>(deps: ApiDeps, companyId: string, deadline: number, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    const client = await deps.pool.connect();
    let locked = false;
    try {
      locked = (await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtext('blockers:' || $1)) AS ok`, [companyId])).rows[0]!.ok;
      if (locked) return await fn();
    } finally {
      // A connection that cannot unlock is dropped (its session, and the lock with it, end), never reused.
      const unlocked = !locked || (await client.query(`SELECT pg_advisory_unlock(hashtext('blockers:' || $1))`, [companyId]).then(() => true, () => false));
      client.release(unlocked ? undefined : new Error('could not release the blocker lock'));
    }
    if (Date.now() + 50 >= deadline) throw new DomainError('deadline_exceeded', 'Other changes to this company\'s blockers are under way; try again', { companyId });
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
  }
}

/**
 * After a restore: messages sent to this task while its workflow was closed were lost. Its children
 * and dependents (from the read model) tell it again, and it asks its own blockers again (each answers
 * with its status). Every message is idempotent; one that cannot be sent is logged, not fatal.
 */
export async function resyncLinks(deps: ApiDeps, issue: IssueState, deadline: number): Promise<void> {
  const { rows } = await deps.pool.query<{ kind: 'child' | 'dependent' | 'blocker'; id: string; status: string }>(
    `SELECT 'child' AS kind, id, status FROM issues WHERE parent_id = $1
     UNION ALL SELECT 'dependent', issue_id, '' FROM issue_blockers WHERE blocker_issue_id = $1
     UNION ALL SELECT 'blocker', blocker_issue_id, '' FROM issue_blockers WHERE issue_id = $1`,
    [issue.id],
  );
  const send = (target: string, message: CollabMessage) =>
    deps.tasks.withTemporal(deadline, () => deps.tasks.client.workflow.getHandle(workflowIdFor(target)).signal(collabSignal, message))
      .catch((err) => logger.warn({ err, issueId: target }, 'restore: a linked task could not be told'));
  await Promise.all(rows.map((r) =>
    r.kind === 'child' ? send(issue.id, { type: 'child', childId: r.id, terminal: isTerminal(r.status as Status) })
      : r.kind === 'dependent' ? send(issue.id, { type: 'dependent', dependentId: r.id, add: true })
        : send(r.id, { type: 'dependent', dependentId: issue.id, add: true })));
}

/**
 * Runs a change that points an issue at a goal under a claim on the goal (taken while the goal's row
 * is locked, so it exists): a delete of the goal sees the claim and refuses (409) rather than leaving
 * the issue pointing at nothing. No connection is held while the change runs; a claim outlives a
 * crashed request by two minutes at most.
 */
export async function withGoalHeld<T>(deps: ApiDeps, companyId: string, goalId: string, issueId: string, fn: () => Promise<T>): Promise<T> {
  const claimed = await deps.pool.query(
    `INSERT INTO goal_claims (goal_id, issue_id, expires_at)
     SELECT id, $3, now() + interval '2 minutes' FROM goals WHERE id::text = $1 AND company_id = $2 FOR SHARE
     ON CONFLICT (goal_id, issue_id) DO UPDATE SET expires_at = excluded.expires_at RETURNING 1`,
    [goalId, companyId, issueId],
  );
  if (!claimed.rowCount) throw new DomainError('not_found', 'The goal does not exist in this company', { goalId });
  try {
    return await fn();
  } finally {
    await deps.pool.query('DELETE FROM goal_claims WHERE goal_id::text = $1 AND issue_id = $2', [goalId, issueId]).catch(() => {});
  }
}
