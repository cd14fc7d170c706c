/**
 * `npm run bench -- lifecycle`: many tasks from the fake GitHub to a merged PR through the REST API,
 * scripted agents, the worker and API as their own processes. Measures how fast a provider event shows
 * in what a client reads (webhook → availableActions), the same without webhooks (the workflow's own
 * polling), lifecycles per second against the engine's floor for the same number of workflow tasks,
 * duplicate PRs and merges, and the worker's memory per 1,000 open tasks. Prints a table, then one JSON line.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { startFakeGitHub, type RunningFake } from '../test/fakes/github/server.js';
import type { HttpClient } from '../test/support/http.js';
import { workflowIdFor } from '../workflows/messages.js';
import { claimUpdate } from './floor/workflow.js';
import { deploy, type Deployed } from './processes.js';
import { printTable, round, summarize } from './stats.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 24);
/** Lifecycles run one at a time to measure latency on an otherwise quiet stack. */
const LATENCY_RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 10);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 8);
const POLL_ONLY = Number(process.env.BENCH_POLL_ONLY ?? 4);
const OPEN = Number(process.env.BENCH_OPEN_TASKS ?? 3000);
const CACHE = process.env.SWITCHYARD_MAX_CACHED_WORKFLOWS ?? '1000';
const log = (line: string) => console.error(`[bench] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Agent { id: string; http: HttpClient }

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 120_000, everyMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out; last ${JSON.stringify(v).slice(0, 300)}`);
    await sleep(everyMs);
  }
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function setup(stack: Deployed, fake: RunningFake, webhooks: boolean, agents: Agent[], companyId: string, owner: string) {
  await fake.fake.createRepo(owner, 'app', { 'README.md': '# app\n' });
  const secret = `whsec_${randomBytes(8).toString('hex')}`;
  const source = await stack.admin.post(`/api/companies/${companyId}/sources`, {
    provider: 'github', owner, repo: 'app', baseUrl: fake.url, credential: { token: `ghp_${randomBytes(8).toString('hex')}` }, webhookSecret: secret, pollIntervalSeconds: webhooks ? null : 15,
  });
  if (source.status !== 201) throw new Error(JSON.stringify(source.body));
  if (webhooks) fake.fake.hooks.subscribe(`${stack.url}/api/providers/github/webhooks/${source.body.id}`, secret);
  return source.body.id as string;
}

/** One task from upstream issue to merge; returns its two webhook → availableActions samples (ms). */
async function lifecycle(fake: RunningFake, owner: string, agent: Agent, label: string, i: number, samples: number[], pollMs: number): Promise<string> {
  const gh = fake.fake;
  await gh.openIssue(owner, 'app', { title: `bench ${i}`, labels: [label] });
  const task = await until(async () => (await agent.http.get('/api/tasks/mine?limit=100')).body.data.find((t: any) => t.title === `bench ${i}`), (t) => !!t, 120_000, 50);
  const key = (k: string) => ({ 'idempotency-key': `${k}-${i}` });
  const read = async () => (await agent.http.get(`/api/tasks/${task.id}`)).body.data;
  await agent.http.post(`/api/tasks/${task.id}/start`, {}, key('start'));
  const sha1 = await gh.pushCommit(owner, 'app', `b${i}`, { [`f${i}.txt`]: 'one\n' });
  const submitted = await agent.http.post(`/api/tasks/${task.id}/submit`, { summary: 's', pullRequest: { head: `b${i}` } }, key('s1'));
  if (submitted.status !== 202) throw new Error(`submit answered ${submitted.status} ${JSON.stringify(submitted.body)}`);
  const pr = submitted.body.data.prNumber;
  await until(read, (d) => d.ci?.overallStatus === 'queued' || d.stage === 'ci', 60_000, 20);
  // From the provider event being delivered (the fake's webhook send) to the change a client reads.
  const sent = (event: string, after: number, mine: (payload: any) => boolean) =>
    gh.hooks.deliveries.find((d) => d.event === event && d.sentAt >= after && d.payload?.repository?.full_name === `${owner}/app` && mine(d.payload))?.sentAt ?? after;
  let t0 = performance.now();
  await gh.setCheckRun(owner, 'app', { sha: sha1, name: 'ci', status: 'completed', conclusion: 'failure' });
  await until(read, (d) => d.availableActions.includes('fix'), 120_000, pollMs);
  samples.push(performance.now() - sent('check_run', t0, (p) => p.check_run?.head_sha === sha1));
  const sha2 = await gh.pushCommit(owner, 'app', `b${i}`, { [`f${i}.txt`]: 'two\n' });
  await agent.http.post(`/api/tasks/${task.id}/submit`, { summary: 's2', pullRequest: { head: `b${i}` } }, key('s2'));
  await gh.setCheckRun(owner, 'app', { sha: sha2, name: 'ci', status: 'completed', conclusion: 'success' });
  await until(read, (d) => d.ci?.overallStatus === 'passed' && d.headSha === sha2, 60_000, 10);
  t0 = performance.now();
  await gh.submitReview(owner, 'app', pr, { user: 'reviewer', state: 'APPROVED' });
  await until(read, (d) => d.availableActions.includes('ship'), 120_000, pollMs);
  samples.push(performance.now() - sent('pull_request_review', t0, (p) => p.pull_request?.number === pr));
  const ship = await agent.http.post(`/api/tasks/${task.id}/ship`, { expectedHeadSha: sha2 }, key('ship'));
  if (ship.status !== 202) throw new Error(`ship answered ${ship.status} ${JSON.stringify(ship.body)}`);
  return task.id;
}

/** Poll-only: the state follows CI and review without any webhook. */
async function pollOnly(fake: RunningFake, owner: string, agent: Agent, i: number): Promise<number> {
  const gh = fake.fake;
  await gh.openIssue(owner, 'app', { title: `poll ${i}`, labels: ['poll'] });
  const sync = await until(async () => (await agent.http.get('/api/tasks/mine?limit=100')).body.data.find((t: any) => t.title === `poll ${i}`), (t) => !!t, 120_000, 200);
  const read = async () => (await agent.http.get(`/api/tasks/${sync.id}`)).body.data;
  const sha = await gh.pushCommit(owner, 'app', `p${i}`, { [`p${i}.txt`]: 'p\n' });
  const pr = (await agent.http.post(`/api/tasks/${sync.id}/submit`, { summary: 'p', pullRequest: { head: `p${i}` } }, { 'idempotency-key': `p-${i}` })).body.data.prNumber;
  await until(read, (d) => d.stage === 'ci' || d.stage === 'submitted', 60_000, 50);
  await sleep(1_000);
  const t0 = performance.now();
  await gh.setCheckRun(owner, 'app', { sha, name: 'ci', status: 'completed', conclusion: 'success' });
  await gh.submitReview(owner, 'app', pr, { user: 'reviewer', state: 'APPROVED' });
  await until(read, (d) => d.availableActions.includes('ship'), 600_000, 50);
  return performance.now() - t0;
}

/** Workflow tasks one lifecycle took (every run of its workflow). */
async function workflowTasksOf(stack: Deployed, taskId: string): Promise<number> {
  let n = 0;
  for await (const wf of stack.client.workflow.list({ query: `WorkflowId = "${workflowIdFor(taskId)}"` })) {
    const history = await stack.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    n += (history.events ?? []).filter((e) => e.workflowTaskCompletedEventAttributes).length;
  }
  return n;
}

/** The engine's floor: the same number of workflow tasks, as raw Updates on no-op workflows, at the same concurrency. */
async function floorWorkflowTasksPerSec(stack: Deployed, concurrency: number, perWorkflow: number): Promise<number> {
  const handles = await Promise.all([...Array(concurrency).keys()].map((i) => stack.client.workflow.start('benchFloorWorkflow', { workflowId: `floor-life/${randomBytes(6).toString('hex')}-${i}`, taskQueue: stack.floorTaskQueue })));
  const t0 = performance.now();
  await Promise.all(handles.map(async (h) => {
    for (let k = 0; k < perWorkflow; k++) await h.executeUpdate(claimUpdate, { args: ['same-agent'] });
  }));
  const secs = (performance.now() - t0) / 1000;
  await Promise.all(handles.map((h) => h.terminate('bench done').catch(() => {})));
  return (concurrency * perWorkflow) / secs;
}

export async function benchLifecycle(): Promise<Record<string, number | string>> {
  // Our system, not GitHub's write spacing (1 s per write, 3 s per PR per credential), is what is measured.
  const stack = await deploy({ SWITCHYARD_MAX_CACHED_WORKFLOWS: CACHE, SWITCHYARD_RECONCILE_EVERY_MINUTES: '0', SWITCHYARD_GITHUB_WRITE_SPACING: 'none' });
  const fake = await startFakeGitHub();
  try {
    const company = (await stack.admin.post('/api/companies', { name: 'Bench', issuePrefix: 'BENCH' })).body;
    const agents: Agent[] = [];
    for (let i = 0; i < AGENTS; i++) {
      const res = (await stack.admin.post(`/api/companies/${company.id}/agents`, { name: `agent-${i}` })).body;
      agents.push({ id: res.agent.id, http: stack.as(res.apiKey, `bench-${i}`) });
    }
    const rules = agents.map((a, k) => ({ id: `a${k}`, name: `to agent ${k}`, match: { labelsAny: [`a${k}`, ...(k === 0 ? ['poll'] : [])] }, target: { agentId: a.id } }));
    await stack.admin.request('PUT', `/api/companies/${company.id}/routing`, { rules });
    await setup(stack, fake, true, agents, company.id, 'hooked');
    await setup(stack, fake, false, agents, company.id, 'polled');
    const rssEmpty = rssMb(stack.workerPid);

    log(`${LATENCY_RUNS} lifecycles one at a time (latency), webhooks`);
    const samples: number[] = [];
    for (let i = 0; i < LATENCY_RUNS; i++) await lifecycle(fake, 'hooked', agents[i % AGENTS]!, `a${i % AGENTS}`, 1000 + i, samples, 2);
    log(`${TASKS} lifecycles at once (throughput), ${AGENTS} agents, webhooks`);
    const loaded: number[] = [];
    const t0 = performance.now();
    const ids = await Promise.all([...Array(TASKS).keys()].map((i) => lifecycle(fake, 'hooked', agents[i % AGENTS]!, `a${i % AGENTS}`, i, loaded, 50)));
    const wall = (performance.now() - t0) / 1000;
    const lifecyclesPerSec = TASKS / wall;

    log(`${POLL_ONLY} lifecycles without webhooks (the workflow polls from ~10 s, backing off)`);
    const pollSamples = await Promise.all([...Array(POLL_ONLY).keys()].map((i) => pollOnly(fake, 'polled', agents[0]!, i)));

    const repo = fake.fake.repo('hooked', 'app');
    const prsByBranch = new Map<string, number>();
    for (const p of repo.pulls.values()) prsByBranch.set(p.head, (prsByBranch.get(p.head) ?? 0) + 1);
    const duplicatePrs = [...prsByBranch.values()].reduce((n, c) => n + c - 1, 0);
    const shipped = (await stack.pool.query<{ n: string }>("SELECT count(*) AS n FROM issues WHERE stage = 'shipped'")).rows[0]!.n;
    const duplicateMerges = fake.fake.mergesDone - Number(shipped);

    log('the engine floor for the same workflow tasks');
    const wtPerLifecycle = await workflowTasksOf(stack, ids[0]!);
    const floorWtPerSec = await floorWorkflowTasksPerSec(stack, TASKS, Math.max(1, Math.round(wtPerLifecycle / 4)));
    const floorLifecyclesPerSec = floorWtPerSec / wtPerLifecycle;

    log(`${OPEN} open tasks on one worker (sticky cache ${CACHE})`);
    const rssBefore = rssMb(stack.workerPid);
    const rssAt: Array<[number, number]> = [];
    for (let i = 0; i < OPEN; i += 25) {
      await Promise.all([...Array(Math.min(25, OPEN - i)).keys()].map(() => stack.admin.post(`/api/companies/${company.id}/issues`, { title: 'open', status: 'todo' })));
      if ((i + 25) % 500 === 0) rssAt.push([i + 25, round(rssMb(stack.workerPid), 0)]);
    }
    await sleep(3_000);
    const rssAfter = rssMb(stack.workerPid);
    const perThousand = (rssAfter - rssBefore) / (OPEN / 1000);
    // Up to the cache bound every open task is cached; past it, a new one evicts another.
    const firstK = Math.min(OPEN, Number(CACHE));
    const atBound = rssAt.find(([n]) => n >= firstK)?.[1] ?? rssAfter;
    const perCachedMb = (atBound - rssBefore) / firstK;

    const hook = summarize(samples);
    const underLoad = summarize(loaded);
    const poll = summarize(pollSamples);
    printTable([
      ['webhook → availableActions', hook, `one lifecycle at a time; CI failed → fix, approved → ship`],
      ['  the same, under load', underLoad, `${TASKS} lifecycles at once, clients polling every 50 ms`],
      ['poll only → availableActions', poll, 'no webhook at all'],
    ]);
    console.log(`\nlifecycles: ${TASKS} in ${round(wall, 1)} s = ${round(lifecyclesPerSec)}/s; floor for ${wtPerLifecycle} workflow tasks each: ${round(floorLifecyclesPerSec)}/s (ratio ${round(lifecyclesPerSec / floorLifecyclesPerSec)})`);
    console.log(`duplicates: PRs ${duplicatePrs}, merges ${duplicateMerges}`);
    console.log(`worker RSS: ${round(rssEmpty, 0)} MB at start, ${round(rssBefore, 0)} MB after the lifecycles, ${round(rssAfter, 0)} MB with ${OPEN} more open tasks (${round(perThousand, 1)} MB per 1,000 on average; cache ${CACHE})`);
    console.log(`worker RSS as open tasks were added: ${rssAt.map(([n, mb]) => `${n}: ${mb} MB`).join(', ')}; about ${round(perCachedMb * 1000, 0)} KB per cached task up to the bound`);
    return {
      lifecycles: TASKS,
      lifecyclesPerSec: round(lifecyclesPerSec),
      floorLifecyclesPerSec: round(floorLifecyclesPerSec),
      lifecyclesVsFloor: round(lifecyclesPerSec / floorLifecyclesPerSec),
      workflowTasksPerLifecycle: wtPerLifecycle,
      webhookToStateP50Ms: round(hook.p50, 1),
      webhookToStateP99Ms: round(hook.p99, 1),
      webhookToStateUnderLoadP50Ms: round(underLoad.p50, 1),
      webhookToStateUnderLoadP99Ms: round(underLoad.p99, 1),
      pollOnlyToStateP50Ms: round(poll.p50, 0),
      duplicatePrs,
      duplicateMerges,
      workerRssMbEmpty: round(rssEmpty, 0),
      workerRssMbPer1000OpenTasks: round(perThousand, 1),
      workerRssKbPerCachedTask: round(perCachedMb * 1000, 0),
      workerRssMbWithAllOpen: round(rssAfter, 0),
      openTasks: OPEN,
      maxCachedWorkflows: Number(CACHE),
      fakeSchemaViolations: fake.violations.length + fake.fake.hooks.violations.length,
    };
  } catch (err) {
    if (fake.violations.length) console.error('fake GitHub schema violations:', JSON.stringify(fake.violations.slice(0, 3), null, 1).slice(0, 3000));
    if (fake.errors.length) console.error('fake GitHub errors:', fake.errors.slice(0, 3).join('\n'));
    throw err;
  } finally {
    await fake.close();
    await stack.stop();
  }
}
