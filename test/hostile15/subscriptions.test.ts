/** Hostile review of event subscriptions: who sees and stops whose, how many one agent may make, receivers that misbehave. */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../support/stack.js';
import { createIssue, seedCompany } from '../support/seed.js';
import { startReceiver } from '../support/webhook-receiver.js';
import { waitFor } from '../support/wait.js';
import { idem } from '../keys/support.js';

const SECRET = 'whsec_0123456789abcdef';

describe('hostile: event subscriptions', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ config: { webhookRetry: { initialIntervalMs: 200, maximumIntervalMs: 400 } } as never });
  });
  after(async () => {
    await stack?.stop();
  });

  it("an agent cannot read or deactivate the operator's (or another agent's) subscription in its company", async () => {
    const { companyId, agents } = await seedCompany(stack, 2);
    // The operator's receiver is a capability URL: its token is the secret.
    const opUrl = 'http://127.0.0.1:9/services/T000/B000/operator-capability-token';
    const op = await stack.admin.post('/api/event-subscriptions', { url: opUrl, eventTypes: ['task.updated'], secret: SECRET, companyId }, idem());
    assert.equal(op.status, 201, JSON.stringify(op.body));
    const a = await agents[0]!.http.post('/api/event-subscriptions', { url: 'http://127.0.0.1:9/agent-a', eventTypes: ['task.updated'], secret: SECRET }, idem());
    assert.equal(a.status, 201);
    const b = agents[1]!.http;
    const list = await b.get('/api/event-subscriptions');
    assert.ok(!JSON.stringify(list.body).includes('operator-capability-token'), "the operator's receiver URL reached an agent");
    assert.ok(!JSON.stringify(list.body).includes('/agent-a'), "another agent's receiver URL reached an agent");
    assert.equal((await b.get(`/api/event-subscriptions/${op.body.data.id}`)).status, 404);
    assert.equal((await b.get(`/api/event-subscriptions/${op.body.data.id}/deliveries`)).status, 404);
    assert.equal((await b.request('DELETE', `/api/event-subscriptions/${op.body.data.id}`)).status, 404);
    assert.equal((await b.request('DELETE', `/api/event-subscriptions/${a.body.data.id}`)).status, 404);
    const after = await stack.admin.get(`/api/event-subscriptions/${op.body.data.id}`);
    assert.equal(after.body.data.status, 'active', "an agent deactivated the operator's subscription");
  });

  it('one company cannot create an unbounded number of active subscriptions, even all at once (each event fans out to all)', async () => {
    const { agents } = await seedCompany(stack, 2);
    const create = (agent: number, i: number) => agents[agent]!.http.post('/api/event-subscriptions', { url: `http://127.0.0.1:9/fan?${i}`, eventTypes: ['task.updated'], secret: SECRET }, idem());
    const made = await Promise.all(Array.from({ length: 40 }, (_, i) => create(i % 2, i)));
    const ok = made.filter((r) => r.status === 201);
    assert.equal(ok.length, stack.config.maxSubscriptionsPerCompany, JSON.stringify(made.map((r) => r.status)));
    const refused = made.find((r) => r.status !== 201)!;
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.details.limit, stack.config.maxSubscriptionsPerCompany);
    // Room again once one is deactivated.
    const one = ok[0]!;
    const del = await agents[made.indexOf(one) % 2]!.http.request('DELETE', `/api/event-subscriptions/${one.body.data.id}`);
    assert.equal(del.status, 202, JSON.stringify(del.body));
    assert.equal((await create(0, 1000)).status, 201);
  });

  it('a receiver that redirects, answers slowly forever, or answers a huge body costs one event, not the worker', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    const hits: string[] = [];
    const server = http.createServer((req, res) => {
      hits.push(req.url!);
      if (req.url === '/redirect') return res.writeHead(307, { location: 'http://127.0.0.1:1/internal' }).end();
      if (req.url === '/drip') { res.writeHead(200); const t = setInterval(() => res.write('x'), 100); res.on('close', () => clearInterval(t)); return; }
      if (req.url === '/huge') { res.writeHead(200); const chunk = Buffer.alloc(1 << 20, 'x'); let n = 0; const pump = () => { while (n++ < 500 && res.write(chunk)); if (n < 500) res.once('drain', pump); else res.end(); }; return pump(); }
      if (req.url === '/slowheaders') { res.socket!.write('HTTP/1.1 200 OK\r\n'); const t = setInterval(() => res.socket!.write('X-A: b\r\n'), 500); res.socket!.on('close', () => clearInterval(t)); return; }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const subs: string[] = [];
    for (const path of ['/redirect', '/drip', '/huge', '/slowheaders']) {
      const r = await agents[0]!.http.post('/api/event-subscriptions', { url: `${base}${path}`, eventTypes: ['task.comment.created'], secret: SECRET }, idem());
      assert.equal(r.status, 201);
      subs.push(r.body.data.id);
    }
    await stack.admin.post(`/api/issues/${issue.id}/comments`, { body: 'ping' });
    const ok = await startReceiver();
    const r = await agents[0]!.http.post('/api/event-subscriptions', { url: ok.url, eventTypes: ['task.comment.created'], secret: SECRET }, idem());
    await stack.admin.post(`/api/issues/${issue.id}/comments`, { body: 'pong' });
    await ok.waitFor(1, 30_000);
    const redirect = await waitFor('the redirect recorded', async () => (await agents[0]!.http.get(`/api/event-subscriptions/${subs[0]}/deliveries`)).body.data, (d) => d.length >= 1, 30_000);
    assert.equal(redirect[0].status, 'failed');
    assert.ok(!hits.includes('/internal'));
    for (const id of subs.slice(1)) {
      const d = await waitFor(`a delivery of ${id}`, async () => (await agents[0]!.http.get(`/api/event-subscriptions/${id}/deliveries`)).body.data, (x) => x.length >= 1, 40_000);
      assert.ok(['delivered', 'retrying', 'exhausted'].includes(d[0].status), JSON.stringify(d));
    }
    assert.ok(r.status === 201);
    server.closeAllConnections();
    server.close();
    await ok.close();
  });

  it('a terminated subscription workflow comes back and delivers the next event', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    const rcv = await startReceiver();
    const r = await agents[0]!.http.post('/api/event-subscriptions', { url: rcv.url, eventTypes: ['task.comment.created'], secret: SECRET }, idem());
    assert.equal(r.status, 201);
    await stack.admin.post(`/api/issues/${issue.id}/comments`, { body: 'one' });
    await rcv.waitFor(1);
    await stack.client.workflow.getHandle(`event-subscription/${r.body.data.id}`).terminate('by hand');
    await stack.admin.post(`/api/issues/${issue.id}/comments`, { body: 'two' });
    await rcv.waitFor(2, 30_000);
    assert.deepEqual(rcv.received.map((x) => x.body.data.comment.bodyPreview), ['one', 'two']);
    await rcv.close();
  });
});
