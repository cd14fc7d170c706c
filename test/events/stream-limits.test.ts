/**
 * Many streams, slow readers, limits, heartbeats and retention: what a fleet of agents and dashboards
 * does to the stream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventHub } from '../../api/events/hub.js';
import { EventStream, type StreamSink } from '../../api/events/stream.js';
import { pruneEvents } from '../../db/task-events.js';
import { openStream } from '../support/sse.js';
import { startStack, type Stack } from '../support/stack.js';
import { createIssue, seedCompany } from '../support/seed.js';
import { waitFor } from '../support/wait.js';

describe('event streams at scale', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ config: { maxStreamsPerKey: 3 } });
  });
  after(async () => {
    await stack?.stop();
  });

  it('500 concurrent streams on one API process each get the decision once', async () => {
    const { companyId } = await seedCompany(stack, 0);
    const streams = await Promise.all(Array.from({ length: 500 }, () => openStream(stack.url, stack.adminKey, { eventTypes: 'task.updated' })));
    assert.ok(streams.every((s) => s.status === 200));
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    await Promise.all(streams.map((s) => s.waitFor(1, 60_000)));
    for (const s of streams) assert.deepEqual(s.events.map((e) => e.data.taskId), [issue.id]);
    for (const s of streams) s.close();
    await Promise.all(streams.map((s) => s.closed));
  });

  it('a key past its stream limit gets 429 with Retry-After; closing one makes room', async () => {
    const { agents } = await seedCompany(stack, 1);
    const key = agents[0]!.key;
    const open = await Promise.all([0, 1, 2].map(() => openStream(stack.url, key)));
    assert.ok(open.every((s) => s.status === 200));
    const refused = await openStream(stack.url, key);
    assert.equal(refused.status, 429);
    assert.equal(refused.error.error.code, 'rate_limited');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.deepEqual(refused.error.error.details.availableActions, ['retry']);
    open[0]!.close();
    await open[0]!.closed;
    const again = await waitFor('a free stream slot', () => openStream(stack.url, key), (s) => s.status === 200);
    again.close();
    for (const s of open.slice(1)) s.close();
  });

  it('a slow reader is never buffered for: it falls back to the log and gets every event once, in order', async () => {
    const { companyId } = await seedCompany(stack, 0);
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    for (let i = 0; i < 30; i++) assert.equal((await stack.admin.post(`/api/issues/${issue.id}/comments`, { body: `c${i}` })).status, 201);
    await waitFor('the comments in the log', async () => (await stack.pool.query(`SELECT count(*)::int AS n FROM task_events WHERE issue_id = $1 AND type = 'task.comment.created'`, [issue.id])).rows[0].n, (n) => n === 30);
    // A sink whose socket is "full" after every third frame, and drains a moment later.
    const frames: string[] = [];
    let drain: (() => void) | undefined;
    const sink: StreamSink = {
      write(chunk) {
        frames.push(chunk);
        return frames.length % 3 !== 0;
      },
      once(_event, listener) {
        drain = listener;
        setTimeout(() => { const d = drain; drain = undefined; d?.(); }, 10);
        return sink;
      },
      end() {},
    };
    const hub = new EventHub(stack.pool);
    const stream = new EventStream(stack.pool, sink, { types: ['task.comment.created'], issueId: issue.id, companyId: null }, 'http://x/api');
    const unsubscribe = await hub.subscribe((row) => stream.live(row));
    stream.begin(0, true, hub);
    // More arrive live while it is behind.
    for (let i = 30; i < 40; i++) assert.equal((await stack.admin.post(`/api/issues/${issue.id}/comments`, { body: `c${i}` })).status, 201);
    const previews = () => frames.map((f) => JSON.parse(f.split('\ndata: ')[1]!).data.comment.bodyPreview as string);
    await waitFor('all 40 comments through the slow sink', async () => frames.length, (n) => n >= 40);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(previews(), Array.from({ length: 40 }, (_, i) => `c${i}`));
    stream.closed = true;
    unsubscribe();
  });

  it('keep-alive comments every heartbeatSeconds (clamped to 10–60)', async () => {
    const s = await openStream(stack.url, stack.adminKey, { heartbeatSeconds: '1' });
    assert.equal(s.headers.get('x-agentrail-stream-heartbeat-seconds'), '10');
    await waitFor('a keep-alive', async () => s.raw.filter((b) => b.startsWith(': keepalive ')).length, (n) => n >= 1, 20_000);
    s.close();
    const fallback = await openStream(stack.url, stack.adminKey, { heartbeatSeconds: 'soon' });
    assert.equal(fallback.headers.get('x-agentrail-stream-heartbeat-seconds'), '20');
    fallback.close();
    const high = await openStream(stack.url, stack.adminKey, { heartbeatSeconds: '999' });
    assert.equal(high.headers.get('x-agentrail-stream-heartbeat-seconds'), '60');
    high.close();
  });

  it('retention: pruned events expire cursors before the horizon, and the sequence never goes back', async () => {
    const { companyId } = await seedCompany(stack, 0);
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    await stack.admin.post(`/api/issues/${issue.id}/comments`, { body: 'old' });
    await waitFor('two events', async () => (await stack.pool.query('SELECT count(*)::int AS n FROM task_events WHERE issue_id = $1', [issue.id])).rows[0].n, (n) => n >= 2);
    const { rows } = await stack.pool.query('SELECT id, sequence FROM task_events ORDER BY sequence');
    const newest = rows.at(-1)!;
    await stack.pool.query(`UPDATE task_events SET recorded_at = now() - interval '8 days'`);
    assert.ok((await pruneEvents(stack.pool, 7)) >= rows.length);
    // Everything was pruned: a cursor before the horizon has expired; the newest one still resumes.
    const old = await openStream(stack.url, stack.adminKey, { cursor: String(rows[0]!.sequence) });
    assert.equal(old.status, 410);
    const atHorizon = await openStream(stack.url, stack.adminKey, { cursor: String(newest.sequence) });
    assert.equal(atHorizon.status, 200, JSON.stringify(atHorizon.error));
    await stack.admin.post(`/api/issues/${issue.id}/comments`, { body: 'new' });
    const [next] = await atHorizon.waitFor(1);
    assert.ok(next!.sequence > newest.sequence, 'the sequence never restarts');
    atHorizon.close();
  });
});

describe('a stream and its key', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('revoking the key ends its open streams; reconnecting is 401', async () => {
    const { agents } = await seedCompany(stack, 1);
    const minted = await stack.admin.post('/api/agent-api-keys', { agent: { id: agents[0]!.id }, scopes: ['events:read'] }, { 'idempotency-key': 'stream-key-revoke-1' });
    assert.equal(minted.status, 201, JSON.stringify(minted.body));
    const s = await openStream(stack.url, minted.body.data.apiKey);
    assert.equal(s.status, 200);
    assert.equal((await stack.admin.request('DELETE', `/api/agent-api-keys/${minted.body.data.id}`)).status, 200);
    const ended = await Promise.race([s.closed.then(() => 'ended'), new Promise((r) => setTimeout(() => r('still open'), 20_000))]);
    assert.equal(ended, 'ended');
    const again = await openStream(stack.url, minted.body.data.apiKey);
    assert.equal(again.status, 401);
  });
});

describe('a stream whose key stays valid', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('stays open past the key checks and keeps delivering (the check watches the key, not the agent)', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const s = await openStream(stack.url, agents[0]!.key, { eventTypes: 'task.updated' });
    assert.equal(s.status, 200);
    // Two key checks (every 5 s) go by.
    await new Promise((r) => setTimeout(r, 11_000));
    await createIssue(stack, companyId, { status: 'todo' });
    await s.waitFor(1);
    s.close();
  });
});
