/** The lane runners: each lane sends its planned requests one at a time, judges every answer, and holds every refusal, read and replay to having changed nothing. */
import type { Sent } from './build.js';
import { describe, judge, upstreamRefusal } from './record.js';
import type { Spec } from './requests.js';
import type { Answer } from './send.js';
import { companySnapshot, diffOf, excused, same, settle, taskSnapshot, unchanged, type Probe } from './state.js';
import type { CompanyLane, Lane, TaskLane } from './world.js';

/** What the lanes share: the stack and record (a Probe), the sink agent, each lane's planned requests, and how a request is built and sent. */
export interface LaneRun extends Probe {
  sink: string;
  plans: Map<Lane, Spec[]>;
  build(lane: Lane, spec: Spec, n: number): Sent;
  send(req: Sent): Promise<Answer>;
}

/** A sent JSON body as an object (or nothing). */
function sentObject(req: Sent): Record<string, any> | undefined {
  try {
    const v = JSON.parse(req.body ?? 'null');
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** What an accepted request made that later requests of the lane refer to (its comments, confirmations, revisions, children, goals, sources, the secrets its webhooks are signed with). */
function harvest(lane: Lane, spec: Spec, req: Sent, ans: Answer): void {
  const k = spec.route.key;
  const id = ans.body?.id ?? ans.body?.data?.id;
  if (lane.kind === 'task') {
    if (k === 'POST /api/issues/{issueId}/comments' && typeof id === 'string') lane.comments.push(id);
    if (k === 'PATCH /api/issues/{issueId}' && typeof ans.body?.comment?.id === 'string') lane.comments.push(ans.body.comment.id);
    if (k === 'POST /api/issues/{issueId}/interactions' && typeof id === 'string') lane.interactions.push(id);
    if (k === 'PUT /api/issues/{issueId}/documents/{key}' && typeof ans.body?.latestRevisionId === 'string') lane.revisions.push(ans.body.latestRevisionId);
    if (typeof id === 'string' && ans.body?.parentId === lane.id && (k === 'POST /api/issues/{issueId}/children' || k === 'POST /api/companies/{companyId}/issues')) {
      lane.children.push(id);
      if (Array.isArray(ans.body.blockedByIssueIds) && ans.body.blockedByIssueIds.includes(lane.id)) lane.dependents.push(id);
    }
    if (k === 'POST /api/tasks/{issueId}/submit' && typeof ans.body?.data?.headSha === 'string' && /^[0-9a-f]{40}$/.test(ans.body.data.headSha)) lane.sha = ans.body.data.headSha;
  } else {
    if (k === 'POST /api/companies/{companyId}/goals' && typeof id === 'string') lane.goals.push(id);
    if (k === 'POST /api/companies/{companyId}/sources' && typeof id === 'string') lane.sources.push(id);
    const sent = k === 'PATCH /api/sources/{sourceId}' ? sentObject(req) : undefined;
    if (sent && typeof id === 'string') {
      if (id === lane.sourceId && 'webhookSecret' in sent) lane.hookSecret = sent.webhookSecret ?? null;
      if (id === lane.linearSourceId && 'webhookSecret' in sent) lane.linearHookSecret = sent.webhookSecret ?? null;
      const circle = sent.ci?.circleci;
      if (id === lane.sourceId && circle && typeof circle === 'object') {
        if ('webhookSecret' in circle) lane.circleHookSecret = circle.webhookSecret ?? null;
        if (typeof circle.projectSlug === 'string') lane.projectSlug = circle.projectSlug;
      }
    }
  }
}

/**
 * The lane's n-th request built, sent, counted and judged; `undefined` when no answer came (a finding).
 * `accepted`: a change the server made (a 2xx to a write, not a replay), which later requests build on.
 */
async function exchange(run: LaneRun, lane: Lane, spec: Spec, n: number): Promise<{ req: Sent; ans: Answer; accepted: boolean } | undefined> {
  const { record } = run;
  const req = run.build(lane, spec, n);
  let ans: Answer;
  try {
    ans = await run.send(req);
  } catch (err) {
    record.find('no answer', spec.route.key, `${describe(record.seed, lane, n, spec, req)}\n    ${(err as Error).message}`);
    return undefined;
  }
  record.stats.sent++;
  judge(record, lane, n, spec, req, ans);
  return { req, ans, accepted: ans.status >= 200 && ans.status < 300 && spec.route.method !== 'GET' && !ans.replayed };
}

/** A task lane: after every refusal, read or replay, the task (read model and workflow) is as it was. */
export async function runTaskLane(run: LaneRun, lane: TaskLane): Promise<void> {
  const { record } = run;
  const { stats, find } = record;
  let base = await settle(run, lane);
  let previous = '(none)';
  for (const [n, spec] of run.plans.get(lane)!.entries()) {
    const sent = await exchange(run, lane, spec, n);
    if (!sent) {
      base = await settle(run, lane);
      continue;
    }
    const { req, ans, accepted } = sent;
    const replayed = ans.replayed;
    if (accepted) {
      harvest(lane, spec, req, ans);
      base = await settle(run, lane);
    } else if (ans.status < 500 || upstreamRefusal(record, spec, req, ans)) {
      // A refusal, a read, a replay: the task is as it was, in the read model and in the workflow. The workflow is
      // asked after the refusals it gives (409, 422, and 403 naming the action) and after one request in twelve; a change it made
      // and the read model has not shown yet shows at the next look (which names the request before it).
      const fromWorkflow = ans.status === 409 || ans.status === 422 || ans.status === 502 || (ans.status === 403 && (ans.body?.details?.action ?? ans.body?.error?.details?.action) !== undefined);
      const after = await taskSnapshot(run, lane.id, fromWorkflow || n % 12 === 0);
      if (!unchanged(base, after)) {
        const settled = await settle(run, lane);
        if (await excused(run.stack, lane, base)) stats.excused++;
        else find(ans.status >= 400 ? 'a change after a 4xx' : replayed ? 'a change after a replay' : 'a change after a read', spec.route.key, `${describe(record.seed, lane, n, spec, req, ans)}\n    changed: ${diffOf({ row: base.row, workflow: base.workflow }, { row: after.row, workflow: after.workflow ?? base.workflow })}\n    (the request before it: ${previous})`);
        base = settled;
      }
    } else {
      base = await settle(run, lane);
    }
    previous = `#${n} ${spec.route.key} as ${spec.principal} → ${ans.status}`;
  }
}

/** A company lane: after every refusal, read or replay, the company's rows are as they were. */
export async function runCompanyLane(run: LaneRun, lane: CompanyLane): Promise<void> {
  const { record } = run;
  let base = await companySnapshot(run.stack, run.sink, lane);
  let previous = '(none)';
  for (const [n, spec] of run.plans.get(lane)!.entries()) {
    const sent = await exchange(run, lane, spec, n);
    if (!sent) continue;
    const { req, ans, accepted } = sent;
    if (accepted) {
      harvest(lane, spec, req, ans);
      base = await companySnapshot(run.stack, run.sink, lane);
    } else if (ans.status < 500) {
      const after = await companySnapshot(run.stack, run.sink, lane);
      if (!same(base, after)) {
        record.find(ans.status >= 400 ? 'a change after a 4xx' : 'a change after a read or replay', spec.route.key, `${describe(record.seed, lane, n, spec, req, ans)}\n    changed: ${diffOf(base, after)}\n    (the request before it: ${previous})`);
        base = after;
      }
    } else {
      base = await companySnapshot(run.stack, run.sink, lane);
    }
    previous = `#${n} ${spec.route.key} as ${spec.principal} → ${ans.status}`;
  }
}
