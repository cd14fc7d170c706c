/**
 * Issue 14 §2 and §6: AgentRail's two Linear task routes (its SDK's createLinearTaskComment and
 * updateLinearTaskWorkflowState) against a Linear-born task taken in by webhook: the answers' shapes,
 * Idempotency-Key (replay, 409, 400s), the body's bounds, who may ask, the status table, a move to the
 * completed state before ship (the rule of a person closing the issue), a GitHub-born task (404 with
 * repair_task_source), Linear's rate limit (429 with Retry-After, or waited out), Linear down (503,
 * nothing recorded) and 20 concurrent identical requests (one Linear comment).
 */
import assert from 'node:assert/strict';
import { resetLinearGates } from '../../activities/linear/index.js';
import { test } from 'node:test';
import type { FakeIssue } from '../fakes/linear/model.js';
import { waitForTask, wireGitHub } from '../support/delivery.js';
import type { HttpClient } from '../support/http.js';
import { stackWithAllFakes, until, wireLinear, type WiredLinear } from '../support/linear-delivery.js';
import { seedCompany } from '../support/seed.js';
import { waitFor } from '../support/wait.js';
import { assertHonest } from './support.js';

// Nothing here depends on the request deadline (a slow write answers 503 either way); a loaded machine gets room.
const env = stackWithAllFakes({ config: { temporalCallTimeoutMs: 30_000 } });

/** Intake, routing and write-back on a loaded 2-core machine. */
const PATIENCE = 60_000;

const ASSIGNED = 'assigned this issue to agent';

/** A Linear issue taken in by webhook and routed to the agent; the assignment write-back already made (so nothing else talks to Linear with this key). */
async function linearTask(w: WiredLinear, title: string): Promise<{ id: string; issue: FakeIssue }> {
  const ln = env.linear.fake;
  const issue = await ln.createIssue({ teamKey: w.teamKey, title, description: `About ${title}`, priority: 3 });
  const delivery = ln.hooks.deliveries.find((d) => d.event === 'Issue' && d.action === 'create' && d.body.includes(issue.id));
  assert.equal(delivery?.status, 202, `the webhook for ${title} was taken`);
  const item = await waitFor(`the claim of ${title}`, async () => (await env.stack.pool.query<{ issue_id: string }>('SELECT issue_id FROM source_items WHERE source_key = $1', [`${w.companyId}|linear:${issue.id}`])).rows, (r) => r.length === 1, PATIENCE);
  const id = item[0]!.issue_id;
  await waitForTask(w.agent, id, `${title} routed to the agent`, (d) => d.assigneeAgentId === w.agent.id && d.availableActions.includes('sync_linear'), PATIENCE);
  await until(() => ln.comments(issue.id).some((c) => c.body.includes(ASSIGNED)), `the assignment write-back on ${title}`, PATIENCE);
  return { id, issue };
}

const commentOn = (who: HttpClient, id: string, body: unknown, key?: string) =>
  who.post(`/api/providers/linear/tasks/${id}/comments`, body, key === undefined ? {} : { 'idempotency-key': key });
const moveTo = (who: HttpClient, id: string, stateId: unknown, key: string) => who.post(`/api/providers/linear/tasks/${id}/workflow-state`, { stateId }, { 'idempotency-key': key });

/** Linear comments on the issue with exactly this body. */
const linearComments = (issueId: string, body: string) => env.linear.fake.comments(issueId).filter((c) => c.body === body);

/** AgentRail's nested error shape, with availableActions always in details. */
function assertAgentRailError(res: { status: number; body: any }, status: number, code: string): any {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body?.error?.code, code, JSON.stringify(res.body));
  assert.equal(typeof res.body.error.message, 'string');
  assert.ok(Array.isArray(res.body.error.details?.availableActions), `details.availableActions in ${JSON.stringify(res.body)}`);
  return res.body.error;
}

async function activityTypes(id: string): Promise<string[]> {
  const res = await env.stack.admin.get(`/api/issues/${id}/activity`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const list: any[] = Array.isArray(res.body) ? res.body : res.body.data;
  return list.map((a) => a.action ?? a.type);
}

test('comment: 201 with AgentRail\'s shape and the comment in Linear; the same key and body replay it (one Linear comment), another body is 409; key and body bounds are 400', async () => {
  const w = await wireLinear(env);
  const { id, issue } = await linearTask(w, 'Comment route');
  const agent = w.agent.http;
  const text = 'Picked this up; a fix is on its way.';

  const first = await commentOn(agent, id, { body: text }, 'comment-key-0001');
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const data = first.body.data;
  assert.equal(data.taskId, id);
  assert.equal(data.linearIssueId, issue.id);
  assert.equal(data.success, true);
  assert.ok(Number.isFinite(Date.parse(data.syncedAt)), 'syncedAt is a timestamp');
  assert.ok(Array.isArray(data.availableActions) && data.availableActions.includes('get_task'));
  assert.deepEqual(first.body.availableActions, data.availableActions, 'availableActions at the top level too');
  const made = linearComments(issue.id, text);
  assert.equal(made.length, 1, 'the comment is in Linear');
  assert.equal(data.commentId, made[0]!.id, 'the answer names the comment Linear made');
  assert.equal(typeof data.commentUrl, 'string');
  assert.ok(data.commentUrl.includes(made[0]!.id.slice(0, 8)), `commentUrl ${data.commentUrl} points at the comment`);
  assert.ok((await activityTypes(id)).includes('task.linear_commented'), 'the write is recorded on the task');

  const again = await commentOn(agent, id, { body: text }, 'comment-key-0001');
  assert.equal(again.status, 201, JSON.stringify(again.body));
  assert.deepEqual(again.body, first.body, 'the same key and body: the same answer');
  assert.equal(linearComments(issue.id, text).length, 1, 'and no second Linear comment');

  assertAgentRailError(await commentOn(agent, id, { body: 'Something else entirely.' }, 'comment-key-0001'), 409, 'idempotency_key_reused');
  assertAgentRailError(await commentOn(agent, id, { body: 'No key at all.' }), 400, 'validation_error');
  assertAgentRailError(await commentOn(agent, id, { body: 'Short key.' }, 'k-1234'), 400, 'validation_error');
  assertAgentRailError(await commentOn(agent, id, { body: '' }, 'comment-key-empty'), 400, 'validation_error');
  assertAgentRailError(await commentOn(agent, id, { body: '  \n\t ' }, 'comment-key-blank'), 400, 'validation_error');
  assertAgentRailError(await commentOn(agent, id, {}, 'comment-key-nobody'), 400, 'validation_error');
  const tooLong = 'y'.repeat(10_001);
  assertAgentRailError(await commentOn(agent, id, { body: tooLong }, 'comment-key-long1'), 400, 'validation_error');
  assert.equal(linearComments(issue.id, tooLong).length, 0);
  assert.equal(linearComments(issue.id, 'No key at all.').length + linearComments(issue.id, 'Short key.').length + linearComments(issue.id, 'Something else entirely.').length, 0, 'no refused request reached Linear');

  const longest = 'x'.repeat(10_000);
  const fits = await commentOn(agent, id, { body: longest }, 'comment-key-long2');
  assert.equal(fits.status, 201, JSON.stringify(fits.body).slice(0, 500));
  assert.equal(linearComments(issue.id, longest).length, 1, '10,000 characters reach Linear whole');
  assertHonest(env.linear);
});

test('workflow-state: 200 with stateName and agentRailStatus per the table; an agent\'s move to a completed or canceled state is 422 invalid_transition (nothing moves); an operator\'s completed state before ship cancels the task as a person closing the issue would; an unknown state is 502 upstream_error', async () => {
  const w = await wireLinear(env);
  const ln = env.linear.fake;
  const { id, issue } = await linearTask(w, 'State route');
  const agent = w.agent.http;
  const state = (name: string) => ln.stateByName(issue.teamId, name);

  for (const [name, status, key] of [['In Progress', 'in_progress', 'state-key-0001'], ['Blocked', 'blocked', 'state-key-0002'], ['Todo', 'todo', 'state-key-0003']] as const) {
    const res = await moveTo(agent, id, ` ${state(name).id} `, key);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const data = res.body.data;
    assert.equal(data.taskId, id);
    assert.equal(data.linearIssueId, issue.id);
    assert.equal(data.stateId, state(name).id, 'the state Linear answered (the request trimmed)');
    assert.equal(data.stateName, name);
    assert.equal(data.agentRailStatus, status, `${name} is ${status}`);
    assert.equal(data.success, true);
    assert.ok(Number.isFinite(Date.parse(data.syncedAt)));
    assert.ok(Array.isArray(res.body.availableActions));
    assert.equal(ln.issue(issue.id)!.stateId, state(name).id, `the Linear issue is in ${name}`);
    const { rows } = await env.stack.pool.query<{ ws: any; status: string }>(`SELECT lifecycle->'source'->'workflowState' AS ws, status FROM issues WHERE id = $1`, [id]);
    assert.equal(rows[0]!.ws?.id, state(name).id, 'the task keeps the state it is in');
    // An open state is no lifecycle verdict: our status is the task's own (AgentRail overwrites it; ours follows submit/ship).
    assert.equal(rows[0]!.status, 'todo');
  }
  const changed = (await activityTypes(id)).filter((a) => a === 'task.linear_state_changed');
  assert.equal(changed.length, 3, 'each move recorded on the task');

  const unknown = await moveTo(agent, id, '00000000-0000-4000-8000-000000000000', 'state-key-0004');
  const err = assertAgentRailError(unknown, 502, 'upstream_error');
  assert.match(err.message, /Linear/);
  assert.deepEqual(err.details.availableActions, ['get_task'], 'a refusal Linear will repeat: read the task, do not retry');
  assert.equal(ln.issue(issue.id)!.stateId, state('Todo').id, 'nothing moved');

  // An agent does not close its task by moving the issue: a completed or canceled state is refused before Linear changes.
  for (const [name, key] of [['Done', 'state-key-agent-done'], ['Canceled', 'state-key-agent-cancel']] as const) {
    const refused = assertAgentRailError(await moveTo(agent, id, state(name).id, key), 422, 'invalid_transition');
    assert.ok(refused.details.availableActions.includes('ship'), JSON.stringify(refused));
    assert.equal(ln.issue(issue.id)!.stateId, state('Todo').id, `the agent's move to ${name} changed nothing in Linear`);
    assert.equal((await env.stack.admin.get(`/api/tasks/${id}`)).body.data.status, 'todo', `nor the task (${name})`);
  }

  // An operator's move to the completed state before ship: the same rule as a person closing the issue upstream, so the task is cancelled, saying so.
  const done = await moveTo(env.stack.admin, id, state('Done').id, 'state-key-0005');
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.equal(done.body.data.stateName, 'Done');
  assert.equal(done.body.data.agentRailStatus, 'done');
  assert.equal(ln.issue(issue.id)!.stateId, state('Done').id);
  const cancelled = await waitFor('the task cancelled', async () => (await env.stack.admin.get(`/api/tasks/${id}`)).body?.data, (d: any) => d?.status === 'cancelled', PATIENCE);
  assert.deepEqual(cancelled.availableActions.filter((a: string) => a === 'sync_linear'), [], 'a finished task offers no more Linear writes');
  const comments = (await env.stack.admin.get(`/api/issues/${id}/comments?order=asc`)).body as any[];
  assert.ok(comments.some((c) => /was closed before this task shipped: the task is cancelled/.test(c.body)), 'the upstream-close rule, in its own words');
  const { rows } = await env.stack.pool.query<{ details: any }>(`SELECT details FROM activity_log WHERE issue_id = $1 AND action = 'task.linear_state_changed' ORDER BY seq DESC LIMIT 1`, [id]);
  assert.deepEqual([rows[0]!.details.stateName, rows[0]!.details.from, rows[0]!.details.to], ['Done', 'todo', 'cancelled'], 'the move recorded with what it did to the task');
  const upstream = await env.stack.pool.query<{ details: any }>(`SELECT details FROM activity_log WHERE issue_id = $1 AND action = 'task.upstream_changed' ORDER BY seq DESC LIMIT 1`, [id]);
  assert.equal(upstream.rows[0]?.details.upstreamState, 'closed', 'applied as an upstream close (domain/delivery.ts applyUpstream)');
  assertAgentRailError(await moveTo(agent, id, state('In Progress').id, 'state-key-0006'), 409, 'status_conflict');
  assertHonest(env.linear);
});

test('who may ask: the holder and the operator; another agent of the company is 409 not_owner, an agent of another company 404; a GitHub-born task is 404 linear_source_not_found and offers no sync_linear', async () => {
  const w = await wireLinear(env, { agents: 2 });
  const { id, issue } = await linearTask(w, 'Who may ask');
  const other = w.agents[1]!;

  const mine = (await w.agent.http.get(`/api/tasks/${id}`)).body.data;
  assert.ok(mine.availableActions.includes('sync_linear'), 'the holder of a Linear task is offered sync_linear');
  const theirs = (await other.http.get(`/api/tasks/${id}`)).body.data;
  assert.ok(!theirs.availableActions.includes('sync_linear'), 'another agent is not');

  const notOwner = assertAgentRailError(await commentOn(other.http, id, { body: 'Not mine to say.' }, 'other-agent-01'), 409, 'not_owner');
  assert.ok(!notOwner.details.availableActions.includes('sync_linear'));
  assertAgentRailError(await moveTo(other.http, id, env.linear.fake.stateByName(issue.teamId, 'In Progress').id, 'other-agent-02'), 409, 'not_owner');

  const { agents: [stranger] } = await seedCompany(env.stack, 1);
  assertAgentRailError(await commentOn(stranger!.http, id, { body: 'Not my company.' }, 'stranger-key-01'), 404, 'not_found');
  assertAgentRailError(await moveTo(stranger!.http, id, env.linear.fake.stateByName(issue.teamId, 'In Progress').id, 'stranger-key-02'), 404, 'not_found');
  assert.equal(linearComments(issue.id, 'Not mine to say.').length + linearComments(issue.id, 'Not my company.').length, 0);

  const byOperator = await commentOn(env.stack.admin, id, { body: 'Operator note.' }, 'operator-key-01');
  assert.equal(byOperator.status, 201, JSON.stringify(byOperator.body));
  assert.equal(linearComments(issue.id, 'Operator note.').length, 1);
  const opMove = await moveTo(env.stack.admin, id, env.linear.fake.stateByName(issue.teamId, 'In Progress').id, 'operator-key-02');
  assert.equal(opMove.status, 200, JSON.stringify(opMove.body));
  assert.equal(opMove.body.data.agentRailStatus, 'in_progress');

  // A GitHub-born task, asked by its holder: AgentRail's 404 and the action that would repair it.
  const gh = await wireGitHub(env.stack, env.github, { webhooks: false });
  await env.github.fake.openIssue(gh.owner, gh.repo, { title: 'Born on GitHub', labels: ['bug'] });
  const polled = await env.stack.admin.post(`/api/sources/${gh.sourceId}/sync`, {});
  assert.equal(polled.status, 200, JSON.stringify(polled.body));
  const ghTask = await waitFor('the GitHub task routed', async () => (await gh.agent.http.get('/api/tasks/mine')).body?.data ?? [], (d: any[]) => d.some((t) => t.title === 'Born on GitHub'), PATIENCE);
  const ghId = ghTask.find((t: any) => t.title === 'Born on GitHub').id;
  const ghDetail = await waitForTask(gh.agent, ghId, 'the GitHub task held by its agent', (d) => d.assigneeAgentId === gh.agent.id && d.availableActions.includes('submit'), PATIENCE);
  assert.ok(!ghDetail.availableActions.includes('sync_linear'), 'no sync_linear on a GitHub-born task');
  for (const res of [await commentOn(gh.agent.http, ghId, { body: 'Into the void.' }, 'github-task-01'), await moveTo(gh.agent.http, ghId, 'some-state', 'github-task-02')]) {
    const e = assertAgentRailError(res, 404, 'linear_source_not_found');
    assert.equal(e.message, 'Linear issue source not found for task.');
    assert.deepEqual(e.details.availableActions, ['repair_task_source']);
  }
  // An operator-created task with no source at all: the same answer.
  const plain = await env.stack.admin.post(`/api/companies/${w.companyId}/issues`, { title: 'No source', status: 'todo', assigneeAgentId: w.agent.id });
  assert.equal(plain.status, 201, JSON.stringify(plain.body));
  const e = assertAgentRailError(await commentOn(w.agent.http, plain.body.id, { body: 'Nowhere.' }, 'no-source-key-01'), 404, 'linear_source_not_found');
  assert.deepEqual(e.details.availableActions, ['repair_task_source']);
  assertHonest(env.linear);
});

test('Linear\'s rate limit: a reset far away is 429 rate_limited with Retry-After (nothing written); one that resets in a second is waited out and answered 201', async () => {
  const ln = env.linear.fake;
  const far = await wireLinear(env);
  const a = await linearTask(far, 'Rate limited far');
  ln.inject({ kind: 'ratelimited', times: 1, resetInMs: 120_000, apiKey: far.secrets.linearKey });
  const limited = await commentOn(far.agent.http, a.id, { body: 'Too soon.' }, 'rate-far-0001');
  const err = assertAgentRailError(limited, 429, 'rate_limited');
  const retryAfter = Number(limited.headers.get('retry-after'));
  assert.ok(retryAfter >= 100 && retryAfter <= 121, `Retry-After ${limited.headers.get('retry-after')} is when Linear's window resets`);
  assert.ok(err.details.availableActions.includes('retry'));
  assert.equal(linearComments(a.issue.id, 'Too soon.').length, 0);
  assert.ok(!(await activityTypes(a.id)).includes('task.linear_commented'), 'nothing recorded on the task');
  // The window passes (the worker's gate for the key is forgotten, as after 120 s): AgentRail's SDK retries a 429
  // with the same key, and that retry is a new attempt, not a replay of the refusal; then it is the key's answer.
  resetLinearGates();
  const retried = await commentOn(far.agent.http, a.id, { body: 'Too soon.' }, 'rate-far-0001');
  assert.equal(retried.status, 201, JSON.stringify(retried.body));
  const replayed = await commentOn(far.agent.http, a.id, { body: 'Too soon.' }, 'rate-far-0001');
  assert.equal(replayed.status, 201);
  assert.deepEqual(replayed.body, retried.body, 'now the key answers as it did');
  assert.equal(linearComments(a.issue.id, 'Too soon.').length, 1, 'one comment for the key, whatever the retries');

  // Another key (its own budget): a window that resets in about a second is sat out inside the call.
  const near = await wireLinear(env);
  const b = await linearTask(near, 'Rate limited near');
  const before = ln.requests.length;
  ln.inject({ kind: 'ratelimited', times: 1, resetInMs: 1_000, apiKey: near.secrets.linearKey });
  const started = Date.now();
  const waited = await commentOn(near.agent.http, b.id, { body: 'Worth the wait.' }, 'rate-near-0001');
  assert.equal(waited.status, 201, JSON.stringify(waited.body));
  assert.equal(linearComments(b.issue.id, 'Worth the wait.').length, 1);
  const mine = ln.requests.slice(before).filter((r) => r.operationName === 'SwitchyardLinearComment' && (r.variables.input as { body?: string } | undefined)?.body === 'Worth the wait.');
  assert.deepEqual(mine.map((r) => r.outcome), ['injected:ratelimited', 'ok'], 'limited once, then sent again after the reset');
  assert.ok(mine[1]!.at - mine[0]!.at >= 900, `the retry waited for the reset (${mine[1]!.at - mine[0]!.at} ms)`);
  assert.ok(Date.now() - started >= 900);
  assertHonest(env.linear);
});

test('Linear down: 503 provider_unavailable once the retries are spent, nothing recorded on the task and nothing in Linear', async () => {
  const ln = env.linear.fake;
  const w = await wireLinear(env);
  const { id, issue } = await linearTask(w, 'Linear is down');
  const version = (await env.stack.admin.get(`/api/issues/${id}`)).body.version;
  ln.inject({ kind: 'server', times: 50, apiKey: w.secrets.linearKey });
  try {
    const res = await commentOn(w.agent.http, id, { body: 'Into the outage.' }, 'outage-key-0001');
    assertAgentRailError(res, 503, 'provider_unavailable');
    assert.ok(res.headers.get('retry-after'), 'a 503 says when to come back');
    // Tried more than once (the activity's three attempts; past the deadline they go on): only then is Linear back.
    const tried = () => ln.requests.filter((r) => r.operationName === 'SwitchyardLinearComment' && (r.variables.input as { body?: string } | undefined)?.body === 'Into the outage.');
    await until(() => tried().length >= 3, 'the write\'s three attempts', PATIENCE);
    assert.deepEqual([...new Set(tried().map((r) => r.outcome))], ['injected:server']);
  } finally {
    ln.injected.splice(0, ln.injected.length);
  }
  assert.equal(linearComments(issue.id, 'Into the outage.').length, 0);
  assert.ok(!(await activityTypes(id)).includes('task.linear_commented'), 'nothing recorded on the task');
  assert.equal((await env.stack.admin.get(`/api/issues/${id}`)).body.version, version, 'the task did not change');
  // Linear back: a new key goes through; and so does the SDK's retry of the refused request with its same key
  // (a new attempt: at most one more 503 if the first answer was the deadline's, before the attempt had given up).
  const after = await commentOn(w.agent.http, id, { body: 'Linear is back.' }, 'outage-key-0002');
  assert.equal(after.status, 201, JSON.stringify(after.body));
  assert.equal(linearComments(issue.id, 'Linear is back.').length, 1);
  let again = await commentOn(w.agent.http, id, { body: 'Into the outage.' }, 'outage-key-0001');
  if (again.status === 503) again = await commentOn(w.agent.http, id, { body: 'Into the outage.' }, 'outage-key-0001');
  assert.equal(again.status, 201, JSON.stringify(again.body));
  assert.equal(linearComments(issue.id, 'Into the outage.').length, 1, 'the key\'s comment, once');
  assertHonest(env.linear);
});

test('20 concurrent identical requests with one key: all the same 2xx answer, exactly one Linear comment', async () => {
  const w = await wireLinear(env);
  const { id, issue } = await linearTask(w, 'Concurrent comments');
  const text = 'Said once, however often it is sent.';
  const answers = await Promise.all(Array.from({ length: 20 }, () => commentOn(w.agent.http, id, { body: text }, 'concurrent-key-01')));
  for (const a of answers) assert.equal(a.status, 201, JSON.stringify(a.body));
  // The same answer, field for field (a replay read back from Postgres's jsonb may order the keys differently).
  const canonical = (v: unknown): unknown => (Array.isArray(v) ? v.map(canonical) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y)).map(([k, x]) => [k, canonical(x)])) : v);
  const bodies = new Set(answers.map((a) => JSON.stringify(canonical(a.body))));
  assert.equal(bodies.size, 1, `one answer for one key: ${[...bodies].join('\n')}`);
  assert.equal(linearComments(issue.id, text).length, 1, 'exactly one Linear comment');
  assert.equal(answers[0]!.body.data.commentId, linearComments(issue.id, text)[0]!.id);
  assert.equal((await activityTypes(id)).filter((a) => a === 'task.linear_commented').length, 1, 'recorded on the task once');
  assertHonest(env.linear);
});

test('AgentRail\'s baseUrl without /api: a JSON 404 in AgentRail\'s nested shape that says where the API is (not Express\'s HTML page)', async () => {
  for (const path of ['/tasks/mine', '/providers/linear/tasks/x/comments']) {
    const res = await fetch(`${env.stack.url}${path}`, { method: path.endsWith('comments') ? 'POST' : 'GET', headers: { authorization: 'Bearer whatever' } });
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = (await res.json()) as any;
    assert.equal(body.error.code, 'not_found', JSON.stringify(body));
    assert.match(body.error.message, /under \/api/);
    assert.ok(Array.isArray(body.error.details.availableActions));
  }
  const other = await fetch(`${env.stack.url}/nowhere`);
  assert.equal(other.status, 404);
  assert.equal(((await other.json()) as any).code, 'not_found', 'other paths keep the flat shape');
});

test('the Linear identifier (ENG-42) names the task in routes, and follows the issue when it moves team', async () => {
  const ln = env.linear.fake;
  const w = await wireLinear(env);
  const { id, issue } = await linearTask(w, 'Known by its Linear name');
  const linearId = ln.identifier(issue);
  const byName = await w.agent.http.get(`/api/tasks/${linearId}`);
  assert.equal(byName.status, 200, JSON.stringify(byName.body));
  assert.equal(byName.body.data.id, id);
  const commented = await commentOn(w.agent.http, linearId.toLowerCase(), { body: 'By its Linear name.' }, 'by-linear-name-1');
  assert.equal(commented.status, 201, JSON.stringify(commented.body));
  assert.equal(commented.body.data.taskId, id);

  // Moved to another team: a new identifier, the same issue (its uuid) and the same task. (An organization-wide
  // webhook, as Linear offers: a team's own webhook would not hear of the issue once it is in another team.)
  ln.subscribe({ url: `${env.stack.url}/api/providers/linear/webhooks/${w.linearSourceId}`, secret: w.secrets.linearWebhook });
  const other = `M${linearId.slice(0, 3).replace(/[^A-Z]/g, 'X')}`;
  ln.createTeam({ key: other, name: 'Other team' });
  await ln.updateIssue(issue.id, { teamKey: other });
  const moved = ln.identifier(ln.issue(issue.id)!);
  assert.notEqual(moved, linearId);
  const found = await waitFor('the new identifier', async () => (await w.agent.http.get(`/api/tasks/${moved}`)).body?.data?.id, (x) => x === id, PATIENCE);
  assert.equal(found, id);
  const stranger = (await seedCompany(env.stack, 1)).agents[0]!;
  assert.equal((await stranger.http.get(`/api/tasks/${moved}`)).status, 404, 'another company does not find it by name');
});
