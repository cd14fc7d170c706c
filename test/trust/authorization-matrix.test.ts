/**
 * Issue 13 §3, offered ⇔ accepted, as a generated matrix: every write route of the OpenAPI document
 * (a route added later fails this test until it is classified here) × principals (the assignee,
 * another agent of the company, an agent of another company, an expired run token, the operator) ×
 * task stages. In every cell the API accepts exactly when the caller's availableActions (issue side and
 * task side, read as that caller) offered the route's action; a refusal is a 4xx with a code and
 * changes nothing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { openApiDocument } from '../../api/openapi.js';
import { mintRunToken } from '../../db/agent-keys.js';
import type { HttpClient } from '../support/http.js';
import { ALL_TAKEABLE, seedCompany, type SeededAgent } from '../support/seed.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.stop());

type Principal = 'assignee' | 'other_agent' | 'other_company' | 'expired_token' | 'operator';
const PRINCIPALS: Principal[] = ['assignee', 'other_agent', 'other_company', 'expired_token', 'operator'];
type Stage = 'todo' | 'in_progress' | 'in_ci' | 'ready_to_ship' | 'shipped' | 'blocked' | 'done';
const STAGES: Stage[] = ['todo', 'in_progress', 'in_ci', 'ready_to_ship', 'shipped', 'blocked', 'done'];

interface World { a: SeededAgent; clients: Record<Principal, HttpClient>; ids: Record<Principal, string>; companyId: string }
interface Task { id: string; sha: string }
interface Call { body?: unknown; key?: boolean; path?: (id: string) => string }

/** What each write route is. A task route names its action of availableActions and a valid request. */
type Route =
  | { kind: 'task'; action: string; call: (w: World, p: Principal, t: Task) => Call }
  | { kind: 'not_a_task_action'; why: string };

const SHA = () => randomBytes(20).toString('hex');
const CLOSING = 'Inline result: done. Result: ok. Verified: by hand.';
const ROUTES: Record<string, Route> = {
  // An agent checks out as itself; the operator as the assignee.
  'POST /api/issues/{issueId}/checkout': { kind: 'task', action: 'checkout', call: (w, p) => ({ body: { agentId: w.ids[p], expectedStatuses: ALL_TAKEABLE } }) },
  'POST /api/issues/{issueId}/release': { kind: 'task', action: 'release', call: () => ({ body: { comment: 'giving it up' } }) },
  'POST /api/issues/{issueId}/close': { kind: 'task', action: 'close', call: () => ({ body: { comment: CLOSING } }) },
  'POST /api/issues/{issueId}/heartbeat': { kind: 'task', action: 'heartbeat', call: () => ({ body: {} }) },
  'PATCH /api/issues/{issueId}': { kind: 'task', action: 'update', call: () => ({ body: { title: `renamed ${randomBytes(3).toString('hex')}` } }) },
  'POST /api/issues/{issueId}/comments': { kind: 'task', action: 'comment', call: () => ({ body: { body: 'a word' } }) },
  'PUT /api/issues/{issueId}/documents/{key}': { kind: 'task', action: 'update', call: () => ({ body: { format: 'markdown', body: '# notes' }, path: (id) => `/api/issues/${id}/documents/notes` }) },
  'POST /api/issues/{issueId}/interactions': { kind: 'task', action: 'request_confirmation', call: () => ({ body: { kind: 'request_confirmation', payload: { version: 1, prompt: 'OK?' } } }) },
  'POST /api/issues/{issueId}/children': { kind: 'task', action: 'delegate', call: () => ({ body: { title: `child ${randomBytes(3).toString('hex')}` } }) },
  'POST /api/tasks/{issueId}/start': { kind: 'task', action: 'start', call: () => ({ body: {} }) },
  'POST /api/tasks/{issueId}/blocker': { kind: 'task', action: 'blocker', call: () => ({ body: { reason: 'waiting on a person' } }) },
  'POST /api/tasks/{issueId}/resolve-blocker': { kind: 'task', action: 'resolve_blocker', call: () => ({ body: { resolutionSummary: 'they answered' } }) },
  'POST /api/tasks/{issueId}/submit': { kind: 'task', action: 'submit', call: () => ({ body: artifactSubmit(SHA(), 'running'), key: true }) },
  'POST /api/tasks/{issueId}/ship': { kind: 'task', action: 'ship', call: (_w, _p, t) => ({ body: { expectedHeadSha: t.sha }, key: true }) },
  'POST /api/tasks/{issueId}/rollback': { kind: 'task', action: 'rollback', call: () => ({ body: { reason: 'broke it' }, key: true }) },
  'POST /api/tasks/{issueId}/checks': { kind: 'task', action: 'report_checks', call: () => ({ body: { checks: [{ name: 'ci', status: 'passed' }] } }) },
  'POST /api/tasks/{issueId}/review': { kind: 'task', action: 'record_review', call: () => ({ body: { outcome: 'approved' } }) },
  'POST /api/issues/{issueId}/interactions/{interactionId}/accept': { kind: 'not_a_task_action', why: 'decided per confirmation by its resolver policy (test/api/plan-approval, collab tests)' },
  'POST /api/issues/{issueId}/interactions/{interactionId}/reject': { kind: 'not_a_task_action', why: 'decided per confirmation by its resolver policy' },
  'POST /api/issues/{issueId}/interactions/{interactionId}/withdraw': { kind: 'not_a_task_action', why: 'decided per confirmation: its creator, the assignee or an operator' },
  'POST /api/issues/{issueId}/restore': { kind: 'not_a_task_action', why: 'operator only, for a terminated workflow (test/workflow/cancel-terminate)' },
  'POST /api/issues/{issueId}/route': { kind: 'not_a_task_action', why: 'operator only: routes a task with a source again' },
  'POST /api/companies': { kind: 'not_a_task_action', why: 'operator only' },
  'PATCH /api/companies/{companyId}': { kind: 'not_a_task_action', why: 'operator only' },
  'POST /api/companies/{companyId}/agents': { kind: 'not_a_task_action', why: 'operator only' },
  'POST /api/companies/{companyId}/issues': { kind: 'not_a_task_action', why: 'creating a task (with a parent it is the parent\'s delegate, as /children)' },
  'POST /api/companies/{companyId}/goals': { kind: 'not_a_task_action', why: 'company goals' },
  'PATCH /api/goals/{goalId}': { kind: 'not_a_task_action', why: 'company goals' },
  'DELETE /api/goals/{goalId}': { kind: 'not_a_task_action', why: 'company goals' },
  'PUT /api/companies/{companyId}/routing': { kind: 'not_a_task_action', why: 'operator only' },
  'POST /api/companies/{companyId}/sources': { kind: 'not_a_task_action', why: 'operator only' },
  'PATCH /api/sources/{sourceId}': { kind: 'not_a_task_action', why: 'operator only' },
  'DELETE /api/sources/{sourceId}': { kind: 'not_a_task_action', why: 'operator only' },
  'PATCH /api/companies/{companyId}/sources/{sourceId}': { kind: 'not_a_task_action', why: 'operator only' },
  'DELETE /api/companies/{companyId}/sources/{sourceId}': { kind: 'not_a_task_action', why: 'operator only' },
  'POST /api/sources/{sourceId}/sync': { kind: 'not_a_task_action', why: 'operator only' },
  'PUT /api/agents/{agentId}/wake-target': { kind: 'not_a_task_action', why: 'operator only' },
  'POST /api/agent-api-keys': { kind: 'not_a_task_action', why: 'keys: auth:admin (test/keys)' },
  'POST /api/agent-api-keys/{keyId}/rotate': { kind: 'not_a_task_action', why: 'keys: auth:admin (test/keys)' },
  'DELETE /api/agent-api-keys/{keyId}': { kind: 'not_a_task_action', why: 'keys: auth:admin (test/keys)' },
  'POST /api/event-subscriptions': { kind: 'not_a_task_action', why: 'webhooks out: webhooks:write, the caller\'s company and readable tasks (test/events/subscriptions-api)' },
  'DELETE /api/event-subscriptions/{subscriptionId}': { kind: 'not_a_task_action', why: 'webhooks out: webhooks:write, the caller\'s company (test/events/subscriptions-api)' },
  'POST /api/providers/github/webhooks/{sourceId}': { kind: 'not_a_task_action', why: 'signed by the provider, no key' },
  'POST /api/providers/linear/webhooks/{sourceId}': { kind: 'not_a_task_action', why: 'signed by the provider, no key' },
  'POST /api/providers/circleci/webhooks/{sourceId}': { kind: 'not_a_task_action', why: 'signed by the provider, no key' },
  // Offered only on Linear tasks (never on these): refused everywhere here, 404 linear_source_not_found (test/linear/routes.test.ts drives Linear tasks).
  'POST /api/providers/linear/tasks/{issueId}/comments': { kind: 'task', action: 'sync_linear', call: () => ({ body: { body: 'a word for Linear' }, key: true }) },
  'POST /api/providers/linear/tasks/{issueId}/workflow-state': { kind: 'task', action: 'sync_linear', call: () => ({ body: { stateId: 'state-1' }, key: true }) },
};

function artifactSubmit(sha: string, ci: 'running' | 'passed') {
  return { mode: 'artifact', summary: 'the work', artifacts: [{ type: 'commit', url: `https://git.example/acme/app/commit/${sha}` }], checks: [{ name: 'ci', status: ci }] };
}

function writeRoutes(): string[] {
  const out: string[] = [];
  for (const [path, ops] of Object.entries(openApiDocument.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(ops)) if (['post', 'put', 'patch', 'delete'].includes(method)) out.push(`${method.toUpperCase()} ${path}`);
  }
  return out;
}

test('every write route of the OpenAPI document is classified', () => {
  const unclassified = writeRoutes().filter((r) => !ROUTES[r]);
  assert.deepEqual(unclassified, [], 'a new write route needs its action here (or why it is not a task action)');
  assert.ok(writeRoutes().filter((r) => ROUTES[r]!.kind === 'task').length >= 17);
});

async function world(): Promise<World> {
  const { companyId, agents } = await seedCompany(stack, 2);
  const [a, x] = agents as [SeededAgent, SeededAgent];
  const stranger = (await seedCompany(stack, 1)).agents[0]!;
  // A run token of the assignee's that has expired (as a process wake mints them).
  const expired = await mintRunToken(stack.pool, { agentId: a.id, issueId: null, runId: 'run-expired', ttlSeconds: -60 });
  return { a, companyId, ids: { assignee: a.id, other_agent: x.id, other_company: stranger.id, expired_token: a.id, operator: a.id }, clients: { assignee: a.http, other_agent: x.http, other_company: stranger.http, expired_token: stack.as(expired), operator: stack.admin } };
}

/** A new task of the assignee's, brought to `stage` the way an agent and an operator would. */
async function taskAt(w: World, stage: Stage): Promise<Task> {
  const ok = (r: { status: number; body: unknown }, what: string) => assert.ok(r.status < 300, `${stage}: ${what}: ${r.status} ${JSON.stringify(r.body)}`);
  const created = await stack.admin.post(`/api/companies/${w.companyId}/issues`, { title: `matrix ${stage}`, status: 'todo', assigneeAgentId: w.a.id });
  ok(created, 'create');
  const id = created.body.id as string;
  const sha = SHA();
  const key = () => ({ 'idempotency-key': randomBytes(8).toString('hex') });
  if (stage === 'todo') return { id, sha };
  if (stage === 'blocked') {
    ok(await w.a.http.post(`/api/tasks/${id}/blocker`, { reason: 'needs a person' }), 'block');
    return { id, sha };
  }
  ok(await w.a.http.post(`/api/issues/${id}/checkout`, { agentId: w.a.id, expectedStatuses: ALL_TAKEABLE }), 'checkout');
  if (stage === 'in_progress') return { id, sha };
  if (stage === 'done') {
    ok(await w.a.http.post(`/api/issues/${id}/close`, { comment: CLOSING }), 'close');
    return { id, sha };
  }
  ok(await w.a.http.post(`/api/tasks/${id}/submit`, artifactSubmit(sha, 'running'), key()), 'submit');
  if (stage === 'in_ci') return { id, sha };
  ok(await stack.admin.post(`/api/tasks/${id}/checks`, { headSha: sha, checks: [{ name: 'ci', status: 'passed' }] }), 'checks');
  ok(await stack.admin.post(`/api/tasks/${id}/review`, { outcome: 'approved' }), 'review');
  if (stage === 'ready_to_ship') return { id, sha };
  ok(await w.a.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha }, key()), 'ship');
  return { id, sha };
}

/** What the principal is offered on the task, both halves; nothing when it cannot read it. */
async function offered(w: World, p: Principal, id: string): Promise<Set<string>> {
  const [issue, task] = await Promise.all([w.clients[p].get(`/api/issues/${id}`), w.clients[p].get(`/api/tasks/${id}`)]);
  if (issue.status !== 200) return new Set();
  return new Set([...(issue.body.availableActions as string[]), ...(task.body.availableActions as string[])]);
}

/** The task as it stands (operator's read): what a refused request must leave alone. */
async function snapshot(id: string) {
  const issue = (await stack.admin.get(`/api/issues/${id}`)).body;
  const comments = (await stack.admin.get(`/api/issues/${id}/comments`)).body;
  const children = (await stack.admin.get(`/api/companies/${issue.companyId}/issues?parentId=${id}`)).body;
  return { version: issue.version, status: issue.status, assignee: issue.assigneeAgentId, checkout: issue.checkout?.agentId ?? null, comments: comments.length, children: children.length };
}

async function send(w: World, p: Principal, route: string, t: Task) {
  const r = ROUTES[route] as Extract<Route, { kind: 'task' }>;
  const call = r.call(w, p, t);
  const [method, template] = route.split(' ') as [string, string];
  const body = call.body;
  const path = call.path ? call.path(t.id) : template.replace('{issueId}', t.id);
  const headers: Record<string, string> = call.key ? { 'idempotency-key': randomBytes(8).toString('hex') } : {};
  return w.clients[p].request(method, path, body, headers);
}

/** Runs `jobs` at most `n` at a time (CI has two shared cores). */
async function limited<T>(n: number, jobs: Array<() => Promise<T>>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all([...Array(n)].map(async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  }));
  return out;
}

const taskRoutes = () => writeRoutes().filter((r) => ROUTES[r]?.kind === 'task');

for (const stage of STAGES) {
  test(`stage ${stage}: every task write route × every principal is accepted exactly when offered`, { timeout: 300_000 }, async () => {
    const w = await world();
    const base = await taskAt(w, stage);
    const offers = Object.fromEntries(await Promise.all(PRINCIPALS.map(async (p) => [p, await offered(w, p, base.id)] as const))) as Record<Principal, Set<string>>;
    const before = await snapshot(base.id);
    const cells = taskRoutes().flatMap((route) => PRINCIPALS.map((p) => ({ route, p, action: (ROUTES[route] as Extract<Route, { kind: 'task' }>).action })));
    const refusedCells = cells.filter((c) => !offers[c.p].has(c.action));
    const acceptedCells = cells.filter((c) => offers[c.p].has(c.action));
    assert.ok(acceptedCells.some((c) => c.p === 'operator' || c.p === 'assignee'), 'something is offered at every stage');

    // Not offered: refused with a code, whoever asks, and the task is as it was.
    const refusals = await limited(4, refusedCells.map((c) => () => send(w, c.p, c.route, base)));
    refusedCells.forEach((c, i) => {
      const r = refusals[i]!;
      const where = `${stage} · ${c.p} · ${c.route} (not offered: ${[...offers[c.p]].join(',') || 'nothing'})`;
      // The one documented exception: a shipped task's assignee (or an operator) asking to ship the same head again
      // hears the same success; nothing changes (checked below).
      if (c.action === 'ship' && stage === 'shipped' && (c.p === 'assignee' || c.p === 'operator') && r.status === 202) return;
      assert.ok(r.status >= 400 && r.status < 500, `${where}: answered ${r.status} ${JSON.stringify(r.body)}`);
      const code = r.body?.code ?? r.body?.error?.code;
      assert.equal(typeof code, 'string', `${where}: a stable code`);
      // Another company's task does not exist for it (the operator-only routes refuse any agent key first).
      if (c.p === 'other_company') assert.ok(r.status === 404 || (code === 'forbidden' && ['report_checks', 'record_review'].includes(c.action)), `${where}: ${r.status} ${code}`);
      if (c.p === 'expired_token') assert.equal(r.status, 401, where);
      // Another agent's task: whose it is comes first (a checkout keeps the contracts' checkout_conflict).
      if (c.p === 'other_agent' && r.status !== 400) {
        const expected = ['checkout', 'start'].includes(c.action) ? ['checkout_conflict', 'not_owner'] : ['not_owner', 'forbidden'];
        assert.ok(expected.includes(code), `${where}: ${code}, expected one of ${expected}`);
      }
    });
    assert.deepEqual(await snapshot(base.id), before, `${stage}: refused requests changed nothing`);

    // Offered: accepted, each on its own task at this stage.
    const answers = await limited(3, acceptedCells.map((c) => async () => {
      const t = await taskAt(w, stage);
      return { c, r: await send(w, c.p, c.route, t) };
    }));
    for (const { c, r } of answers) {
      assert.ok(r.status >= 200 && r.status < 300, `${stage} · ${c.p} · ${c.route} was offered (${c.action}) but answered ${r.status} ${JSON.stringify(r.body)}`);
    }
  });
}

test('the reported takeover: once A submits, X cannot reassign, reopen, cancel or ship A\'s task; nor block A\'s todo task', async () => {
  const w = await world();
  const x = w.clients.other_agent;
  const submitted = await taskAt(w, 'in_ci');
  for (const patch of [{ assigneeAgentId: w.ids.other_agent }, { status: 'todo' }, { status: 'cancelled' }]) {
    const r = await x.patch(`/api/issues/${submitted.id}`, patch);
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal(r.body.code, 'not_owner');
    assert.ok(Array.isArray(r.body.details.availableActions), 'the refusal says what X may do');
  }
  const shipped = await taskAt(w, 'shipped');
  const again = await x.post(`/api/tasks/${shipped.id}/ship`, { expectedHeadSha: shipped.sha }, { 'idempotency-key': 'x-ship' });
  assert.equal(again.status, 409, 'a replay it was never allowed to make');
  const todo = await taskAt(w, 'todo');
  assert.equal((await x.post(`/api/tasks/${todo.id}/blocker`, { reason: 'mine now' })).status, 409);
  assert.equal((await stack.admin.get(`/api/issues/${todo.id}`)).body.status, 'todo');
  assert.equal((await stack.admin.get(`/api/issues/${submitted.id}`)).body.assigneeAgentId, w.a.id);
});

test('a confirmation\'s idempotencyKey is its caller\'s: another agent sending the same key and body gets 409, not the first one\'s confirmation (§6)', async () => {
  const w = await world();
  const open = (await stack.admin.post(`/api/companies/${w.companyId}/issues`, { title: 'nobody holds it', status: 'todo' })).body;
  const ask = { kind: 'request_confirmation', idempotencyKey: 'same-key', payload: { version: 1, prompt: 'Proceed?' } };
  const first = await w.clients.assignee.post(`/api/issues/${open.id}/interactions`, ask);
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const other = await w.clients.other_agent.post(`/api/issues/${open.id}/interactions`, ask);
  assert.equal(other.status, 409, JSON.stringify(other.body));
  assert.equal(other.body.code, 'idempotency_key_reused');
  const retry = await w.clients.assignee.post(`/api/issues/${open.id}/interactions`, ask);
  assert.equal(retry.status, 201);
  assert.equal(retry.body.id, first.body.id, 'its own retry is the same confirmation');
});
