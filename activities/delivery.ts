/** The task workflow's delivery activities: routing input from Postgres, provider calls through the ports. */
import { Context } from '@temporalio/activity';
import type { Pool } from '../db/pool.js';
import type { RoutingRule } from '../domain/routing.js';
import type { SecretBox } from '../runtime/secrets.js';
import type { DeliveryActivities } from '../workflows/activity-types.js';
import { atBoundary } from './boundary.js';
import { intakeFor, loadAdapter } from './providers/registry.js';
import { getDeliverySource } from '../db/sources.js';
import { claimPullRequest } from './pull-claims.js';
import { withFlakyHints } from './flaky.js';
import { linearWrite } from './linear-write.js';
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

/** A write-back naming an agent: its name (and id), looked up now. */
async function namingAgent(pool: Pool, body: string, agentId: string | undefined): Promise<string> {
  if (!agentId) return body;
  const { rows } = await pool.query<{ name: string }>('SELECT name FROM agents WHERE id = $1', [agentId]);
  return body.replaceAll('{agent}', rows[0] ? `${rows[0].name} (${agentId})` : agentId);
}

export function createDeliveryActivities(pool: Pool, box: () => SecretBox, config: Config): DeliveryActivities {
  const load = (sourceId: string) => loadAdapter(pool, box(), sourceId, { spaceWrites: config.githubSpaceWrites });
  const adapter = async (sourceId: string) => (await load(sourceId)).adapter;
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
        const { adapter: a, repository } = await load(sourceId);
        const pull = await a.openPullRequest({ head, base: base ?? (await a.defaultBranch()), title, body, draft });
        // Runs recorded before the claim (no taskId) open as they did. A PR is claimed in its repository's source, whoever took the issue in.
        if (taskId) await claimPullRequest(pool, { sourceId: repository.id, prNumber: pull.prNumber, taskId, head });
        return pull;
      }),

    /** The PR as the code host sees it, CI with its flaky hints, and the repository's flaky policy for the workflow to apply. */
    observePullRequest: ({ sourceId, prNumber, reviewPolicy, knownHead }) =>
      heartbeating(async () => {
        const { adapter: a, repository } = await load(sourceId);
        const o = await a.observe(prNumber, reviewPolicy, knownHead);
        return { ...o, ci: await withFlakyHints(pool, repository.id, o.ci), flaky: repository.flaky };
      }),

    mergePullRequest: ({ sourceId, ...input }) => heartbeating(async () => (await adapter(sourceId)).merge(input)),

    revertPullRequest: ({ sourceId, prNumber }) => heartbeating(async () => (await adapter(sourceId)).revert(prNumber)),

    upstreamEffect: ({ sourceId, number, key, effect }) =>
      heartbeating(async () => {
        // Write-back goes where the issue came from (a Linear task's issue is Linear's, not the repository's).
        const source = await getDeliverySource(pool, sourceId);
        const a = intakeFor(source, box(), { spaceWrites: config.githubSpaceWrites });
        const ref = { number, key: key ?? '' };
        if (effect.kind === 'upstream_comment') await a.comment(ref, await namingAgent(pool, effect.body, effect.agentId));
        if (effect.kind === 'upstream_state') await a.setState(ref, effect.state);
      }),

    linearWrite: ({ sourceId, linearIssueId, write, mayClose }) => linearWrite(pool, box(), { sourceId, linearIssueId, write, mayClose }),

    rerunFailedChecks: ({ sourceId, prNumber, headSha }) => heartbeating(async () => (await adapter(sourceId)).rerunFailed(prNumber, headSha)),

    wakeAgent: createWakeActivity(pool, box, config),
  });
}
