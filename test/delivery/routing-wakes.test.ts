/**
 * Routing fails closed and recovers when rules arrive; assignment wakes the agent: a signed HTTP wake
 * retried until the target answers, and a process wake (managed local mode) whose run token works and expires.
 */
import assert from 'node:assert/strict';
import { assertHonest } from '../github/support.js';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { signWake } from '../../activities/wakes.js';
import { stackWithFakeGitHub, waitForMine, waitForTask, wireGitHub } from '../support/delivery.js';
import { waitFor } from '../support/wait.js';

const env = stackWithFakeGitHub({ config: { runTokenTtlSeconds: 4 } });

test('no rule matches: backlog, unassigned, unroutable with the reason; a rule arrives: routed and woken', async () => {
  const w = await wireGitHub(env.stack, env.fake, { rules: [] });
  await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Nobody owns this', labels: ['feature'] });
  const issue = await waitFor(
    'the task to be unroutable',
    async () => (await env.stack.admin.get(`/api/companies/${w.companyId}/issues`)).body[0],
    (i) => i?.routing?.state === 'unroutable',
  );
  assert.equal(issue.status, 'backlog');
  assert.equal(issue.assigneeAgentId, null);
  assert.match(issue.routing.reason.summary, /No routing rules/);
  assert.equal(issue.stage, 'routing');
  // Search attributes follow once the projection is written: a moment after the read model.
  const routingState = () => env.stack.client.workflow.getHandle(`issue/${issue.id}`).describe().then((d) => d.typedSearchAttributes.get({ name: 'RoutingState', type: 'KEYWORD' }));
  assert.equal(await waitFor('the RoutingState search attribute', routingState, (v) => v === 'unroutable'), 'unroutable');

  // An operator route with still no rule: the same verdict, recorded again.
  const route = await env.stack.admin.post(`/api/issues/${issue.id}/route`, {});
  assert.equal(route.status, 200, JSON.stringify(route.body));
  assert.equal(route.body.routing.state, 'unroutable');

  const put = await env.stack.admin.request('PUT', `/api/companies/${w.companyId}/routing`, {
    rules: [{ id: 'features', name: 'Features', match: { labelsAny: ['feature'] }, target: { agentIds: [w.agent.id], strategy: 'least_loaded' }, priority: 'high' }],
  });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.rerouted, 1);
  const routed = await waitForTask(w.agent, issue.id, 'routed', (d) => d.assigneeAgentId === w.agent.id && d.status === 'todo');
  assert.equal(routed.priority, 'high', 'the rule set the priority');
  assert.equal(routed.routingReason.strategy, 'least_loaded');
  // The wake activity records the wake (pending), then says how it went (queued): wait for the second.
  const wakes = await waitFor('the wake queued', async () => (await w.agent.http.get('/api/agents/me/wakeups')).body.data, (d: any[]) => d.length > 0 && d[0].status !== 'pending');
  assert.equal(wakes[0].reason, 'issue_assigned');
  assert.equal(wakes[0].status, 'queued', 'no wake target: queued for an agent that polls');

  // Bad rules change nothing.
  const bad = await env.stack.admin.request('PUT', `/api/companies/${w.companyId}/routing`, { rules: [{ id: 'x', name: 'x', match: { titlePattern: '(' }, target: { agentId: w.agent.id } }] });
  assert.equal(bad.status, 422);
  assert.equal(bad.body.code, 'invalid_routing_rule');
  const stranger = await env.stack.admin.request('PUT', `/api/companies/${w.companyId}/routing`, { rules: [{ id: 'x', name: 'x', match: {}, target: { agentId: '00000000-0000-4000-8000-000000000000' } }] });
  assert.equal(stranger.status, 422);
  assert.equal((await env.stack.admin.get(`/api/companies/${w.companyId}/routing`)).body.rules[0].id, 'features');
  assertHonest(env.fake);
});

test('an HTTP wake is signed, retried until the target answers, and deduplicated by wakeId', async () => {
  const w = await wireGitHub(env.stack, env.fake);
  const secret = 'wake-secret-0123456789';
  const seen: Array<{ signature: string; body: string }> = [];
  let failuresLeft = 2;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ signature: String(req.headers['x-switchyard-signature']), body });
      res.statusCode = failuresLeft-- > 0 ? 503 : 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/wake`;
    const set = await env.stack.admin.request('PUT', `/api/agents/${w.agent.id}/wake-target`, { target: { type: 'http', url, secret } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.ok(!JSON.stringify(set.body).includes(secret), 'the secret is not shown back');
    await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Wake me', labels: ['bug'] });
    await waitFor('three attempts, the last answered', async () => seen.length, (n) => n >= 3, 30_000);
    for (const s of seen) assert.equal(s.signature, signWake(secret, s.body), 'HMAC-SHA256 over the body');
    const payloads = seen.map((s) => JSON.parse(s.body));
    assert.equal(new Set(payloads.map((p) => p.wakeId)).size, 1, 'every retry is the same wake');
    assert.equal(payloads[0].reason, 'issue_assigned');
    const wakes = await waitFor('delivered', async () => (await w.agent.http.get('/api/agents/me/wakeups')).body.data, (d: any[]) => d[0]?.status === 'delivered');
    assert.equal(wakes[0].attempts, 3);
  } finally {
    server.close();
  }
});

test('a process wake spawns the agent with a run token that works for its run and expires', async () => {
  const w = await wireGitHub(env.stack, env.fake);
  const dir = await mkdtemp(path.join(tmpdir(), 'sy-agent-'));
  const script = path.join(dir, 'agent.mjs');
  const out = path.join(dir, 'out.json');
  await writeFile(
    script,
    `const h = { authorization: 'Bearer ' + process.env.SWITCHYARD_API_KEY };
const me = await (await fetch(process.env.SWITCHYARD_URL + '/api/agents/me', { headers: h })).json();
const task = await (await fetch(process.env.SWITCHYARD_URL + '/api/tasks/' + process.env.SWITCHYARD_TASK_ID, { headers: h })).json();
const start = await fetch(process.env.SWITCHYARD_URL + '/api/tasks/' + process.env.SWITCHYARD_TASK_ID + '/start', { method: 'POST', headers: { ...h, 'content-type': 'application/json', 'idempotency-key': 'start' }, body: '{}' });
const fs = await import('node:fs');
fs.writeFileSync(${JSON.stringify(out)}, JSON.stringify({ me, task: task.data, start: start.status, env: { reason: process.env.SWITCHYARD_WAKE_REASON, runId: process.env.SWITCHYARD_RUN_ID, key: process.env.SWITCHYARD_API_KEY } }));
`,
  );
  env.stack.config.publicUrl = env.stack.url;
  const set = await env.stack.admin.request('PUT', `/api/agents/${w.agent.id}/wake-target`, { target: { type: 'process', command: process.execPath, args: [script] } });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Spawn me', labels: ['bug'] });
  const result = await waitFor('the agent process to report', () => readFile(out, 'utf8').then(JSON.parse).catch(() => undefined), (r) => !!r, 30_000);
  assert.equal(result.me.id, w.agent.id, 'the run token is the agent');
  assert.equal(result.env.reason, 'issue_assigned');
  assert.equal(result.start, 202, 'the run token may act on the task');
  const task = await waitForTask(w.agent, result.task.id, 'started by the spawned agent', (d) => d.status === 'in_progress');
  const activity = (await env.stack.admin.get(`/api/issues/${task.id}/activity`)).body;
  assert.equal(activity.find((a: any) => a.action === 'issue.checked_out').runId, result.env.runId, 'its changes carry its run id');
  await waitFor('the exit recorded', async () => (await w.agent.http.get('/api/agents/me/wakeups')).body.data[0]?.status, (s) => s === 'exited:0');
  await new Promise((r) => setTimeout(r, 4_500));
  const expired = await env.stack.as(result.env.key).get('/api/agents/me');
  assert.equal(expired.status, 401, 'the run token expired');
  assertHonest(env.fake);
});
