/**
 * Where an issue sits (issue 8 §1): its parent chain, its children by status, its goal. A parent must
 * be an issue of the same company (404 otherwise, like another company's anything), at most
 * MAX_DEPTH levels deep (422); a goal must be a goal of the same company (404).
 */
import { DomainError } from '../../domain/errors.js';
import type { IssueState } from '../../domain/task.js';
import type { ApiDeps } from '../deps.js';
import { isUuid } from '../read-model.js';

export const MAX_DEPTH = 20;

export async function assertHierarchy(deps: ApiDeps, companyId: string, parentId: string | null | undefined, goalId: string | null | undefined): Promise<void> {
  if (parentId) {
    const { rows } = await deps.pool.query<{ depth: number; company_id: string }>(
      `WITH RECURSIVE up(id, parent_id, company_id, depth) AS (
         SELECT id, parent_id, company_id, 1 FROM issues WHERE id = $1
         UNION ALL SELECT i.id, i.parent_id, i.company_id, up.depth + 1 FROM issues i JOIN up ON i.id = up.parent_id WHERE up.depth <= $2)
       SELECT max(depth)::int AS depth, (array_agg(company_id ORDER BY depth))[1]::text AS company_id FROM up`,
      [parentId, MAX_DEPTH + 1],
    );
    const row = rows[0];
    if (!row?.company_id || row.company_id !== companyId) throw new DomainError('not_found', 'The parent issue does not exist in this company', { parentId });
    if (row.depth >= MAX_DEPTH) throw new DomainError('invalid_transition', `Issues nest at most ${MAX_DEPTH} levels deep`, { parentId, maxDepth: MAX_DEPTH });
  }
  if (goalId) {
    const { rowCount } = isUuid(goalId) ? await deps.pool.query('SELECT 1 FROM goals WHERE id = $1 AND company_id = $2', [goalId, companyId]) : { rowCount: 0 };
    if (!rowCount) throw new DomainError('not_found', 'The goal does not exist in this company', { goalId });
  }
}

/** ancestors (parent first), children counted by status, and the goal. */
export async function hierarchyOf(deps: ApiDeps, issue: IssueState) {
  const [ancestors, children, goal] = await Promise.all([
    deps.pool.query(
      `WITH RECURSIVE up(id, parent_id, depth) AS (
         SELECT id, parent_id, 0 FROM issues WHERE id = $1
         UNION ALL SELECT i.id, i.parent_id, up.depth + 1 FROM issues i JOIN up ON i.id = up.parent_id WHERE up.depth < $2)
       SELECT i.id, i.identifier, i.title, i.status, i.priority FROM up JOIN issues i ON i.id = up.id WHERE up.depth > 0 ORDER BY up.depth`,
      [issue.id, MAX_DEPTH + 1],
    ),
    deps.pool.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM issues WHERE parent_id = $1 GROUP BY status', [issue.id]),
    issue.goalId
      ? deps.pool.query(`SELECT id, title, level, status FROM goals WHERE id::text = $1 AND company_id = $2`, [issue.goalId, issue.companyId])
      : Promise.resolve({ rows: [] }),
  ]);
  const byStatus = Object.fromEntries(children.rows.map((r) => [r.status, r.n]));
  return {
    ancestors: ancestors.rows,
    children: { total: children.rows.reduce((n, r) => n + r.n, 0), byStatus },
    goal: goal.rows[0] ?? null,
  };
}
