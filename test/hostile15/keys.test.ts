/** Hostile review of agent API keys: other agents' and companies' keys, rate-limit races, rotation races, path tricks. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../support/stack.js';
import { seedCompany } from '../support/seed.js';
import { idem, mintKey } from '../keys/support.js';

describe('hostile: agent API keys', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it("another agent's or company's key never reaches a key (read, usage, rotate, revoke, list)", async () => {
    const a = await seedCompany(stack, 2);
    const b = await seedCompany(stack, 1);
    const victim = await mintKey(stack, a.agents[0]!.id, ['tasks:read']);
    for (const attacker of [a.agents[1]!, b.agents[0]!]) {
      const h = attacker.http;
      assert.equal((await h.get(`/api/agent-api-keys/${victim.id}`)).status, 404);
      assert.equal((await h.get(`/api/agent-api-keys/${victim.id}/usage`)).status, 401);
      assert.equal((await h.post(`/api/agent-api-keys/${victim.id}/rotate`, {}, idem())).status, 401);
      assert.equal((await h.request('DELETE', `/api/agent-api-keys/${victim.id}`)).status, 404);
      const list = await h.get(`/api/agent-api-keys?agentId=${a.agents[0]!.id}&companyId=${a.companyId}`);
      assert.ok(!JSON.stringify(list.body).includes(victim.id));
      const mint = await h.post('/api/agent-api-keys', { agent: { id: a.agents[0]!.id }, scopes: ['tasks:read'] }, idem());
      assert.equal(mint.status, 404);
    }
    assert.equal((await stack.as(victim.apiKey).get('/api/agents/me')).status, 200);
  });

  it('scope gate: case, trailing slash, encoding, HEAD/OPTIONS and method override do not widen a key', async () => {
    const { agents } = await seedCompany(stack, 1);
    const k = await mintKey(stack, agents[0]!.id, ['tasks:read']);
    const h = stack.as(k.apiKey, 'run-x');
    const paths = ['/api/task-events/stream', '/API/task-events/stream', '/api/TASK-EVENTS/stream/', '/api/task%2Devents/stream', '/api//task-events/stream',
      '/api/event-subscriptions', '/api/event-subscriptions/', '/Api/Event-Subscriptions', '/api/agent-api-keys', '/api/agent-api-keys/', '/api/./agent-api-keys',
      '/api/tasks/../agent-api-keys', '/api/%61gent-api-keys'];
    for (const p of paths) {
      for (const method of ['GET', 'HEAD', 'OPTIONS', 'POST', 'DELETE']) {
        const r = await h.request(method, p, method === 'POST' ? { url: 'http://127.0.0.1:9/x', eventTypes: ['task.updated'], secret: 'x'.repeat(20) } : undefined,
          { 'x-http-method-override': 'GET', 'idempotency-key': `idem-${Math.random()}` });
        assert.ok([401, 403, 404, 405].includes(r.status) || (r.status === 200 && method === 'OPTIONS' && false), `${method} ${p} → ${r.status} ${JSON.stringify(r.body)?.slice(0, 200)}`);
      }
    }
  });

  it('the rate limit holds at its boundary under 50 concurrent requests, and two keys are two windows', async () => {
    const { agents } = await seedCompany(stack, 1);
    const k = await mintKey(stack, agents[0]!.id, ['tasks:read'], { rateLimit: { windowSeconds: 60, maxRequests: 10 } });
    const h = stack.as(k.apiKey);
    const statuses = await Promise.all(Array.from({ length: 50 }, () => h.get('/api/agents/me').then((r) => r.status)));
    assert.equal(statuses.filter((s) => s === 200).length, 10, JSON.stringify(statuses));
    assert.equal(statuses.filter((s) => s === 429).length, 40);
    const usage = await stack.admin.get(`/api/agent-api-keys/${k.id}/usage`);
    assert.equal(usage.body.data.totals.accepted, 10);
    assert.equal(usage.body.data.totals.denied, 40);
  });

  it('two concurrent rotations of one key make one new key; the loser is 409', async () => {
    const { agents } = await seedCompany(stack, 1);
    const k = await mintKey(stack, agents[0]!.id, ['tasks:read']);
    const results = await Promise.all([0, 1, 2, 3].map((i) => stack.admin.post(`/api/agent-api-keys/${k.id}/rotate`, {}, i % 2 ? idem() : {})));
    assert.equal(results.filter((r) => r.status === 201).length, 1, JSON.stringify(results.map((r) => r.status)));
    const kids = await stack.pool.query('SELECT count(*)::int AS n FROM agent_api_keys WHERE rotated_from_key_id = $1', [k.id]);
    assert.equal(kids.rows[0].n, 1);
  });

  it('a create replayed with the same Idempotency-Key and another body is 409, and the secret is not re-shown to another caller', async () => {
    const { agents } = await seedCompany(stack, 2);
    const key = idem();
    const first = await agents[0]!.http.post('/api/agent-api-keys', { agent: { id: agents[0]!.id }, scopes: ['tasks:read'] }, key);
    assert.equal(first.status, 201);
    const other = await agents[0]!.http.post('/api/agent-api-keys', { agent: { id: agents[0]!.id }, scopes: ['tasks:read', 'tasks:write'] }, key);
    assert.equal(other.status, 409);
    // Agent 1 replays agent 0's Idempotency-Key with the same body: it must not get agent 0's secret.
    const theft = await agents[1]!.http.post('/api/agent-api-keys', { agent: { id: agents[0]!.id }, scopes: ['tasks:read'] }, key);
    assert.notEqual(theft.status, 201, JSON.stringify(theft.body));
    assert.ok(!JSON.stringify(theft.body).includes(first.body.data.apiKey));
    const subKey = idem();
    const sub1 = await agents[0]!.http.post('/api/event-subscriptions', { url: 'http://127.0.0.1:9/a', eventTypes: ['task.updated'], secret: 'x'.repeat(20) }, subKey);
    assert.equal(sub1.status, 201);
    // Same key, same body, another agent: not a replay of agent 0's answer (it is the twin: 409 conflict).
    const sub2 = await agents[1]!.http.post('/api/event-subscriptions', { url: 'http://127.0.0.1:9/a', eventTypes: ['task.updated'], secret: 'x'.repeat(20) }, subKey);
    assert.equal(sub2.headers.get('idempotent-replayed'), null);
    assert.equal(sub2.status, 409, JSON.stringify(sub2.body));
  });
});
