/**
 * AgentRail's SDK (or, without AGENTRAIL_SDK, the client written from the reference) against
 * Switchyard's events and keys, unchanged: createApiKey (and its replay), getApiKeyUsage, rotateApiKey,
 * listMyTasks and getTask with a minted key, a missing scope, streamEvents live and from a cursor, the
 * event subscriptions and their webhook aliases, and a delivery verified with verifyWebhookSignature and
 * parseWebhookEvent. The Linear contract test covers the task calls; together they are all 20.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { loadAgentRail, type AgentRail } from '../support/agentrail-sdk.js';
import { seedCompany } from '../support/seed.js';
import { startStack, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

let stack: Stack;
let agentRail: AgentRail;
let receiver: Server;
const received: Array<{ raw: string; headers: IncomingMessage['headers'] }> = [];

before(async () => {
  [stack, agentRail] = await Promise.all([startStack(), loadAgentRail()]);
  receiver = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      received.push({ raw, headers: req.headers });
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
});
after(async () => {
  await new Promise((r) => receiver?.close(r));
  await stack?.stop();
});

/** Collects what `streamEvents` yields until aborted. */
function follow(sdk: any, options: Record<string, unknown>) {
  const abort = new AbortController();
  const events: any[] = [];
  const done = (async () => {
    try {
      for await (const e of sdk.streamEvents({ ...options, signal: abort.signal })) events.push(e);
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    }
  })();
  return { events, stop: async () => (abort.abort(), await done.catch(() => {})) };
}

test(`AgentRail's client (${process.env.AGENTRAIL_SDK ? 'its SDK' : 'written from the reference'}): keys, usage, rotation, scopes, streamEvents, subscriptions and a verified delivery`, async () => {
  const api = `${stack.url}/api`;
  const { companyId, agents } = await seedCompany(stack, 1);
  const agent = agents[0]!;
  const operator = agentRail.client(api, stack.adminKey);

  // createApiKey: 201 with the secret once; the same Idempotency-Key and body answer the same secret.
  const request = { agent: { id: agent.id, displayName: 'Coder' }, scopes: ['tasks:read', 'tasks:write', 'events:read', 'webhooks:read', 'webhooks:write', 'usage:read'], rateLimit: { windowSeconds: 60, maxRequests: 500 } };
  const created = await operator.createApiKey(request, 'contract-key-0001');
  assert.match(created.data.id, /^akey_[0-9a-f]{20}$/);
  assert.equal(created.data.status, 'active');
  assert.deepEqual(created.data.scopes, [...request.scopes].sort());
  assert.deepEqual(created.data.availableActions, ['rotate', 'view_usage']);
  const replay = await operator.createApiKey(request, 'contract-key-0001');
  assert.equal(replay.data.apiKey, created.data.apiKey);
  const stored = JSON.stringify((await stack.pool.query('SELECT * FROM idempotency_records')).rows);
  assert.ok(!stored.includes(created.data.apiKey), 'the secret is not stored to answer the replay');

  const sdk = agentRail.client(api, created.data.apiKey);
  const task = await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'Contract task', status: 'todo', assigneeAgentId: agent.id });
  assert.equal(task.status, 201);
  const mine = await sdk.listMyTasks({ limit: 5 });
  assert.deepEqual(mine.data.map((t: any) => t.id), [task.body.id]);
  assert.equal((await sdk.getTask(task.body.id)).data.id, task.body.id);

  // A scope the key lacks: the SDK's error, AgentRail's details.
  await assert.rejects(sdk.getTaskCiStatus(task.body.id), (err: any) => err instanceof agentRail.ErrorType && err.statusCode === 403 && err.code === 'insufficient_scope' && err.details.requiredScope === 'ci:read' && err.availableActions.includes('request_scope'));

  // streamEvents live: the start reaches it as task.updated.
  const live = follow(sdk, { eventTypes: ['task.updated'], taskId: task.body.id });
  await new Promise((r) => setTimeout(r, 300));
  // Subscriptions, created before the decision (no backfill), through both names of the call.
  const secret = 'contract-secret-0123456789';
  const sub = await sdk.createEventSubscription({ url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`, eventTypes: ['task.updated'], secret, filters: { taskIds: [task.body.id] } }, 'contract-sub-00001');
  assert.match(sub.data.id, /^evsub_[0-9a-f]{20}$/);
  assert.equal(sub.data.status, 'active');
  assert.equal(sub.data.signingAlgorithm, 'hmac_sha256');
  assert.deepEqual(sub.availableActions, ['deactivate']);
  const alias = await sdk.createWebhookSubscription({ url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/other`, eventTypes: ['task.shipped'], secret }, 'contract-sub-00002');
  assert.equal(alias.data.status, 'active');
  assert.deepEqual((await sdk.listEventSubscriptions()).data.map((s: any) => s.id), [sub.data.id, alias.data.id]);
  assert.deepEqual((await sdk.listWebhookSubscriptions()).data.map((s: any) => s.id), [sub.data.id, alias.data.id]);
  assert.equal((await sdk.getEventSubscription(sub.data.id)).data.id, sub.data.id);
  assert.equal((await sdk.getWebhookSubscription(alias.data.id)).data.id, alias.data.id);
  const duplicate = sdk.createEventSubscription({ url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`, eventTypes: ['task.updated'], secret, filters: { taskIds: [task.body.id] } }, 'contract-sub-00003');
  await assert.rejects(duplicate, (err: any) => err.statusCode === 409 && err.code === 'conflict' && err.details.subscriptionId === sub.data.id);

  const started = await stack.as(created.data.apiKey).post(`/api/tasks/${task.body.id}/start`, {}, { 'idempotency-key': 'contract-start-1' });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  await waitFor('the start on the live stream', async () => live.events.filter((e) => e.data.status === 'in_progress').length, (n) => n === 1);
  await live.stop();
  const startEvent = live.events.find((e) => e.data.status === 'in_progress');
  assert.equal(startEvent.type, 'task.updated');
  assert.equal(startEvent.data.previousStatus, 'todo');

  // streamEvents from a cursor: what came after it, then live.
  const comment = await stack.admin.post(`/api/issues/${task.body.id}/comments`, { body: 'from the operator' });
  assert.equal(comment.status, 201);
  const resumed = follow(sdk, { cursor: startEvent.id, taskId: task.body.id });
  await waitFor('the comment replayed after the cursor', async () => resumed.events.map((e) => e.type), (types) => types.includes('task.comment.created'));
  await resumed.stop();
  assert.ok(resumed.events.every((e) => e.sequence > startEvent.sequence));
  await assert.rejects(
    (async () => { for await (const _ of sdk.streamEvents({ cursor: 'evt_never_was' })) break; })(),
    (err: any) => err.statusCode === 410 && err.code === 'cursor_expired' && err.availableActions.includes('reconnect_without_cursor'),
  );

  // The delivery: AgentRail's headers, and a signature its verification accepts.
  const delivery = await waitFor('the delivery of the start', async () => received.find((d) => d.headers['x-agentrail-event-id'] === startEvent.id), (d) => !!d, 30_000);
  const headers = Object.fromEntries(Object.entries(delivery!.headers).map(([k, v]) => [k, String(v)]));
  assert.equal(headers['x-agentrail-subscription-id'], sub.data.id);
  assert.equal(headers['x-agentrail-event-type'], 'task.updated');
  assert.equal(headers['x-agentrail-delivery-attempt'], '1');
  assert.match(headers['x-agentrail-delivery-id']!, /^dlv_[0-9a-f]{20}$/);
  assert.equal(agentRail.verifyWebhookSignature(delivery!.raw, secret, headers['x-agentrail-signature']!), true);
  assert.equal(agentRail.verifyWebhookSignature(delivery!.raw, 'another-secret-0123456', headers['x-agentrail-signature']!), false);
  const event = agentRail.parseWebhookEvent(delivery!.raw, secret, headers);
  assert.equal(event.id, startEvent.id);
  assert.equal(event.sequence, startEvent.sequence);
  assert.throws(() => agentRail.parseWebhookEvent(`${delivery!.raw} `, secret, headers), /Invalid webhook signature/);

  // Deactivate (both names): 202 snapshots, idempotent.
  const off = await sdk.deactivateEventSubscription(sub.data.id);
  assert.equal(off.data.status, 'disabled');
  assert.deepEqual(off.availableActions, []);
  assert.equal((await sdk.deactivateEventSubscription(sub.data.id)).data.status, 'disabled');
  assert.equal((await sdk.deactivateWebhookSubscription(alias.data.id)).data.status, 'disabled');

  // Usage counts what this key did, by scope and operation.
  const usage = await sdk.getApiKeyUsage(created.data.id);
  assert.equal(usage.data.keyId, created.data.id);
  assert.ok(usage.data.totals.accepted >= 10, JSON.stringify(usage.data.totals));
  assert.ok(usage.data.totals.denied >= 1, 'the missing scope was counted as denied');
  const ops = Object.fromEntries(usage.data.byOperation.map((o: any) => [o.operation, o.count]));
  assert.equal(ops.list_my_tasks, 1);
  assert.ok(ops.stream_task_events >= 2);
  assert.equal(ops.create_event_subscription, 3);
  assert.ok(usage.data.rateLimit.currentWindow.used >= 10);
  assert.equal(usage.data.rateLimit.maxRequests, 500);

  // rotateApiKey with no body: the old key stops at once.
  const rotated = await operator.rotateApiKey(created.data.id);
  assert.equal(rotated.data.rotatedFromKeyId, created.data.id);
  assert.notEqual(rotated.data.apiKey, created.data.apiKey);
  await assert.rejects(sdk.listMyTasks(), (err: any) => err.statusCode === 401 && err.code === 'unauthorized' && err.availableActions.includes('reauthenticate'));
  const fresh = agentRail.client(api, rotated.data.apiKey);
  assert.equal((await fresh.listMyTasks()).data.length, 1);
});
