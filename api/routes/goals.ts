/**
 * Goals (issue 8 §1): company data, not task state — what tasks serve, in levels (company, team, agent,
 * task). Any key of the company reads them; the operator and the company's agents write them. An issue's
 * `goalId` must name a goal of its company.
 */
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { inTransaction } from '../../db/transaction.js';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.js';
import { assertCompanyAccess } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { runIdempotent } from '../idempotency.js';
import { isUuid } from '../read-model.js';
import { parse } from '../schemas.js';
import { uuidFromSeed } from '../../runtime/ids.js';

const LEVELS = ['company', 'team', 'agent', 'task'] as const;
const GOAL_STATUSES = ['planned', 'active', 'achieved', 'cancelled'] as const;
const title = z.string().min(1).max(500).refine((s) => s.trim() !== '', 'must not be empty or only whitespace');

export const createGoal = z.strictObject({
  title,
  description: z.string().max(64 * 1024).nullable().optional(),
  level: z.enum(LEVELS).default('task'),
  status: z.enum(GOAL_STATUSES).optional(),
  parentId: z.string().uuid().nullable().optional(),
  ownerAgentId: z.string().uuid().nullable().optional(),
});
export const patchGoal = createGoal.extend({ level: z.enum(LEVELS).optional() }).partial();

const COLUMNS = `id, company_id AS "companyId", title, description, level, status, parent_id AS "parentId", owner_agent_id AS "ownerAgentId", created_at AS "createdAt", updated_at AS "updatedAt"`;

export function goalsRouter(deps: ApiDeps): Router {
  const { pool, reads } = deps;
  const router = Router();

  /** The goal, for a caller of its company (another company's is 404, like a missing one). */
  const scoped = async (res: import('express').Response, goalId: string) => {
    if (!isUuid(goalId)) throw new DomainError('not_found', 'Goal not found', { goalId });
    const { rows } = await pool.query(`SELECT ${COLUMNS} FROM goals WHERE id = $1`, [goalId]);
    if (!rows[0]) throw new DomainError('not_found', 'Goal not found', { goalId });
    assertCompanyAccess(res, rows[0].companyId, 'Goal');
    return rows[0] as { id: string; companyId: string; parentId: string | null };
  };

  const checkLinks = async (companyId: string, body: { parentId?: string | null; ownerAgentId?: string | null }, self?: string, db: Db = pool) => {
    if (body.parentId) {
      const { rows } = await db.query<{ company_id: string }>('SELECT company_id FROM goals WHERE id = $1', [body.parentId]);
      if (!rows[0] || rows[0].company_id !== companyId) throw new DomainError('not_found', 'The parent goal does not exist in this company', { parentId: body.parentId });
      if (self && (await isAncestorOrSelf(db, self, body.parentId))) throw new DomainError('invalid_transition', 'A goal cannot sit under itself or one of its own sub-goals', { parentId: body.parentId });
    }
    if (body.ownerAgentId && !(await reads.agentInCompany(body.ownerAgentId, companyId))) {
      throw new DomainError('invalid_assignee', 'The owner is not an agent of this company', { ownerAgentId: body.ownerAgentId });
    }
  };

  router.post('/api/companies/:companyId/goals', async (req, res) => {
    assertCompanyAccess(res, req.params.companyId);
    const company = await reads.company(req.params.companyId);
    const body = parse(createGoal, req.body);
    await runIdempotent(pool, req, res, { companyId: company.id, operation: 'goal.create' }, async ({ seed }) => {
      const id = seed ? uuidFromSeed(seed) : randomUUID();
      // Checked and inserted under the company's goal lock (a racing delete of the parent waits), and
      // inside the idempotency record (a retry gets the stored answer, whatever became of the parent).
      await inCompanyGoalLock(pool, company.id, async (db) => {
        await checkLinks(company.id, body, undefined, db);
        await db.query(
          `INSERT INTO goals (id, company_id, title, description, level, status, parent_id, owner_agent_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (id) DO NOTHING`,
          [id, company.id, body.title, body.description ?? null, body.level, body.status ?? 'planned', body.parentId ?? null, body.ownerAgentId ?? null],
        );
      });
      return { status: 201, body: (await pool.query(`SELECT ${COLUMNS} FROM goals WHERE id = $1`, [id])).rows[0] };
    });
  });

  router.get('/api/companies/:companyId/goals', async (req, res) => {
    assertCompanyAccess(res, req.params.companyId);
    const company = await reads.company(req.params.companyId);
    res.json((await pool.query(`SELECT ${COLUMNS} FROM goals WHERE company_id = $1 ORDER BY created_at, id`, [company.id])).rows);
  });

  router.get('/api/goals/:goalId', async (req, res) => {
    res.json(await scoped(res, String(req.params.goalId)));
  });

  router.patch('/api/goals/:goalId', async (req, res) => {
    const goal = await scoped(res, String(req.params.goalId));
    const body = parse(patchGoal, req.body);
    if (Object.keys(body).length === 0) throw new DomainError('validation_error', 'Nothing to change: send at least one field');
    const fields: Array<[string, unknown]> = [
      ['title', body.title], ['description', body.description], ['level', body.level], ['status', body.status], ['parent_id', body.parentId], ['owner_agent_id', body.ownerAgentId],
    ];
    const set = fields.filter(([, v]) => v !== undefined);
    await runIdempotent(pool, req, res, { companyId: goal.companyId, operation: 'goal.update' }, async () => {
      // Check and write under the company's goal lock: two moves at once cannot make a cycle together.
      await inCompanyGoalLock(pool, goal.companyId, async (db) => {
        await checkLinks(goal.companyId, body, goal.id, db);
        await db.query(`UPDATE goals SET ${set.map(([c], i) => `${c} = $${i + 2}`).join(', ')}, updated_at = now() WHERE id = $1`, [goal.id, ...set.map(([, v]) => v)]);
      });
      return { status: 200, body: (await pool.query(`SELECT ${COLUMNS} FROM goals WHERE id = $1`, [goal.id])).rows[0] };
    });
  });

  /** Only a goal nothing points at: its issues and sub-goals would otherwise lose what they serve. */
  router.delete('/api/goals/:goalId', async (req, res) => {
    const goal = await scoped(res, String(req.params.goalId));
    await runIdempotent(pool, req, res, { companyId: goal.companyId, operation: 'goal.delete' }, async () => {
      await inCompanyGoalLock(pool, goal.companyId, async (db) => {
        // The row lock waits for an issue being created with this goal (it holds the row FOR SHARE), so the count sees it.
        if (!(await db.query('SELECT 1 FROM goals WHERE id = $1 FOR UPDATE', [goal.id])).rowCount) throw new DomainError('not_found', 'Goal not found', { goalId: goal.id });
        const { rows } = await db.query<{ issues: number; goals: number }>(
          `SELECT (SELECT count(*)::int FROM issues WHERE goal_id = $1) + (SELECT count(*)::int FROM goal_claims WHERE goal_id::text = $1 AND expires_at > now()) AS issues,
                  (SELECT count(*)::int FROM goals WHERE parent_id = $2) AS goals`,
          [goal.id, goal.id],
        );
        if (rows[0]!.issues || rows[0]!.goals) {
          throw new DomainError('status_conflict', 'Issues or sub-goals still point at this goal: move them first, or set its status to cancelled', rows[0]);
        }
        await db.query('DELETE FROM goals WHERE id = $1', [goal.id]);
      });
      return { status: 200, body: { ...goal, deleted: true } };
    });
  });

  return router;
}

type Db = Pick<ApiDeps['pool'], 'query'>;

/** One transaction holding the company's goal lock (a transaction-scoped advisory lock). */
async function inCompanyGoalLock(pool: ApiDeps['pool'], companyId: string, fn: (db: Db) => Promise<void>): Promise<void> {
  await inTransaction(pool, async (db) => {
    await db.query(`SELECT pg_advisory_xact_lock(hashtext('goals:' || $1))`, [companyId]);
    await fn(db);
  });
}

async function isAncestorOrSelf(db: Db, goalId: string, candidateParent: string): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>(
    `WITH RECURSIVE up(id, parent_id, depth) AS (
       SELECT id, parent_id, 0 FROM goals WHERE id = $2
       UNION ALL SELECT g.id, g.parent_id, up.depth + 1 FROM goals g JOIN up ON g.id = up.parent_id WHERE up.depth < 100)
     SELECT EXISTS (SELECT 1 FROM up WHERE id = $1) AS found`,
    [goalId, candidateParent],
  );
  return rows[0]!.found;
}
