/**
 * Routing (operator): the company's ordered rule list, and routing one task now. Rules are data; the
 * decision is domain/routing.ts, made inside each task's workflow. Saving rules asks every unroutable
 * task of the company to try again.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { Router } from 'express';
import { DomainError } from '../../domain/errors.js';
import { compilePattern, rulesProblem } from '../../domain/routing.js';
import { rerouteSignal, routeUpdate, workflowIdFor } from '../../workflows/messages.js';
import { actorOf, assertCompanyAccess, requireOperator } from '../auth.js';
import { deadlineOf } from '../deadline.js';
import type { ApiDeps } from '../deps.js';
import { runIdempotent } from '../idempotency.js';
import { presentIssue } from '../present.js';
import { parse } from '../schemas.js';
import * as schema from '../schemas-delivery.js';
import { runIssueUpdate } from './issue-update.js';

export function routingRouter(deps: ApiDeps): Router {
  const { pool, reads } = deps;
  const router = Router();

  router.get('/api/companies/:companyId/routing', async (req, res) => {
    assertCompanyAccess(res, req.params.companyId);
    const company = await reads.company(req.params.companyId);
    const { rows } = await pool.query('SELECT rules, version, updated_at AS "updatedAt" FROM routing_rules WHERE company_id = $1', [company.id]);
    res.json(rows[0] ?? { rules: [], version: 0, updatedAt: null });
  });

  router.put('/api/companies/:companyId/routing', async (req, res) => {
    requireOperator(res);
    const company = await reads.company(req.params.companyId);
    const body = parse(schema.putRouting, req.body);
    const ids = new Set<string>();
    for (const [i, rule] of body.rules.entries()) {
      if (ids.has(rule.id)) throw new DomainError('invalid_routing_rule', `Rule id "${rule.id}" is used twice`, { index: i, id: rule.id });
      ids.add(rule.id);
      const pattern = rule.match.titlePattern ? compilePattern(rule.match.titlePattern) : undefined;
      if (pattern && !pattern.ok) {
        throw new DomainError('invalid_routing_rule', `Rule "${rule.id}": titlePattern ${pattern.problem}`, { index: i, field: 'match.titlePattern' });
      }
      const agents = 'agentId' in rule.target ? [rule.target.agentId] : rule.target.agentIds;
      for (const agentId of agents) {
        if (!(await reads.agentInCompany(agentId, company.id))) {
          throw new DomainError('invalid_routing_rule', `Rule "${rule.id}" targets ${agentId}, which is not an agent of this company`, { index: i, agentId });
        }
      }
    }
    const tooLarge = rulesProblem(body.rules);
    if (tooLarge) throw new DomainError('invalid_routing_rule', tooLarge, { field: 'rules' });
    await runIdempotent(pool, req, res, { companyId: company.id, operation: 'routing.put' }, async () => {
      const { rows } = await pool.query(
        `INSERT INTO routing_rules (company_id, rules) VALUES ($1, $2)
         ON CONFLICT (company_id) DO UPDATE SET rules = EXCLUDED.rules, version = routing_rules.version + 1, updated_at = now()
         RETURNING rules, version, updated_at AS "updatedAt"`,
        [company.id, JSON.stringify(body.rules)],
      );
      const rerouted = await rerouteUnroutable(deps, company.id, deadlineOf(res), rows[0].version);
      return { status: 200, body: { ...rows[0], rerouted } };
    });
  });

  router.post('/api/issues/:issueId/route', async (req, res) => {
    requireOperator(res);
    parse(schema.startTask, req.body);
    const actor = actorOf(req, res);
    await runIssueUpdate(deps, req, res, {
      operation: 'issue.route',
      action: null /* operator only (requireOperator above) */,
      def: routeUpdate,
      command: () => ({ actor }),
      respond: ({ issue }) => ({ status: 200, body: presentIssue(issue, actor) }),
    });
  });

  return router;
}

/** Signals every unroutable task of the company to route again; answers how many were asked. */
/**
 * Asks every unroutable task of the company to route again. A task whose workflow has ended is
 * skipped; one Temporal could not be asked (it is down or slow) makes the answer a 503 that says the
 * rules are saved and which tasks were not told, so the caller sends the same PUT again.
 */
async function rerouteUnroutable(deps: ApiDeps, companyId: string, deadline: number, version: number): Promise<number> {
  const { rows } = await deps.pool.query<{ id: string }>(
    `SELECT id FROM issues WHERE company_id = $1 AND (lifecycle->'routing'->>'state') = 'unroutable' AND workflow_status = 'running' AND status NOT IN ('done', 'cancelled')`,
    [companyId],
  );
  const told = await Promise.allSettled(
    rows.map((r) => deps.tasks.withTemporal(deadline, () => deps.tasks.client.workflow.getHandle(workflowIdFor(r.id)).signal(rerouteSignal))),
  );
  const untold = rows.filter((_, i) => told[i]!.status === 'rejected' && !((told[i] as PromiseRejectedResult).reason instanceof WorkflowNotFoundError));
  if (untold.length) {
    throw new DomainError('temporal_unavailable', `The rules are saved (version ${version}), but ${untold.length} unroutable task(s) could not be asked to route again: send the same PUT again`, {
      rulesSaved: true, version, notRerouted: untold.slice(0, 100).map((r) => r.id),
    });
  }
  return rows.length;
}
