/**
 * Issue 15 §4: a key's rate limit holds across every API process. Two API apps on one database take
 * turns answering one key: the window fills across both, the next request is 429 with Retry-After and
 * AgentRail's details on either, and once the window has ended the key is admitted again.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, test } from 'node:test';
import { createApp } from '../../api/app.js';
import { ReadModel } from '../../api/read-model.js';
import { TaskGateway } from '../../api/task-gateway.js';
import { createPool, type Pool } from '../../db/pool.js';
import { HttpClient } from '../support/http.js';
import { seedCompany } from '../support/seed.js';
import { startStack, type Stack } from '../support/stack.js';
import { mintKey } from './support.js';

let stack: Stack;
let second: { server: Server; pool: Pool; url: string };
before(async () => {
  stack = await startStack();
  const pool = createPool(stack.databaseUrl, 5);
  const app = createApp({ config: stack.config, pool, reads: new ReadModel(pool), tasks: new TaskGateway(stack.client, stack.config), adminKey: stack.adminKey });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  second = { server, pool, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
});
after(async () => {
  second.server.closeAllConnections();
  await new Promise((r) => second.server.close(r));
  await second.pool.end();
  await stack.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('one window across two API processes: 429 with Retry-After and AgentRail\'s details, counted as denied; admitted again after the window', async () => {
  const { agents } = await seedCompany(stack, 1);
  const k = await mintKey(stack, agents[0]!.id, ['tasks:read'], { rateLimit: { windowSeconds: 10, maxRequests: 4 } });
  const apps = [stack.as(k.apiKey), new HttpClient(second.url, k.apiKey)];
  for (let i = 0; i < 4; i++) assert.equal((await apps[i % 2]!.get('/api/tasks/mine')).status, 200, `request ${i + 1} of 4`);
  for (const app of apps) {
    const r = await app.get('/api/tasks/mine');
    assert.equal(r.status, 429, JSON.stringify(r.body));
    const retryAfter = r.headers.get('retry-after');
    assert.match(retryAfter ?? '', /^[0-9]+$/);
    const d = r.body.error.details;
    assert.equal(r.body.error.code, 'rate_limited');
    assert.deepEqual(d.limit, { windowSeconds: 10, maxRequests: 4 });
    assert.equal(d.remaining, 0);
    assert.equal(d.retryAfterSeconds, Number(retryAfter));
    assert.ok(d.retryAfterSeconds >= 1 && d.retryAfterSeconds <= 10);
    assert.ok(!Number.isNaN(Date.parse(d.resetAt)));
    assert.deepEqual(d.availableActions, ['retry']);
  }
  // The Paperclip family answers its own shape with the same Retry-After.
  const flat = await apps[1]!.get('/api/agents/me');
  assert.equal(flat.status, 429);
  assert.equal(flat.body.code, 'rate_limited');
  const usage = (await stack.admin.get(`/api/agent-api-keys/${k.id}/usage`)).body.data;
  assert.deepEqual(usage.totals, { accepted: 4, denied: 3 });
  assert.equal(usage.rateLimit.currentWindow.remaining, 0);

  // Wait as a client told to: until resetAt (by the server's clock), then again while it still says wait.
  let answer = await apps[0]!.get('/api/tasks/mine');
  for (let tries = 0; answer.status === 429 && tries < 5; tries++) {
    await sleep(Math.max(100, Date.parse(answer.body.error.details.resetAt) - Date.now() + 100));
    answer = await apps[tries % 2]!.get('/api/tasks/mine');
  }
  assert.equal(answer.status, 200, 'admitted in the next window');
});

test('a revoked key stops at once on every API process', async () => {
  const { agents } = await seedCompany(stack, 1);
  const k = await mintKey(stack, agents[0]!.id, ['tasks:read']);
  const other = new HttpClient(second.url, k.apiKey);
  assert.equal((await other.get('/api/agents/me')).status, 200);
  assert.equal((await stack.admin.request('DELETE', `/api/agent-api-keys/${k.id}`)).status, 200);
  assert.equal((await other.get('/api/agents/me')).status, 401);
});
