/**
 * Routing decisions, one at a time per company (issue 13 §6). Counts read from the read model lag
 * the decisions just made, so a burst sent every task to one agent. Here the decision (the pure
 * rule, domain/routing.ts) is taken under a per-company lock and written to a ledger in the same
 * transaction: the next decision counts it before the task's read-model row catches up, and
 * round_robin advances a per-rule counter. A retried activity gets the decision already taken.
 */
import type pg from 'pg';
import type { Pool } from '../db/pool.js';
import { inTransaction } from '../db/transaction.js';
import { decideRoute, type RoutingDecision, type RoutingRule } from '../domain/routing.js';
import type { RouteTaskInput } from '../workflows/activity-types.js';

/** Ledger rows older than this are history (the read model has long caught up): pruned as decisions are made. */
const LEDGER_KEPT = '1 day';

export function createRouteTask(pool: Pool): (input: RouteTaskInput) => Promise<RoutingDecision> {
  return (input) =>
    inTransaction(pool, async (db) => {
      const { companyId, taskId, decisionId } = input;
      await db.query(`SELECT pg_advisory_xact_lock(hashtext('routing:' || $1))`, [companyId]);
      const prior = await db.query<{ decision: RoutingDecision }>('SELECT decision FROM routing_ledger WHERE task_id = $1 AND decision_id = $2', [taskId, decisionId]);
      if (prior.rows[0]) return prior.rows[0].decision;

      const rules = (await db.query<{ rules: RoutingRule[] }>('SELECT rules FROM routing_rules WHERE company_id = $1', [companyId])).rows[0]?.rules ?? [];
      // Open tasks per agent: the read model's, except tasks whose latest decision it has not taken yet (counted from the ledger).
      const open = await db.query<{ agent: string; n: string }>(
        `WITH pending AS (
           SELECT l.task_id, l.agent_id FROM routing_ledger l LEFT JOIN issues i ON i.id = l.task_id
            WHERE l.company_id = $1 AND l.task_id <> $2
              AND (i.id IS NULL OR i.lifecycle->'routing'->>'decisionId' IS DISTINCT FROM l.decision_id))
         SELECT agent::text, count(*) AS n FROM (
           SELECT assignee_agent_id AS agent FROM issues
            WHERE company_id = $1 AND assignee_agent_id IS NOT NULL AND status NOT IN ('done', 'cancelled')
              AND id NOT IN (SELECT task_id FROM pending)
           UNION ALL SELECT agent_id FROM pending WHERE agent_id IS NOT NULL) counted
         GROUP BY agent`,
        [companyId, taskId],
      );
      const counts = await assignedByRule(db, companyId, rules);
      const decision = decideRoute({
        task: input.task,
        rules,
        openTasks: Object.fromEntries(open.rows.map((r) => [r.agent, Number(r.n)])),
        assignedByRule: counts,
        decisionId,
        now: input.now,
      });

      if (decision.kind === 'routed' && decision.record.reason?.strategy === 'round_robin') {
        const ruleId = decision.record.reason!.matchedRules[0]!.id;
        await db.query(
          `INSERT INTO routing_counters (company_id, rule_id, assigned) VALUES ($1, $2, $3)
           ON CONFLICT (company_id, rule_id) DO UPDATE SET assigned = routing_counters.assigned + 1`,
          [companyId, ruleId, (counts[ruleId] ?? 0) + 1],
        );
      }
      await db.query(
        `INSERT INTO routing_ledger (task_id, company_id, decision_id, agent_id, decision) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (task_id) DO UPDATE SET decision_id = EXCLUDED.decision_id, agent_id = EXCLUDED.agent_id, decision = EXCLUDED.decision, decided_at = now()`,
        [taskId, companyId, decisionId, decision.kind === 'routed' ? decision.agentId : null, JSON.stringify(decision)],
      );
      await db.query(`DELETE FROM routing_ledger WHERE company_id = $1 AND decided_at < now() - $2::interval`, [companyId, LEDGER_KEPT]);
      return decision;
    });
}

/**
 * How many tasks each round_robin rule has assigned: its counter; a rule without one yet (routed
 * before the ledger existed) starts from the tasks the read model shows it routed.
 */
async function assignedByRule(db: pg.PoolClient, companyId: string, rules: RoutingRule[]): Promise<Record<string, number>> {
  const counters = await db.query<{ rule_id: string; assigned: string }>('SELECT rule_id, assigned FROM routing_counters WHERE company_id = $1', [companyId]);
  const counted: Record<string, number> = Object.fromEntries(counters.rows.map((r) => [r.rule_id, Number(r.assigned)]));
  const missing = rules.filter((r) => 'agentIds' in r.target && r.target.strategy === 'round_robin' && counted[r.id] === undefined).map((r) => r.id);
  if (!missing.length) return counted;
  const byRule = await db.query<{ rule: string; n: string }>(
    `SELECT lifecycle->'routing'->'reason'->'matchedRules'->0->>'id' AS rule, count(*) AS n FROM issues
      WHERE company_id = $1 AND lifecycle->'routing'->>'state' = 'routed' AND lifecycle->'routing'->'reason'->'matchedRules'->0->>'id' = ANY($2::text[]) GROUP BY 1`,
    [companyId, missing],
  );
  for (const r of byRule.rows) counted[r.rule] = Number(r.n);
  return counted;
}
