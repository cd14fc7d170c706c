/**
 * Checks of what an issue waits on, and of whether it may be broken down yet (issue 8 §1, §4). The
 * workflows decide and tell each other; these refuse bad links before anything is sent.
 */
import { DomainError } from '../../domain/errors.js';
import type { IssueState } from '../../domain/task.js';
import type { ApiDeps } from '../deps.js';
import type { Company } from '../read-model.js';
import { companyRules } from './scope.js';

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
  if (issueId) {
    // Does any blocker already wait (through any chain) on this issue? Then this link closes a cycle.
    const cycle = await deps.pool.query(
      `WITH RECURSIVE chain(id, depth) AS (
         SELECT unnest($1::uuid[]), 0
         UNION SELECT b.blocker_issue_id, chain.depth + 1 FROM issue_blockers b JOIN chain ON b.issue_id = chain.id WHERE chain.depth < 100)
       SELECT 1 FROM chain WHERE id = $2 LIMIT 1`,
      [unique, issueId],
    );
    if (cycle.rowCount) throw new DomainError('invalid_blockers', 'These blockers would make issues wait on each other in a cycle', { issueId, blockedByIssueIds: unique });
  }
  return rows.filter((r) => r.status === 'done').map((r) => r.id);
}

/** While the parent's plan waits for its confirmation, it is not broken down (company setting, default on). */
export function assertPlanApproved(company: Company, parent: IssueState | undefined): void {
  if (!parent || !companyRules(company).enforcePlanApproval) return;
  const pending = (parent.collab?.interactions ?? []).find((i) => i.status === 'pending' && i.payload.target?.type === 'issue_document' && i.payload.target.key === 'plan');
  if (pending) {
    throw new DomainError('plan_not_approved', 'The parent issue\'s plan is waiting for its confirmation: create subtasks once it is accepted', { parentId: parent.id, interactionId: pending.id });
  }
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
  const i = (issue.collab?.interactions ?? []).filter((x) => x.payload.target?.type === 'issue_document' && x.payload.target.key === 'plan').at(-1);
  return i ? { interactionId: i.id, status: i.status, target: i.payload.target, result: i.result } : null;
}
