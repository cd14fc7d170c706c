/** The task workflow's delivery activities: routing input from Postgres, provider calls through the ports. */
import { Context } from '@temporalio/activity';
import type { Pool } from '../db/pool.js';
import type { RoutingRule } from '../domain/routing.js';
import type { SecretBox } from '../runtime/secrets.js';
import type { DeliveryActivities } from '../workflows/activity-types.js';
import { atBoundary } from './boundary.js';
import { loadAdapter } from './providers/registry.js';
import { claimPullRequest } from './pull-claims.js';
import { createRouteTask } from './routing.js';
import { createWakeActivity } from './wakes.js';
import type { Config } from '../runtime/config.js';

/**
 * Provider calls heartbeat while they run (they may queue behind GitHub's write spacing for a while),
 * so a worker that dies mid-call is noticed within the heartbeat timeout, not the whole call's.
 */
async function heartbeating<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const beat = setInterval(() => ctx.heartbeat(), 3_000);
  try {
    return await fn();
  } finally {
    clearInterval(beat);
  }
}

export function createDeliveryActivities(pool: Pool, box: () => SecretBox, config: Config): DeliveryActivities {
  const adapter = async (sourceId: string) => (await loadAdapter(pool, box(), sourceId, { spaceWrites: config.githubSpaceWrites })).adapter;
  return atBoundary<DeliveryActivities>({
    async routingContext(companyId) {
      const [rules, open, byRule] = await Promise.all([
        pool.query<{ rules: RoutingRule[] }>('SELECT rules FROM routing_rules WHERE company_id = $1', [companyId]),
        pool.query<{ agent: string; n: string }>(
          `SELECT assignee_agent_id AS agent, count(*) AS n FROM issues
           WHERE company_id = $1 AND assignee_agent_id IS NOT NULL AND status NOT IN ('done', 'cancelled') GROUP BY 1`,
          [companyId],
        ),
        pool.query<{ rule: string; n: string }>(
          `SELECT lifecycle->'routing'->'reason'->'matchedRules'->0->>'id' AS rule, count(*) AS n FROM issues
           WHERE company_id = $1 AND lifecycle->'routing'->>'state' = 'routed' GROUP BY 1`,
          [companyId],
        ),
      ]);
      return {
        rules: rules.rows[0]?.rules ?? [],
        openTasks: Object.fromEntries(open.rows.map((r) => [r.agent, Number(r.n)])),
        assignedByRule: Object.fromEntries(byRule.rows.filter((r) => r.rule).map((r) => [r.rule, Number(r.n)])),
      };
    },

    routeTask: createRouteTask(pool),

    openPullRequest: ({ sourceId, taskId, head, base, title, body, draft }) =>
      heartbeating(async () => {
        const a = await adapter(sourceId);
        const pull = await a.openPullRequest({ head, base: base ?? (await a.defaultBranch()), title, body, draft });
        // Runs recorded before the claim (no taskId) open as they did.
        if (taskId) await claimPullRequest(pool, { sourceId, prNumber: pull.prNumber, taskId, head });
        return pull;
      }),

    observePullRequest: ({ sourceId, prNumber, reviewPolicy, knownHead }) => heartbeating(async () => (await adapter(sourceId)).observe(prNumber, reviewPolicy, knownHead)),

    mergePullRequest: ({ sourceId, ...input }) => heartbeating(async () => (await adapter(sourceId)).merge(input)),

    revertPullRequest: ({ sourceId, prNumber }) => heartbeating(async () => (await adapter(sourceId)).revert(prNumber)),

    upstreamEffect: ({ sourceId, number, effect }) =>
      heartbeating(async () => {
        const a = await adapter(sourceId);
        if (effect.kind === 'upstream_comment') await a.comment(number, effect.body);
        if (effect.kind === 'upstream_state') await a.setState(number, effect.state);
      }),

    wakeAgent: createWakeActivity(pool, box, config),
  });
}
