/** Idempotency-Key: replay, reuse with another body, scope per caller, concurrent retries. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../support/stack.js';
import { ALL_TAKEABLE, createIssue, seedCompany, type SeededAgent } from '../support/seed.js';

describe('Idempotency-Key', () => {
  let stack: Stack;
  let companyId: string;
  let a: SeededAgent;
  let b: SeededAgent;

  before(async () => {
    stack = await startStack();
    const seeded = await seedCompany(stack, 2);
    companyId = seeded.companyId;
    [a, b] = seeded.agents as [SeededAgent, SeededAgent];
  });
  after(() => stack.stop());

  it('same key and body: the same status and body again, with no second effect', async () => {
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    await a.http.post(`/api/issues/${issue.id}/checkout`, { agentId: a.id, expectedStatuses: ALL_TAKEABLE });
    const key = { 'Idempotency-Key': 'comment-1' };
    const first = await a.http.post(`/api/issues/${issue.id}/comments`, { body: 'once' }, key);
    const second = await a.http.post(`/api/issues/${issue.id}/comments`, { body: 'once' }, key);
    assert.equal(first.status, 201);
    assert.equal(second.status, 201);
    assert.deepEqual(second.body, first.body);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal((await a.http.get(`/api/issues/${issue.id}/comments`)).body.length, 1);
  });

  it('same key with a different body: 409 idempotency_key_reused, nothing changes', async () => {
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    await a.http.post(`/api/issues/${issue.id}/checkout`, { agentId: a.id, expectedStatuses: ALL_TAKEABLE });
    const key = { 'Idempotency-Key': 'patch-1' };
    assert.equal((await a.http.patch(`/api/issues/${issue.id}`, { priority: 'high' }, key)).status, 200);
    const reused = await a.http.patch(`/api/issues/${issue.id}`, { priority: 'low' }, key);
    assert.equal(reused.status, 409);
    assert.equal(reused.body.code, 'idempotency_key_reused');
    assert.equal((await a.http.get(`/api/issues/${issue.id}`)).body.priority, 'high');
  });

  it('keys are scoped to the caller: another agent may use the same key for its own request', async () => {
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    const key = { 'Idempotency-Key': 'shared-key' };
    const fromA = await a.http.post(`/api/issues/${issue.id}/comments`, { body: 'from a' }, key);
    const fromB = await b.http.post(`/api/issues/${issue.id}/comments`, { body: 'from b' }, key);
    assert.equal(fromA.status, 201);
    assert.equal(fromB.status, 201);
    assert.notEqual(fromA.body.id, fromB.body.id);
  });

  it('a refusal is replayed too, so a retry cannot turn a 409 into a different answer', async () => {
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    await b.http.post(`/api/issues/${issue.id}/checkout`, { agentId: b.id, expectedStatuses: ALL_TAKEABLE });
    const key = { 'Idempotency-Key': 'checkout-late' };
    const first = await a.http.post(`/api/issues/${issue.id}/checkout`, { agentId: a.id, expectedStatuses: ALL_TAKEABLE }, key);
    assert.equal(first.status, 409);
    await b.http.post(`/api/issues/${issue.id}/release`, {});
    const retry = await a.http.post(`/api/issues/${issue.id}/checkout`, { agentId: a.id, expectedStatuses: ALL_TAKEABLE }, key);
    assert.equal(retry.status, 409);
    assert.deepEqual(retry.body, first.body);
  });

  it('10 concurrent retries of one close with one key: one comment, one done, ten identical answers', async () => {
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    await a.http.post(`/api/issues/${issue.id}/checkout`, { agentId: a.id, expectedStatuses: ALL_TAKEABLE });
    const body = { comment: 'Inline result: shipped. Result: ok. Verified: by test.' };
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => a.http.post(`/api/issues/${issue.id}/close`, body, { 'Idempotency-Key': 'close-once' })),
    );
    assert.deepEqual(replies.map((r) => r.status), Array(10).fill(200));
    for (const r of replies) assert.deepEqual(r.body, replies[0]!.body);
    assert.equal((await a.http.get(`/api/issues/${issue.id}/comments`)).body.length, 1);
    const closes = (await a.http.get(`/api/issues/${issue.id}/activity`)).body.filter((e: any) => e.action === 'issue.closed');
    assert.equal(closes.length, 1);
  });

  it('creating an issue twice with one key makes one issue', async () => {
    const key = { 'Idempotency-Key': 'create-1' };
    const body = { title: 'Once only', status: 'todo' };
    const [x, y] = await Promise.all([
      stack.admin.post(`/api/companies/${companyId}/issues`, body, key),
      stack.admin.post(`/api/companies/${companyId}/issues`, body, key),
    ]);
    assert.equal(x.status, 201);
    assert.equal(y.status, 201);
    assert.equal(x.body.id, y.body.id);
    const { rows } = await stack.pool.query("SELECT count(*)::int AS n FROM issues WHERE title = 'Once only'");
    assert.equal(rows[0].n, 1);
  });

  it('concurrent creates with one key: one company; an agent key is never minted twice', async () => {
    const key = { 'Idempotency-Key': 'co-create' };
    const replies = await Promise.all(Array.from({ length: 5 }, () => stack.admin.post('/api/companies', { name: 'Racing Co' }, key)));
    assert.deepEqual(replies.map((r) => r.status), Array(5).fill(201));
    assert.equal(new Set(replies.map((r) => r.body.id)).size, 1);
    const { rows } = await stack.pool.query("SELECT count(*)::int AS n FROM companies WHERE name = 'Racing Co'");
    assert.equal(rows[0].n, 1);

    const agentKey = { 'Idempotency-Key': 'agent-race' };
    const agents = await Promise.all(Array.from({ length: 5 }, () => stack.admin.post(`/api/companies/${companyId}/agents`, { name: 'racer' }, agentKey)));
    const created = agents.filter((r) => r.status === 201);
    assert.ok(created.length >= 1);
    assert.ok(agents.every((r) => r.status === 201 || (r.status === 409 && r.body.code === 'idempotency_in_progress')), agents.map((r) => r.status).join(','));
    const minted = created.filter((r) => r.body.apiKey !== null);
    assert.equal(minted.length, 1, 'exactly one response shows a key');
    const { rows: racers } = await stack.pool.query("SELECT count(*)::int AS n FROM agents WHERE name = 'racer'");
    assert.equal(racers[0].n, 1);
    assert.equal((await stack.as(minted[0]!.body.apiKey).get('/api/agents/me')).status, 200, 'and that key works');
  });

  it('an agent key is shown once: a replayed agent creation does not reveal it again', async () => {
    const key = { 'Idempotency-Key': 'agent-1' };
    const first = await stack.admin.post(`/api/companies/${companyId}/agents`, { name: 'once' }, key);
    const again = await stack.admin.post(`/api/companies/${companyId}/agents`, { name: 'once' }, key);
    assert.equal(first.status, 201);
    assert.match(first.body.apiKey, /^sy_agent_/);
    assert.equal(again.status, 201);
    assert.equal(again.body.agent.id, first.body.agent.id);
    assert.equal(again.body.apiKey, null);
    const { rows } = await stack.pool.query('SELECT count(*)::int AS n FROM idempotency_records WHERE response_body::text LIKE $1', [`%${first.body.apiKey}%`]);
    assert.equal(rows[0].n, 0, 'the key is not stored in clear');
  });
});
