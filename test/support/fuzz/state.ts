/** Snapshots of what a refusal must leave alone (a task's read model and workflow, a company's rows), how the task settles, and how two snapshots compare. */
import type { IssueState } from '../../../domain/task.js';
import { stateQuery, workflowIdFor } from '../../../workflows/messages.js';
import type { Stack } from '../stack.js';
import { cut, type RunRecord } from './record.js';
import type { CompanyLane, TaskLane } from './world.js';

/** The stack to look at and the run's record (its time and findings). */
export interface Probe { stack: Stack; record: RunRecord }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** JSON with its keys sorted (Postgres' jsonb keeps its own key order). */
function canon(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]));
  return v;
}

/** The workflow's `state` Query (asked again, twice at most, when the server dropped it under load). */
export async function workflowState(stack: Stack, id: string): Promise<IssueState> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await stack.client.workflow.getHandle(workflowIdFor(id)).query(stateQuery);
    } catch (err) {
      if (attempt >= 3) throw err;
      await sleep(200);
    }
  }
}

export interface TaskSnap { row: Record<string, unknown>; workflow?: Record<string, unknown>; rowKey: string; workflowKey?: string }
/** The task's read model (its row and everything hanging off it) and, when asked, its workflow's own state. */
export async function taskSnapshot({ stack, record: { timing } }: Probe, id: string, withWorkflow = true): Promise<TaskSnap> {
  const t0 = Date.now();
  const [{ rows }, wf] = await Promise.all([
    stack.pool.query(
      `SELECT i.version, i.status, i.priority, i.title, md5(coalesce(i.description, '')) AS description, i.assignee_agent_id, i.goal_id, i.checkout, i.fingerprint, i.collab, i.lifecycle, i.workflow_status,
              (SELECT count(*)::int FROM comments c WHERE c.issue_id = i.id) AS comments,
              (SELECT count(*)::int FROM activity_log x WHERE x.issue_id = i.id) AS activity,
              (SELECT count(*)::int FROM issues c WHERE c.parent_id = i.id) AS children,
              (SELECT count(*)::int FROM issue_documents d WHERE d.issue_id = i.id) AS documents,
              (SELECT count(*)::int FROM document_revisions d WHERE d.issue_id = i.id AND d.revision_number IS NOT NULL) AS revisions,
              (SELECT coalesce(string_agg(x.status, ',' ORDER BY x.id), '') FROM issue_interactions x WHERE x.issue_id = i.id) AS interactions,
              (SELECT count(*)::int FROM issue_blockers x WHERE x.issue_id = i.id OR x.blocker_issue_id = i.id) AS blockers
       FROM issues i WHERE i.id = $1`,
      [id],
    ),
    withWorkflow ? workflowState(stack, id).finally(() => ((timing.query += Date.now() - t0), timing.queries++)) : undefined,
  ]);
  timing.db += Date.now() - t0;
  const workflow = wf ? (canon(wf) as Record<string, unknown>) : undefined;
  return { row: rows[0], rowKey: JSON.stringify(canon(rows[0])), ...(workflow ? { workflow, workflowKey: JSON.stringify(workflow) } : {}) };
}
/** Equal where both looked (the read model always; the workflow when both asked it). */
export const unchanged = (x: TaskSnap, y: TaskSnap) => x.rowKey === y.rowKey && (!x.workflowKey || !y.workflowKey || x.workflowKey === y.workflowKey);
export const same = (x: unknown, y: unknown) => JSON.stringify(canon(x)) === JSON.stringify(canon(y));

/**
 * The task once nothing is moving: the read model at the workflow's version (and still there a moment later),
 * and the workflow told of every child this lane made. The baseline the next refusal is held to.
 */
export async function settle(probe: Probe, lane: TaskLane): Promise<TaskSnap> {
  const t0 = Date.now();
  try {
    return await settleOnce(probe, lane);
  } finally {
    probe.record.timing.settle += Date.now() - t0;
  }
}
async function settleOnce(probe: Probe, lane: TaskLane): Promise<TaskSnap> {
  let prev: TaskSnap | undefined;
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    const cur = await taskSnapshot(probe, lane.id);
    if (cur.row.version === cur.workflow!.version && awaited(lane, cur.workflow as unknown as IssueState)) {
      // The read model at the workflow's version, and still there a moment later.
      await sleep(40);
      if ((await taskSnapshot(probe, lane.id, false)).rowKey === cur.rowKey) return cur;
    }
    prev = cur;
    await sleep(40);
  }
  prev ??= await taskSnapshot(probe, lane.id);
  probe.record.find('a task that does not settle', lane.name, `after 10 s: workflow version ${prev.workflow?.version}, read model version ${prev.row.version}, children ${JSON.stringify((prev.workflow as any)?.collab?.children)} (expected ${JSON.stringify(lane.children)})`);
  return prev;
}

/** What an accepted request set going after its answer has arrived: its children's start notices (they come from the children's workflows). */
function awaited(lane: TaskLane, wf: IssueState): boolean {
  const children = new Set((wf.collab?.children ?? []).map((c) => c.id));
  const blocks = new Set(wf.collab?.blocks ?? []);
  return lane.children.every((c) => children.has(c)) && lane.dependents.every((d) => blocks.has(d));
}

/**
 * Changes no request made: a lease the workflow's timer ended; the late start notice of a child this lane
 * made (child_added, blocks_added: system entries naming it); on a task from GitHub, the provider's own news.
 */
export async function excused(stack: Stack, lane: TaskLane, before: TaskSnap): Promise<boolean> {
  const { rows } = await stack.pool.query<{ action: string; actor_agent_id: string | null; actor_user: string | null; details: Record<string, unknown> }>(
    'SELECT action, actor_agent_id, actor_user, details FROM activity_log WHERE issue_id = $1 AND version > $2',
    [lane.id, before.row.version],
  );
  if (rows.length === 0) return false;
  if (rows.some((r) => r.action === 'issue.lease_expired' && r.actor_agent_id === null)) return true;
  const mine = (id: unknown) => lane.children.includes(String(id));
  if (rows.every((r) => r.actor_agent_id === null && ((r.action === 'issue.child_added' && mine(r.details.childIssueId)) || (r.action === 'issue.blocks_added' && mine(r.details.issueId))))) return true;
  return lane.sourced && rows.every((r) => r.actor_agent_id === null && r.actor_user !== 'board');
}

/** The fields that differ between two snapshots, each with both values. */
export function diffOf(x: TaskSnap | Record<string, unknown>, y: TaskSnap | Record<string, unknown>): string {
  const out: string[] = [];
  const walk = (a: any, b: any, at: string) => {
    for (const k of new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])) {
      if (same(a?.[k], b?.[k])) continue;
      if (a?.[k] && b?.[k] && typeof a[k] === 'object' && typeof b[k] === 'object' && !Array.isArray(a[k]) && at.split('.').length < 3) walk(a[k], b[k], `${at}${k}.`);
      else out.push(`${at}${k}: ${cut(JSON.stringify(a?.[k]), 200)} → ${cut(JSON.stringify(b?.[k]), 200)}`);
    }
  };
  walk(x, y, '');
  return out.join('\n      ');
}

/** The company's own rows (agents, goals, sources, routing, its issues, deliveries) and, for the primary lane, the global ones it may touch. */
export async function companySnapshot(stack: Stack, sink: string, lane: CompanyLane) {
  const { rows } = await stack.pool.query(
    `SELECT c.name, c.settings,
            (SELECT count(*)::int FROM agents x WHERE x.company_id = c.id) AS agents,
            (SELECT coalesce(string_agg(concat_ws('|', g.id, g.title, g.status, g.level, g.parent_id, g.owner_agent_id, md5(coalesce(g.description, ''))), ',' ORDER BY g.id), '') FROM goals g WHERE g.company_id = c.id) AS goals,
            (SELECT coalesce(string_agg(concat_ws('|', s.id, s.paused, s.poll_interval_seconds, s.review_policy, s.default_branch, s.deleted_at, md5(s.credential_sealed), md5(coalesce(s.webhook_secret_sealed, '')), s.labels::text,
                                                s.base_url, s.team_key, s.states::text, s.delivery_source_id, s.upstream_user_id, s.ci_providers::text, s.circleci::text, md5(coalesce(s.circleci_token_sealed, '')), md5(coalesce(s.circleci_webhook_secret_sealed, '')), s.flaky::text), ',' ORDER BY s.id), '') FROM sources s WHERE s.company_id = c.id) AS sources,
            (SELECT concat_ws('|', r.version, r.rules::text) FROM routing_rules r WHERE r.company_id = c.id) AS routing,
            (SELECT count(*)::int FROM issues i WHERE i.company_id = c.id AND coalesce(i.lifecycle->'source', 'null'::jsonb) = 'null'::jsonb) AS issues,
            (SELECT count(*)::int FROM webhook_deliveries d JOIN sources s ON s.id = d.source_id WHERE s.company_id = c.id) AS deliveries,
            CASE WHEN $2 THEN (SELECT count(*)::int FROM companies) END AS companies,
            CASE WHEN $2 THEN (SELECT md5(coalesce(wake_target_sealed, '')) FROM agents WHERE id = $3) END AS sink
     FROM companies c WHERE c.id = $1`,
    [lane.companyId, lane.primary, sink],
  );
  return rows[0];
}
