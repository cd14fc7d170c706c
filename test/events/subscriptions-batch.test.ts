/**
 * Delivery batches (the fast path): a page of events POSTed in order by one activity; the first that
 * needs a retry goes on alone with attempts 2.. and the same event id, then batches resume; a 410
 * mid-batch ends the subscription; a worker killed (-9) mid-batch re-sends at most the event it was
 * sending, never one already recorded delivered. Receivers answer the first event slowly so that the
 * later ones wait for it and arrive as one batch.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { subscriptionWorkflowId } from '../../workflows/event-subscription/contract.js';
import { spawnWorker } from '../support/child-worker.js';
import { createIssue, seedCompany, type SeededAgent } from '../support/seed.js';
import { startStack, type Stack } from '../support/stack.js';
import { startReceiver, type Answer, type Received, type Receiver } from '../support/webhook-receiver.js';
import { waitFor } from '../support/wait.js';

const SECRET = 'whsec_batches_0123456789';
const delay = (ms: number, status = 200) => new Promise<number>((r) => setTimeout(() => r(status), ms));
const text = (r: Received) => String(r.body.data.comment.bodyPreview);
const attempt = (r: Received) => r.headers['x-agentrail-delivery-attempt'];
let counter = 0;

async function scenario(stack: Stack) {
  const receivers: Receiver[] = [];
  const { companyId, agents } = await seedCompany(stack, 1);
  const agent = agents[0]!;
  const issue = await createIssue(stack, companyId, { status: 'todo' });
  await waitFor('the issue\'s first event', async () => (await stack.pool.query('SELECT count(*)::int AS n FROM task_events WHERE issue_id = $1', [issue.id])).rows[0].n, (n: number) => n >= 1);
  return {
    agent,
    receivers,
    async receiver(answer: (r: Received, i: number) => Answer) {
      const r = await startReceiver(answer);
      receivers.push(r);
      return r;
    },
    async subscribe(who: SeededAgent, url: string) {
      const res = await who.http.post('/api/event-subscriptions', { url, eventTypes: ['task.comment.created'], secret: SECRET }, { 'idempotency-key': `batch-${++counter}-${Date.now()}` });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.data.id as string;
    },
    async comments(bodies: string[]) {
      for (const body of bodies) assert.equal((await agent.http.post(`/api/issues/${issue.id}/comments`, { body })).status, 201);
    },
    deliveries: async (id: string) => (await agent.http.get(`/api/event-subscriptions/${id}/deliveries?limit=100`)).body.data as Array<{ eventId: string; sequence: number; status: string; attempts: number; lastStatusCode: number | null }>,
  };
}

/** How many activities the subscription's runs scheduled (every run of its workflow). */
async function activitiesScheduled(stack: Stack, id: string): Promise<{ batches: number; single: number }> {
  let batches = 0;
  let single = 0;
  for await (const wf of stack.client.workflow.list({ query: `WorkflowId = "${subscriptionWorkflowId(id)}"` })) {
    const history = await stack.client.workflow.getHandle(subscriptionWorkflowId(id), wf.runId).fetchHistory();
    for (const e of history.events ?? []) {
      const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
      if (name === 'deliverEventBatch') batches++;
      if (name === 'deliverEvent') single++;
    }
  }
  return { batches, single };
}

describe('event subscription delivery batches', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ config: { webhookRetry: { initialIntervalMs: 200, maximumIntervalMs: 1_000 } } });
  });
  after(async () => {
    await stack?.stop();
  });

  it('delivers a burst in sequence order, once each, attempt 1, with far fewer activities than events', async () => {
    const s = await scenario(stack);
    const hooks = await s.receiver((_r, i) => (i === 0 ? delay(2500) : 200));
    const id = await s.subscribe(s.agent, hooks.url);
    const bodies = Array.from({ length: 30 }, (_, i) => `b${i}`);
    await s.comments(bodies);
    await hooks.waitFor(30);
    assert.deepEqual(hooks.received.map(text), bodies);
    assert.ok(hooks.received.every((r) => attempt(r) === '1'));
    const seqs = hooks.received.map((r) => r.body.sequence as number);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    const rows = await waitFor('30 delivered rows', () => s.deliveries(id), (d) => d.length === 30 && d.every((r) => r.status === 'delivered' && r.attempts === 1));
    assert.equal(rows.length, 30);
    const { batches, single } = await activitiesScheduled(stack, id);
    assert.equal(single, 0, 'no one-event activity when every answer is a 2xx');
    assert.ok(batches < 15, `${batches} batches for 30 events`);
    for (const r of s.receivers) await r.close();
    await s.agent.http.request('DELETE', `/api/event-subscriptions/${id}`);
  });

  it('a 5xx mid-batch: that event alone is retried (attempts 1, 2, 3, the same event id), then the rest of the batch goes, nothing delivered twice', async () => {
    const s = await scenario(stack);
    let flaky = 0;
    const hooks = await s.receiver((r, i) => {
      if (i === 0) return delay(1500);
      if (text(r) === 'x2' && ++flaky <= 2) return 503;
      return 200;
    });
    const id = await s.subscribe(s.agent, hooks.url);
    await s.comments(['x0', 'x1', 'x2', 'x3', 'x4', 'x5']);
    await hooks.waitFor(8);
    await new Promise((r) => setTimeout(r, 500)); // nothing more comes
    assert.deepEqual(hooks.received.map((r) => [text(r), attempt(r)]), [['x0', '1'], ['x1', '1'], ['x2', '1'], ['x2', '2'], ['x2', '3'], ['x3', '1'], ['x4', '1'], ['x5', '1']]);
    const x2 = hooks.received.filter((r) => text(r) === 'x2');
    assert.equal(new Set(x2.map((r) => r.headers['x-agentrail-event-id'])).size, 1, 'the same event id on every attempt');
    assert.equal(x2[0]!.headers['x-agentrail-event-id'], x2[0]!.body.id);
    assert.equal(new Set(x2.map((r) => r.headers['x-agentrail-delivery-id'])).size, 3, 'a fresh delivery id per attempt');
    const rows = await waitFor('six delivered rows', () => s.deliveries(id), (d) => d.length === 6 && d.every((r) => r.status === 'delivered'));
    assert.deepEqual(rows.map((r) => r.attempts), [1, 1, 1, 3, 1, 1]); // newest first
    const health = (await s.agent.http.get(`/api/event-subscriptions/${id}`)).body.data;
    assert.equal(health.lastFailure.statusCode, 503);
    assert.equal(health.lastFailure.attempt, 2);
    assert.equal(health.lastFailure.eventId, x2[0]!.body.id);
    const { single } = await activitiesScheduled(stack, id);
    assert.equal(single, 1, 'one one-event activity (retried by Temporal) for the one event that needed it');
    for (const r of s.receivers) await r.close();
    await s.agent.http.request('DELETE', `/api/event-subscriptions/${id}`);
  });

  it('a 5xx on every attempt: 8 attempts of that event, recorded exhausted, then the next event goes', async () => {
    const s = await scenario(stack);
    const hooks = await s.receiver((r, i) => (i === 0 ? delay(1500) : text(r) === 'dead' ? 500 : 200));
    const id = await s.subscribe(s.agent, hooks.url);
    await s.comments(['ok', 'dead', 'after']);
    await hooks.waitFor(10, 60_000);
    assert.deepEqual(hooks.received.map((r) => [text(r), attempt(r)]), [['ok', '1'], ...Array.from({ length: 8 }, (_, i) => ['dead', String(i + 1)]), ['after', '1']]);
    const rows = await waitFor('three rows', () => s.deliveries(id), (d) => d.length === 3 && d[0]!.status === 'delivered');
    assert.deepEqual(rows.map((r) => [r.status, r.attempts]), [['delivered', 1], ['exhausted', 8], ['delivered', 1]]);
    for (const r of s.receivers) await r.close();
    await s.agent.http.request('DELETE', `/api/event-subscriptions/${id}`);
  });

  it('a 410 mid-batch disables the subscription: nothing after it is sent, and its workflow ends', async () => {
    const s = await scenario(stack);
    const hooks = await s.receiver((r, i) => (i === 0 ? delay(1500) : text(r) === 'gone' ? 410 : text(r) === 'bad' ? 422 : 200));
    const id = await s.subscribe(s.agent, hooks.url);
    await s.comments(['a', 'bad', 'b', 'gone', 'never1', 'never2']);
    const disabled = await waitFor('disabled', async () => (await s.agent.http.get(`/api/event-subscriptions/${id}`)).body.data, (d: any) => d.status === 'disabled');
    assert.equal(disabled.disabledReason, 'remote_gone');
    assert.equal(await stack.client.workflow.getHandle(subscriptionWorkflowId(id)).result(), 'disabled');
    assert.deepEqual(hooks.received.map((r) => [text(r), attempt(r)]), [['a', '1'], ['bad', '1'], ['b', '1'], ['gone', '1']]);
    const rows = await s.deliveries(id);
    assert.deepEqual(rows.map((r) => [r.status, r.lastStatusCode]), [['gone', 410], ['delivered', 200], ['failed', 422], ['delivered', 200]]);
    for (const r of s.receivers) await r.close();
  });
});

describe('event subscription delivery batches: a worker killed mid-batch', () => {
  let stack: Stack;
  const children: ChildProcess[] = [];
  before(async () => {
    stack = await startStack({ withoutWorker: true, config: { webhookRetry: { initialIntervalMs: 200, maximumIntervalMs: 1_000 } } });
    process.env.SWITCHYARD_ALLOW_PRIVATE_TARGETS = 'true';
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await stack?.stop();
  });

  it('after kill -9 the batch resumes: events recorded delivered are not sent again, at most the one in flight is (attempt 2, the same event id)', async () => {
    const first = await spawnWorker(stack);
    children.push(first.child);
    const s = await scenario(stack);
    // Slow answers, so the kill lands inside a batch.
    const hooks = await s.receiver((_r, i) => delay(i === 0 ? 1500 : 250));
    const id = await s.subscribe(s.agent, hooks.url);
    const bodies = Array.from({ length: 12 }, (_, i) => `k${i}`);
    await s.comments(bodies);
    await hooks.waitFor(5);
    await first.kill();
    const deliveredBefore = new Set((await s.deliveries(id)).filter((r) => r.status === 'delivered').map((r) => r.eventId));
    const sentBefore = hooks.received.length;
    assert.ok(deliveredBefore.size >= 3 && deliveredBefore.size < 12, `${deliveredBefore.size} recorded delivered at the kill`);

    const second = await spawnWorker(stack);
    children.push(second.child);
    // The batch's heartbeat times out (30 s), then it is retried by the new worker.
    await waitFor('every event delivered', () => s.deliveries(id), (d) => d.length === 12 && d.every((r) => r.status === 'delivered'), 90_000);
    const ids = hooks.received.map((r) => r.body.id as string);
    // In order of first arrival, each at least once.
    assert.deepEqual([...new Set(hooks.received.map(text))], bodies);
    // None recorded delivered before the kill came again.
    for (const e of deliveredBefore) assert.equal(ids.filter((x) => x === e).length, 1, `${e} was sent once`);
    // At most one event twice: the one in flight when the worker died, the second time as attempt 2.
    const twice = [...new Set(ids)].filter((e) => ids.filter((x) => x === e).length > 1);
    assert.ok(twice.length <= 1, `sent twice: ${twice.join(', ')}`);
    assert.ok(hooks.received.slice(0, sentBefore).every((r) => attempt(r) === '1'));
    for (const e of twice) {
      const again = hooks.received.filter((r) => r.body.id === e);
      assert.deepEqual(again.map(attempt), ['1', '2']);
      assert.equal(again[0]!.headers['x-agentrail-event-id'], again[1]!.headers['x-agentrail-event-id']);
    }
    assert.equal(hooks.received.length, 12 + twice.length);
    await second.kill();
    for (const r of s.receivers) await r.close();
  });
});
