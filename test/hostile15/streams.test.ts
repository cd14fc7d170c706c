/** Hostile review of the task event stream: limits under concurrency, revoked keys, framing, odd queries. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openStream } from '../support/sse.js';
import { startStack, type Stack } from '../support/stack.js';
import { createIssue, seedCompany } from '../support/seed.js';
import { waitFor } from '../support/wait.js';
import { idem, mintKey } from '../keys/support.js';

describe('hostile: task event stream', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ config: { maxStreamsPerKey: 3, maxStreams: 40 } });
  });
  after(async () => {
    await stack?.stop();
  });

  it('the per-key stream limit holds when many streams open at once (cursor or taskId makes the handler wait)', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    const rows = await waitFor('an event', async () => (await stack.pool.query('SELECT id FROM task_events ORDER BY sequence DESC LIMIT 1')).rows, (r) => r.length > 0);
    const streams = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      openStream(stack.url, agents[0]!.key, i % 2 ? { cursor: rows[0]!.id } : { taskId: issue.id })));
    const ok = streams.filter((s) => s.status === 200).length;
    for (const s of streams) s.close();
    await Promise.all(streams.map((s) => s.closed));
    assert.ok(ok <= 3, `${ok} streams open for one key, limit 3`);
  });

  it('an agent cannot multiply its stream limit by minting keys', async () => {
    const { agents } = await seedCompany(stack, 1);
    const keys = await Promise.all([0, 1, 2].map(() => mintKey(stack, agents[0]!.id, ['events:read'])));
    const streams = [];
    for (const k of [agents[0]!.key, ...keys.map((x) => x.apiKey)]) for (let i = 0; i < 2; i++) streams.push(await openStream(stack.url, k));
    const ok = streams.filter((s) => s.status === 200).length;
    for (const s of streams) s.close();
    await Promise.all(streams.map((s) => s.closed));
    assert.equal(ok, 3, `${ok} streams for one agent through four keys, limit 3`);
  });

  it('the process-wide stream limit holds under the same race', async () => {
    const { companyId } = await seedCompany(stack, 0);
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    const streams = await Promise.all(Array.from({ length: 80 }, () => openStream(stack.url, stack.adminKey, { taskId: issue.id })));
    const ok = streams.filter((s) => s.status === 200).length;
    for (const s of streams) s.close();
    await Promise.all(streams.map((s) => s.closed));
    assert.ok(ok <= 40, `${ok} streams open on the process, limit 40`);
  });

  it('a stream ends once its key is revoked (it does not keep receiving events)', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const key = await mintKey(stack, agents[0]!.id, ['events:read']);
    const s = await openStream(stack.url, key.apiKey, { heartbeatSeconds: '10' });
    assert.equal(s.status, 200);
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    await s.waitFor(1);
    assert.equal((await stack.admin.request('DELETE', `/api/agent-api-keys/${key.id}`)).status, 200);
    // Within a heartbeat or so the stream must be cut.
    const ended = await Promise.race([s.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 25_000))]);
    await stack.admin.post(`/api/issues/${issue.id}/comments`, { body: 'after the revocation' });
    await new Promise((r) => setTimeout(r, 1500));
    const leaked = s.events.filter((e) => e.type === 'task.comment.created').length;
    s.close();
    assert.equal(leaked, 0, 'events after the revocation reached the revoked key');
    assert.ok(ended, 'the stream stayed open after its key was revoked');
  });

  it('hostile text in comments cannot break SSE framing', async () => {
    const { companyId } = await seedCompany(stack, 0);
    const issue = await createIssue(stack, companyId, { status: 'todo', title: 'x\n\nid: evt_fake\nevent: task.shipped\ndata: {}\n\n\u2028\u2029\r' });
    const s = await openStream(stack.url, stack.adminKey, { taskId: issue.id, eventTypes: 'task.comment.created' });
    const nasty = ['a\r\n\r\nevent: task.shipped\r\ndata: {"id":"evil"}\r\n\r\n', 'b\rdata: x\r\r', 'c\u2028\u2029\u0085d', 'e\u0000f', '\ud83d'];
    for (const body of nasty) await stack.admin.post(`/api/issues/${issue.id}/comments`, { body });
    const got = await s.waitFor(nasty.length - 1, 20_000).catch(() => s.events);
    s.close();
    assert.ok(got.every((e) => e.type === 'task.comment.created' && e.id.startsWith('evt_')), JSON.stringify(got.map((e) => [e.id, e.type])));
    for (const block of s.raw) assert.ok(!block.includes('\r'), `a raw CR in a frame: ${JSON.stringify(block)}`);
  });

  it('odd query values: never a 500 and never an unscoped stream', async () => {
    const { agents } = await seedCompany(stack, 1);
    const key = agents[0]!.key;
    const cases: Array<[Record<string, string>, Record<string, string>]> = [
      [{ heartbeatSeconds: '-1' }, {}], [{ heartbeatSeconds: 'NaN' }, {}], [{ heartbeatSeconds: '1e309' }, {}], [{ heartbeatSeconds: '0x10' }, {}],
      [{ eventTypes: Array(2000).fill('task.updated').join(',') }, {}], [{ eventTypes: ',,,,' }, {}], [{ cursor: 'x'.repeat(8000) }, {}],
      [{ cursor: '-1' }, {}], [{ cursor: '999999999999999' }, {}], [{ cursor: '1e3' }, {}], [{}, { 'last-event-id': '\u00ff'.repeat(100) }],
      [{ taskId: '../../x' }, {}], [{ taskId: '%00' }, {}], [{ taskId: 'ABC-999999999999999999999' }, {}],
    ];
    for (const [q, h] of cases) {
      const s = await openStream(stack.url, key, q, h);
      s.close();
      assert.ok(s.status < 500, `${JSON.stringify(q)} ${JSON.stringify(h)} → ${s.status} ${JSON.stringify(s.error)}`);
    }
    // A repeated taskId/eventTypes arrives as an array: it must not widen a stream.
    const res = await fetch(`${stack.url}/api/task-events/stream?eventTypes=task.updated&eventTypes=bogus`, { headers: { authorization: `Bearer ${key}` } });
    await res.body?.cancel();
    assert.notEqual(res.status, 500);
  });

  it('a run token cannot widen its stream or subscriptions by rotating itself into more scopes', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const mine = await createIssue(stack, companyId, { status: 'todo' });
    const other = await createIssue(stack, companyId, { status: 'todo' });
    const { mintRunToken } = await import('../../db/agent-keys.js');
    const token = await mintRunToken(stack.pool, { agentId: agents[0]!.id, issueId: mine.id, runId: 'run-h', ttlSeconds: 600 });
    const asToken = stack.as(token);
    // Its own powers: no auth:admin, so no rotation or minting.
    const list = await asToken.get('/api/agent-api-keys');
    assert.equal(list.status, 403);
    const keyId = (await stack.pool.query(`SELECT id FROM agent_api_keys WHERE run_id = 'run-h'`)).rows[0].id;
    const rot = await asToken.post(`/api/agent-api-keys/${keyId}/rotate`, { scopes: ['events:read', 'webhooks:write'] }, idem());
    assert.equal(rot.status, 403, JSON.stringify(rot.body));
    // Rotated by its agent with events:read, it still sees its task only.
    const rotated = await agents[0]!.http.post(`/api/agent-api-keys/${keyId}/rotate`, { scopes: ['events:read', 'tasks:read'] }, idem());
    assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
    const s = await openStream(stack.url, rotated.body.data.apiKey);
    assert.equal(s.status, 200);
    const bad = await openStream(stack.url, rotated.body.data.apiKey, { taskId: other.id });
    assert.equal(bad.status, 404);
    await stack.admin.post(`/api/issues/${other.id}/comments`, { body: 'other' });
    await stack.admin.post(`/api/issues/${mine.id}/comments`, { body: 'mine' });
    await s.waitFor(1);
    await new Promise((r) => setTimeout(r, 1500));
    s.close();
    assert.deepEqual([...new Set(s.events.map((e) => e.data.taskId))], [mine.id]);
  });

  it('the hub survives its LISTEN connection being killed and keeps streams flowing', async () => {
    const { companyId } = await seedCompany(stack, 0);
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    const s = await openStream(stack.url, stack.adminKey, { taskId: issue.id, eventTypes: 'task.comment.created' });
    const db = new URL(stack.databaseUrl).pathname.slice(1);
    await stack.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [db]);
    await new Promise((r) => setTimeout(r, 200));
    // The first requests after the kill may meet a dead pooled connection (a 5xx): an agent retries.
    const posted = await waitFor('the comment accepted', () => stack.admin.post(`/api/issues/${issue.id}/comments`, { body: 'after the kill' }, { 'idempotency-key': 'hub-kill-comment' }), (r) => r.status === 201, 20_000);
    assert.equal(posted.status, 201);
    await s.waitFor(1, 20_000);
    const listening = await waitFor('the hub listening again', async () => (await stack.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND query ILIKE 'LISTEN%'`, [db])).rows[0].n, (n) => n >= 1, 20_000);
    assert.ok(listening >= 1);
    s.close();
  });
});
