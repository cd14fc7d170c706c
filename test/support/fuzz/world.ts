/** The world the requests run in: two companies and their principals, a fake GitHub source, a few tasks in every stage (task lanes) and companies of their own (company lanes). */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hashKey } from '../../../api/auth.js';
import type { RunningFake } from '../../fakes/github/server.js';
import { ALL_TAKEABLE, seedCompany, type SeededAgent } from '../seed.js';
import type { Stack } from '../stack.js';
import { waitFor } from '../wait.js';
import { CLOSING } from './field-arbitraries.js';

export interface Agent { id: string; key: string }
export interface World {
  adminKey: string;
  holder: Agent;
  peer: Agent;
  stranger: Agent;
  expiredToken: string;
  companyA: string;
  companyB: string;
  otherTask: string;
  refLinks: string[];
  goals: string[];
  goalB: string;
  sink: string;
  keys: Map<string, string>;
}
export interface TaskLane {
  kind: 'task';
  name: string;
  id: string;
  identifier: string;
  sha: string;
  sourced: boolean;
  comments: string[];
  interactions: string[];
  revisions: string[];
  /** Children made by this lane's accepted requests, and those of them that wait on the lane's task. */
  children: string[];
  dependents: string[];
}
export interface CompanyLane {
  kind: 'company';
  name: string;
  primary: boolean;
  companyId: string;
  members: [Agent, Agent];
  sourceId: string;
  hookSecret: string;
  owner: string;
  repo: string;
  repoId: number;
  goals: string[];
  sources: string[];
}
export type Lane = TaskLane | CompanyLane;

/** The world, with company A's GitHub owner and source, and the lanes. */
export interface Setup {
  world: World;
  ghOwner: string;
  sourceA: string;
  taskLanes: TaskLane[];
  companyLanes: CompanyLane[];
}

type Stage = 'unassigned' | 'todo' | 'backlog' | 'in_progress' | 'blocked' | 'done' | 'cancelled' | 'in_ci' | 'ready_to_ship' | 'shipped' | 'plan_pending' | 'sourced_todo' | 'sourced_review';
const STAGES: Stage[] = ['unassigned', 'todo', 'backlog', 'in_progress', 'blocked', 'done', 'cancelled', 'in_ci', 'ready_to_ship', 'shipped', 'plan_pending'];

export async function setUpWorld(stack: Stack, fake: RunningFake): Promise<Setup> {
  // --- companies and principals
  const a = await seedCompany(stack, 2);
  const b = await seedCompany(stack, 1);
  const w = await seedCompany(stack, 1);
  const [holder, peer] = a.agents as [SeededAgent, SeededAgent];
  const stranger = b.agents[0]!;
  const expiredToken = `sy_run_${randomBytes(24).toString('base64url')}`;
  await stack.pool.query(`INSERT INTO run_tokens (token_hash, agent_id, run_id, issue_id, expires_at) VALUES ($1, $2, 'run-expired', NULL, now() - interval '1 minute')`, [hashKey(expiredToken), holder.id]);
  const ok = (r: { status: number; body: any }, what: string) => assert.ok(r.status >= 200 && r.status < 300, `setup: ${what}: ${r.status} ${JSON.stringify(r.body)}`);
  const goal = async (companyId: string, title: string) => {
    const r = await stack.admin.post(`/api/companies/${companyId}/goals`, { title });
    ok(r, 'goal');
    return r.body.id as string;
  };
  const issue = async (companyId: string, body: Record<string, unknown>) => {
    const r = await stack.admin.post(`/api/companies/${companyId}/issues`, body);
    ok(r, 'issue');
    return r.body as { id: string; identifier: string };
  };
  const world: World = {
    adminKey: stack.adminKey,
    holder: { id: holder.id, key: holder.key },
    peer: { id: peer.id, key: peer.key },
    stranger: { id: stranger.id, key: stranger.key },
    expiredToken,
    companyA: a.companyId,
    companyB: b.companyId,
    otherTask: (await issue(b.companyId, { title: 'the other company\'s', status: 'todo', assigneeAgentId: stranger.id })).id,
    refLinks: [(await issue(a.companyId, { title: 'linked, never a target', status: 'todo' })).id, (await issue(a.companyId, { title: 'linked too', status: 'backlog' })).id],
    goals: [await goal(a.companyId, 'Goal zero'), await goal(a.companyId, 'Goal one')],
    goalB: await goal(b.companyId, 'Their goal'),
    sink: w.agents[0]!.id,
    keys: new Map([[holder.id, holder.key], [peer.id, peer.key], [stranger.id, stranger.key]]),
  };

  // --- a GitHub repository and source for company A: tasks that came from it, routed to the holder
  const ghOwner = `orgfz${randomBytes(3).toString('hex')}`;
  await fake.fake.createRepo(ghOwner, 'widgets', { 'README.md': '# widgets\n', 'src/app.txt': 'v1\n' });
  const secretA = `whsec_${randomBytes(12).toString('hex')}`;
  ok(await stack.admin.request('PUT', `/api/companies/${a.companyId}/routing`, { rules: [{ id: 'bugs', name: 'Bugs', match: { labelsAny: ['bug'] }, target: { agentId: holder.id } }] }), 'routing');
  const sourceA = await stack.admin.post(`/api/companies/${a.companyId}/sources`, { provider: 'github', owner: ghOwner, repo: 'widgets', baseUrl: fake.url, credential: { token: 'ghp_fuzz_token' }, webhookSecret: secretA, pollIntervalSeconds: null });
  ok(sourceA, 'source');
  fake.fake.hooks.subscribe(`${stack.url}/api/providers/github/webhooks/${sourceA.body.id}`, secretA);

  // --- task lanes: a few tasks in every stage
  const closing = CLOSING[0]!;
  const key = () => ({ 'idempotency-key': randomBytes(8).toString('hex') });
  const artifactSubmit = (sha: string) => ({ mode: 'artifact', summary: 'the work', artifacts: [{ type: 'commit', url: `https://git.example/acme/app/commit/${sha}` }], checks: [{ name: 'ci', status: 'running' }] });
  async function taskAt(stage: Stage, n: number): Promise<TaskLane> {
    const lane = (id: string, identifier: string, sha: string, sourced = false): TaskLane => ({ kind: 'task', name: `${stage}#${n}`, id, identifier, sha, sourced, comments: [], interactions: [], revisions: [], children: [], dependents: [] });
    const sha = randomBytes(20).toString('hex');
    if (stage === 'sourced_todo' || stage === 'sourced_review') {
      const title = `fuzz upstream ${stage} ${n}`;
      await fake.fake.openIssue(ghOwner, 'widgets', { title, labels: ['bug'] });
      const found = await waitFor(`the task of "${title}"`, async () => (await stack.pool.query(`SELECT id, identifier FROM issues WHERE company_id = $1 AND title = $2 AND assignee_agent_id = $3`, [a.companyId, title, holder.id])).rows[0], (r) => !!r, 30_000);
      if (stage === 'sourced_todo') return lane(found.id, found.identifier, sha, true);
      const branch = `fz-${n}`;
      const head = await fake.fake.pushCommit(ghOwner, 'widgets', branch, { 'src/app.txt': `fuzz ${n}\n` });
      ok(await holder.http.post(`/api/tasks/${found.id}/submit`, { summary: 'the work', pullRequest: { head: branch } }, key()), 'submit (PR)');
      return lane(found.id, found.identifier, head, true);
    }
    const created = await issue(a.companyId, { title: `fuzz ${stage} ${n}`, status: stage === 'backlog' ? 'backlog' : 'todo', ...(stage === 'unassigned' ? {} : { assigneeAgentId: holder.id }) });
    const l = lane(created.id, created.identifier, sha);
    const id = created.id;
    if (stage === 'unassigned' || stage === 'todo' || stage === 'backlog') return l;
    if (stage === 'blocked') {
      ok(await holder.http.post(`/api/tasks/${id}/blocker`, { reason: 'needs a person' }), 'block');
      return l;
    }
    if (stage === 'cancelled') {
      ok(await stack.admin.patch(`/api/issues/${id}`, { status: 'cancelled' }), 'cancel');
      return l;
    }
    ok(await holder.http.post(`/api/issues/${id}/checkout`, { agentId: holder.id, expectedStatuses: ALL_TAKEABLE }), 'checkout');
    if (stage === 'in_progress') return l;
    if (stage === 'plan_pending') {
      const ask = await holder.http.post(`/api/issues/${id}/interactions`, { kind: 'request_confirmation', payload: { version: 1, prompt: 'Is this plan fine?' } });
      ok(ask, 'confirmation');
      l.interactions.push(ask.body.id);
      return l;
    }
    if (stage === 'done') {
      ok(await holder.http.post(`/api/issues/${id}/close`, { comment: closing }), 'close');
      return l;
    }
    ok(await holder.http.post(`/api/tasks/${id}/submit`, artifactSubmit(sha), key()), 'submit');
    if (stage === 'in_ci') return l;
    ok(await stack.admin.post(`/api/tasks/${id}/checks`, { headSha: sha, checks: [{ name: 'ci', status: 'passed' }] }), 'checks');
    ok(await stack.admin.post(`/api/tasks/${id}/review`, { outcome: 'approved' }), 'review');
    if (stage === 'ready_to_ship') return l;
    ok(await holder.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha }, key()), 'ship');
    return l;
  }
  const taskLanes: TaskLane[] = [];
  for (const n of [0, 1]) taskLanes.push(...(await Promise.all(STAGES.map((s) => taskAt(s, n)))));
  taskLanes.push(await taskAt('sourced_todo', 0), await taskAt('sourced_review', 0));

  // --- company lanes: companies of their own, with members, a source (on its own repository) and goals
  async function companyLane(n: number): Promise<CompanyLane> {
    const c = await seedCompany(stack, 2);
    const owner = `orgfzc${n}${randomBytes(3).toString('hex')}`;
    const repo = await fake.fake.createRepo(owner, 'app', { 'README.md': '# app\n' });
    const hookSecret = `whsec_${randomBytes(12).toString('hex')}`;
    const src = await stack.admin.post(`/api/companies/${c.companyId}/sources`, { provider: 'github', owner, repo: 'app', baseUrl: fake.url, credential: { token: 'ghp_fuzz_token' }, webhookSecret: hookSecret, pollIntervalSeconds: null });
    ok(src, 'lane source');
    const [m1, m2] = c.agents as [SeededAgent, SeededAgent];
    for (const m of [m1, m2]) world.keys.set(m.id, m.key);
    return { kind: 'company', name: `company#${n}`, primary: n === 0, companyId: c.companyId, members: [{ id: m1.id, key: m1.key }, { id: m2.id, key: m2.key }], sourceId: src.body.id, hookSecret, owner, repo: 'app', repoId: Number((repo as { id?: number }).id ?? 0), goals: [await goal(c.companyId, 'Lane goal')], sources: [src.body.id] };
  }
  const companyLanes = await Promise.all([0, 1, 2].map(companyLane));
  return { world, ghOwner, sourceA: sourceA.body.id, taskLanes, companyLanes };
}
