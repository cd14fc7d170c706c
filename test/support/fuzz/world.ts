/**
 * The world the requests run in: two companies and their principals, a fake GitHub source and a fake Linear team
 * delivering to it, a few tasks in every stage (task lanes; some born in Linear) and companies of their own
 * (company lanes, each with a repository judged by the fake CircleCI, a Linear team connected with signed
 * webhooks, and a Linear team left for the fuzz to connect).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mintRunToken } from '../../../db/agent-keys.js';
import type { AllFakes } from '../linear-delivery.js';
import { ALL_TAKEABLE, seedCompany, type SeededAgent } from '../seed.js';
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
  /** A key minted for the sink agent: the only key the key routes are sent (rotating or revoking it stops no principal). */
  sinkKey: string;
  /** An event subscription of company A to an address nothing listens on (a delivery fails and is retried). */
  sinkSubscription: string;
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
  hookSecret: string | null;
  owner: string;
  repo: string;
  repoId: number;
  goals: string[];
  sources: string[];
  /** The Linear team the fuzz may connect (once: then source_exists), and the lane's Linear key. */
  teamKey: string;
  linearKey: string;
  /** The Linear source connected at setup (signed webhooks), its team, its key's user, the team's issues. */
  linearSourceId: string;
  linearHookSecret: string | null;
  hookTeamKey: string;
  hookTeamId: string;
  hookUserId: string;
  hookIssues: Array<{ id: string; identifier: string }>;
  /** The CircleCI project of the lane's repository, and its webhook secret. */
  projectSlug: string;
  circleHookSecret: string | null;
}
export type Lane = TaskLane | CompanyLane;

/** Company A's Linear team and source (delivering to its GitHub source), where the Linear-born task lanes come from. */
export interface LinearA {
  teamKey: string;
  teamId: string;
  apiKey: string;
  sourceId: string;
  /** Its workflow states: open ones (a move there leaves the task as it is) and closed ones (before ship, the task is cancelled). */
  openStates: string[];
  closedStates: string[];
}

/** The world, with company A's GitHub owner and source, and the lanes. */
export interface Setup {
  world: World;
  ghOwner: string;
  sourceA: string;
  linearA: LinearA;
  /** The fakes' addresses (GitHub's, Linear's GraphQL, CircleCI's API root) and the CircleCI token they know. */
  fakeUrl: string;
  linearUrl: string;
  circleUrl: string;
  circleToken: string;
  taskLanes: TaskLane[];
  companyLanes: CompanyLane[];
}

type Stage = 'unassigned' | 'todo' | 'backlog' | 'in_progress' | 'blocked' | 'done' | 'cancelled' | 'in_ci' | 'ready_to_ship' | 'shipped' | 'plan_pending' | 'sourced_todo' | 'sourced_review' | 'linear_todo' | 'linear_in_progress' | 'linear_review';
const STAGES: Stage[] = ['unassigned', 'todo', 'backlog', 'in_progress', 'blocked', 'done', 'cancelled', 'in_ci', 'ready_to_ship', 'shipped', 'plan_pending'];

export async function setUpWorld(fakes: AllFakes): Promise<Setup> {
  const { stack, github: fake, linear, circleci } = fakes;
  const circleToken = `CCIPAT_fz_${randomBytes(12).toString('hex')}`;
  circleci.fake.addToken(circleToken);
  // --- companies and principals
  const a = await seedCompany(stack, 2);
  const b = await seedCompany(stack, 1);
  const w = await seedCompany(stack, 1);
  const [holder, peer] = a.agents as [SeededAgent, SeededAgent];
  const stranger = b.agents[0]!;
  const expiredToken = await mintRunToken(stack.pool, { agentId: holder.id, issueId: null, runId: 'run-expired', ttlSeconds: -60 });
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
    sinkKey: await (async () => {
      const r = await stack.admin.post('/api/agent-api-keys', { agent: { id: w.agents[0]!.id }, scopes: ['tasks:read'] }, { 'idempotency-key': `fuzz-sink-${randomBytes(6).toString('hex')}` });
      ok(r, 'sink key');
      return r.body.data.id as string;
    })(),
    sinkSubscription: await (async () => {
      const r = await stack.admin.post('/api/event-subscriptions', { companyId: a.companyId, url: 'http://127.0.0.1:9/sink', eventTypes: ['task.shipped'], secret: 'fuzz-sink-secret-0123' }, { 'idempotency-key': `fuzz-sub-${randomBytes(6).toString('hex')}` });
      ok(r, 'sink subscription');
      return r.body.data.id as string;
    })(),
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

  // --- a Linear team of company A delivering to that repository: the Linear-born tasks (taken in by a sync, no webhooks)
  const teamA = linear.fake.createTeam({ key: `FZA${randomBytes(2).toString('hex').toUpperCase()}`, name: 'Fuzz A' });
  const linearKeyA = linear.fake.addApiKey(`lin_api_fza_${randomBytes(12).toString('hex')}`, 'Switchyard Fuzz A');
  const sourceLA = await stack.admin.post(`/api/companies/${a.companyId}/sources`, { provider: 'linear', teamKey: teamA.key, credential: { apiKey: linearKeyA }, apiUrl: linear.url, webhookSecret: `whsec_${randomBytes(12).toString('hex')}`, pollIntervalSeconds: null, repository: { sourceId: sourceA.body.id } });
  ok(sourceLA, 'Linear source');
  const statesA = linear.fake.teamStates(teamA.id);
  const linearA: LinearA = {
    teamKey: teamA.key, teamId: teamA.id, apiKey: linearKeyA, sourceId: sourceLA.body.id,
    openStates: statesA.filter((st) => st.type !== 'completed' && st.type !== 'canceled').map((st) => st.id),
    closedStates: statesA.filter((st) => st.type === 'completed' || st.type === 'canceled').map((st) => st.id),
  };
  const LINEAR_STAGES: Stage[] = ['linear_todo', 'linear_in_progress', 'linear_review'];
  const linearIssues = new Map<Stage, Awaited<ReturnType<typeof linear.fake.createIssue>>>();
  for (const stage of LINEAR_STAGES) linearIssues.set(stage, await linear.fake.createIssue({ teamKey: teamA.key, title: `fuzz linear ${stage}`, description: 'From Linear.', priority: 3, labels: ['bug'] }));

  // --- task lanes: a few tasks in every stage
  const closing = CLOSING[0]!;
  const key = () => ({ 'idempotency-key': randomBytes(8).toString('hex') });
  const artifactSubmit = (sha: string) => ({ mode: 'artifact', summary: 'the work', artifacts: [{ type: 'commit', url: `https://git.example/acme/app/commit/${sha}` }], checks: [{ name: 'ci', status: 'running' }] });
  async function taskAt(stage: Stage, n: number): Promise<TaskLane> {
    const lane = (id: string, identifier: string, sha: string, sourced = false): TaskLane => ({ kind: 'task', name: `${stage}#${n}`, id, identifier, sha, sourced, comments: [], interactions: [], revisions: [], children: [], dependents: [] });
    const sha = randomBytes(20).toString('hex');
    if (stage === 'linear_todo' || stage === 'linear_in_progress' || stage === 'linear_review') {
      // Taken in by the sync below, routed to the holder (the label "bug"), Linear told of the assignment.
      const title = `fuzz linear ${stage}`;
      const issue = linearIssues.get(stage)!;
      const found = await waitFor(`the task of "${title}"`, async () => (await stack.pool.query(`SELECT id, identifier FROM issues WHERE company_id = $1 AND title = $2 AND assignee_agent_id = $3`, [a.companyId, title, holder.id])).rows[0], (r) => !!r, 30_000);
      await waitFor(`Linear told of the assignment of "${title}"`, async () => linear.fake.comments(issue.id).some((c) => c.body.includes('assigned this issue to agent')), (told) => told, 30_000);
      if (stage === 'linear_todo') return lane(found.id, found.identifier, sha, true);
      ok(await holder.http.post(`/api/tasks/${found.id}/start`, {}, key()), 'start (Linear)');
      if (stage === 'linear_in_progress') return lane(found.id, found.identifier, sha, true);
      const branch = `fz-linear-${n}`;
      const head = await fake.fake.pushCommit(ghOwner, 'widgets', branch, { 'src/app.txt': `fuzz linear ${n}\n` });
      ok(await holder.http.post(`/api/tasks/${found.id}/submit`, { summary: 'the work', pullRequest: { head: branch } }, key()), 'submit (Linear, PR)');
      return lane(found.id, found.identifier, head, true);
    }
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
  // The GitHub-born ones (by webhook) beside the Linear-born ones (one sync takes every issue of the team in).
  const [fromGitHub, fromLinear] = await Promise.all([
    (async () => [await taskAt('sourced_todo', 0), await taskAt('sourced_review', 0)])(),
    (async () => {
      ok(await stack.admin.post(`/api/sources/${linearA.sourceId}/sync`, {}), 'Linear sync');
      return Promise.all(LINEAR_STAGES.map((st) => taskAt(st, 0)));
    })(),
  ]);
  taskLanes.push(...fromGitHub, ...fromLinear);

  // --- company lanes: companies of their own, with members, goals, a source on its own repository (CircleCI's project too), and Linear
  async function companyLane(n: number): Promise<CompanyLane> {
    const c = await seedCompany(stack, 2);
    const hex = randomBytes(3).toString('hex');
    const owner = `orgfzc${n}${hex}`;
    const repo = await fake.fake.createRepo(owner, 'app', { 'README.md': '# app\n' });
    const hookSecret = `whsec_${randomBytes(12).toString('hex')}`;
    const projectSlug = `gh/${owner}/app`;
    const circleHookSecret = `cci_wh_${randomBytes(12).toString('hex')}`;
    circleci.fake.project(projectSlug); // set up in CircleCI: the settings are tried when saved
    const src = await stack.admin.post(`/api/companies/${c.companyId}/sources`, {
      provider: 'github', owner, repo: 'app', baseUrl: fake.url, credential: { token: 'ghp_fuzz_token' }, webhookSecret: hookSecret, pollIntervalSeconds: null,
      ci: { providers: ['github_actions', 'circleci'], circleci: { projectSlug, token: circleToken, webhookSecret: circleHookSecret, baseUrl: circleci.apiUrl } },
    });
    ok(src, 'lane source');
    // Two Linear teams: one connected here (its deliveries signed), one left for the fuzz to connect.
    const hookTeam = linear.fake.createTeam({ key: `FZH${n}${hex.toUpperCase()}`, name: `Fuzz hooks ${n}` });
    const freeTeam = linear.fake.createTeam({ key: `FZF${n}${hex.toUpperCase()}`, name: `Fuzz free ${n}` });
    const linearKey = linear.fake.addApiKey(`lin_api_fz${n}_${randomBytes(12).toString('hex')}`, `Switchyard Fuzz ${n}`);
    const linearHookSecret = `lin_wh_${randomBytes(12).toString('hex')}`;
    const hookIssues = await Promise.all([1, 2].map((i) => linear.fake.createIssue({ teamKey: hookTeam.key, title: `lane ${n} Linear issue ${i}`, labels: ['bug'] })));
    const lin = await stack.admin.post(`/api/companies/${c.companyId}/sources`, { provider: 'linear', teamKey: hookTeam.key, credential: { apiKey: linearKey }, apiUrl: linear.url, webhookSecret: linearHookSecret, pollIntervalSeconds: null, repository: { owner, repo: 'app' } });
    ok(lin, 'lane Linear source');
    // Its team's issues taken in now: the source has open tasks (so deleting it is refused until they are closed upstream).
    ok(await stack.admin.post(`/api/sources/${lin.body.id}/sync`, {}), 'lane Linear sync');
    const [m1, m2] = c.agents as [SeededAgent, SeededAgent];
    for (const m of [m1, m2]) world.keys.set(m.id, m.key);
    return {
      kind: 'company', name: `company#${n}`, primary: n === 0, companyId: c.companyId, members: [{ id: m1.id, key: m1.key }, { id: m2.id, key: m2.key }], sourceId: src.body.id, hookSecret, owner, repo: 'app',
      repoId: Number((repo as { id?: number }).id ?? 0), goals: [await goal(c.companyId, 'Lane goal')], sources: [src.body.id, lin.body.id],
      teamKey: freeTeam.key, linearKey, linearSourceId: lin.body.id, linearHookSecret, hookTeamKey: hookTeam.key, hookTeamId: hookTeam.id, hookUserId: linear.fake.apiKeys.get(linearKey)!,
      hookIssues: hookIssues.map((i) => ({ id: i.id, identifier: linear.fake.identifier(i) })), projectSlug, circleHookSecret,
    };
  }
  const companyLanes = await Promise.all([0, 1, 2].map(companyLane));
  return { world, ghOwner, sourceA: sourceA.body.id, linearA, fakeUrl: fake.url, linearUrl: linear.url, circleUrl: circleci.apiUrl, circleToken, taskLanes, companyLanes };
}
