/**
 * Event subscriptions delivered by Temporal against the real stack and local receivers: AgentRail's
 * headers and signature (checked by its SDK when AGENTRAIL_SDK points at it), retries with the same
 * event id, 410, a hung receiver beside a healthy one, order, company scoping, no backfill, restart.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { subscriptionWorkflowId } from '../../workflows/event-subscription/contract.js';
import { startStack, type Stack } from '../support/stack.js';
import { ALL_TAKEABLE, createIssue, seedCompany, type SeededAgent } from '../support/seed.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';
import { waitFor } from '../support/wait.js';
import { Worker } from '@temporalio/worker';
import { SUBSCRIPTION_WORKFLOW_TYPE } from '../../workflows/event-subscription/contract.js';
import { testEnv } from '../support/stack.js';
import { WORKFLOWS_PATH } from '../../worker/create-worker.js';

const SECRET = 'whsec_delivery_0123456789';
const sdkPath = process.env.AGENTRAIL_SDK;
let counter = 0;

describe('event subscription delivery', () => {
  let stack: Stack;
  const receivers: Receiver[] = [];
  before(async () => {
    // Retries a few hundred ms apart instead of AgentRail's 10 s ×3 (8 attempts either way).
    stack = await startStack({ config: { webhookRetry: { initialIntervalMs: 200, maximumIntervalMs: 1_000 } } });
  });
  after(async () => {
    await stack?.stop();
    for (const r of receivers) await r.close();
  });

  const receiver = async (...args: Parameters<typeof startReceiver>) => {
    const r = await startReceiver(...args);
    receivers.push(r);
    return r;
  };
  const subscribe = async (agent: SeededAgent, url: string, eventTypes = ['task.updated', 'task.comment.created'], extra: Record<string, unknown> = {}) => {
    const res = await agent.http.post('/api/event-subscriptions', { url, eventTypes, secret: SECRET, ...extra }, { 'idempotency-key': `delivery-${++counter}-${Date.now()}` });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.data as { id: string };
  };
  const comment = async (agent: SeededAgent, issueId: string, body: string) => {
    const res = await agent.http.post(`/api/issues/${issueId}/comments`, { body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  };
  const logged = async (issueId: string, atLeast: number) =>
    waitFor(`${atLeast} events of ${issueId} in the log`, async () => (await stack.pool.query('SELECT count(*)::int AS n FROM task_events WHERE issue_id = $1', [issueId])).rows[0].n as number, (n) => n >= atLeast);
  const latest = async () => (await stack.pool.query('SELECT coalesce(max(sequence), 0)::bigint AS n FROM task_events')).rows[0].n as number;

  it('delivers a checkout with AgentRail\'s headers and a signature its SDK accepts: its company\'s events only, none from before', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const other = await seedCompany(stack, 1);
    const [agent] = agents;
    // Before the subscription: not delivered (no backfill).
    const early = await createIssue(stack, companyId, { status: 'todo', assigneeAgentId: agent!.id });
    await logged(early.id, 1);
    const hooks = await receiver();
    const sub = await subscribe(agent!, hooks.url);
    const createdAfter = (await stack.pool.query('SELECT created_after_sequence AS n FROM event_subscriptions WHERE id = $1', [sub.id])).rows[0].n as number;
    assert.ok(createdAfter >= (await stack.pool.query('SELECT max(sequence) AS n FROM task_events WHERE issue_id = $1', [early.id])).rows[0].n);

    // Another company's decisions: never delivered here.
    const theirs = await createIssue(stack, other.companyId, { status: 'todo', assigneeAgentId: other.agents[0]!.id });
    assert.equal((await other.agents[0]!.http.post(`/api/issues/${theirs.id}/checkout`, { agentId: other.agents[0]!.id, expectedStatuses: ALL_TAKEABLE })).status, 200);
    await logged(theirs.id, 2);
    const checkout = await agent!.http.post(`/api/issues/${early.id}/checkout`, { agentId: agent!.id, expectedStatuses: ALL_TAKEABLE });
    assert.equal(checkout.status, 200);
    await comment(agent!, early.id, 'on it');

    const got = await hooks.waitFor(2);
    const started = got.find((r) => r.body.type === 'task.updated' && r.body.data.status === 'in_progress');
    assert.ok(started, JSON.stringify(got.map((r) => r.body)));
    const h = started.headers;
    assert.equal(h['content-type'], 'application/json');
    assert.equal(h['x-agentrail-subscription-id'], sub.id);
    assert.equal(h['x-agentrail-event-id'], started.body.id);
    assert.equal(h['x-agentrail-event-type'], 'task.updated');
    assert.match(String(h['x-agentrail-delivery-id']), /^dlv_[0-9a-f]{20}$/);
    assert.equal(h['x-agentrail-delivery-attempt'], '1');
    assert.equal(h['x-agentrail-signature'], `sha256=${createHmac('sha256', SECRET).update(started.raw).digest('hex')}`);
    assert.equal(started.body.data.taskId, early.id);
    assert.equal(started.body.data.previousStatus, 'todo');
    assert.equal(started.body.taskVersion, checkout.body.version);
    assert.ok(started.body.data.links.task.endsWith(`/api/tasks/${early.id}`));
    if (sdkPath) {
      const { verifyWebhookSignature, parseWebhookEvent } = (await import(pathToFileURL(sdkPath).href)) as any;
      assert.equal(verifyWebhookSignature(started.raw, SECRET, h['x-agentrail-signature']), true);
      assert.equal(verifyWebhookSignature(started.raw, 'another-secret-entirely', h['x-agentrail-signature']), false);
      assert.equal(parseWebhookEvent(started.raw, SECRET, h).id, started.body.id);
    }
    const commented = got.find((r) => r.body.type === 'task.comment.created');
    assert.ok(commented);
    assert.ok(commented.body.sequence > started.body.sequence);
    // Everything received: this company's, after the subscription, in sequence order, once each.
    const seqs = hooks.received.map((r) => r.body.sequence);
    assert.ok(hooks.received.every((r) => r.body.data.taskId === early.id && r.body.sequence > createdAfter), JSON.stringify(hooks.received.map((r) => r.body)));
    assert.deepEqual(seqs, [...new Set(seqs)].sort((a, b) => a - b));

    const health = await agent!.http.get(`/api/event-subscriptions/${sub.id}`);
    assert.ok(health.body.data.lastDeliveryAt);
    assert.equal(health.body.data.lastFailure, null);
    const deliveries = await agent!.http.get(`/api/event-subscriptions/${sub.id}/deliveries`);
    assert.ok(deliveries.body.data.some((d: any) => d.eventId === started.body.id && d.status === 'delivered' && d.attempts === 1 && d.lastStatusCode === 200));
  });

  it('retries a 5xx with the same event id (attempts 1, 2, 3) and holds later events back until it lands', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const [agent] = agents;
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    await logged(issue.id, 1);
    const hooks = await receiver((_r, i) => (i < 2 ? 500 : 200));
    const sub = await subscribe(agent!, hooks.url, ['task.comment.created']);
    await comment(agent!, issue.id, 'first');
    await comment(agent!, issue.id, 'second');
    const got = await hooks.waitFor(4);
    assert.deepEqual(got.map((r) => r.headers['x-agentrail-delivery-attempt']), ['1', '2', '3', '1']);
    const [a, b, c, d] = got;
    assert.equal(a!.body.id, b!.body.id);
    assert.equal(b!.body.id, c!.body.id);
    assert.equal(a!.headers['x-agentrail-event-id'], c!.headers['x-agentrail-event-id']);
    assert.equal(a!.body.data.comment.bodyPreview, 'first');
    assert.equal(d!.body.data.comment.bodyPreview, 'second');
    assert.ok(d!.body.sequence > c!.body.sequence);
    assert.equal(new Set(got.map((r) => r.headers['x-agentrail-delivery-id'])).size, 4, 'a fresh delivery id per attempt');
    const deliveries = await waitFor('both deliveries recorded', async () => (await agent!.http.get(`/api/event-subscriptions/${sub.id}/deliveries`)).body.data, (rows: any[]) => rows.length === 2 && rows.every((r) => r.status === 'delivered'));
    assert.deepEqual(deliveries.map((r: any) => r.attempts), [1, 3]);
    const health = (await agent!.http.get(`/api/event-subscriptions/${sub.id}`)).body.data;
    assert.equal(health.lastFailure.statusCode, 500);
    assert.equal(health.lastFailure.eventId, a!.body.id);
  });

  it('a 4xx fails that event and moves on; a 410 disables the subscription and ends its workflow', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const [agent] = agents;
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    await logged(issue.id, 1);
    const hooks = await receiver((r) => (r.body.data.comment.bodyPreview === 'bad' ? 422 : 410));
    const sub = await subscribe(agent!, hooks.url, ['task.comment.created']);
    await comment(agent!, issue.id, 'bad');
    await comment(agent!, issue.id, 'gone');
    await comment(agent!, issue.id, 'never sent');
    const disabled = await waitFor('the subscription disabled', async () => (await agent!.http.get(`/api/event-subscriptions/${sub.id}`)).body.data, (d: any) => d.status === 'disabled');
    assert.equal(disabled.disabledReason, 'remote_gone');
    assert.deepEqual(disabled.availableActions, []);
    const handle = stack.client.workflow.getHandle(subscriptionWorkflowId(sub.id));
    assert.equal(await handle.result(), 'disabled');
    assert.deepEqual(hooks.received.map((r) => [r.body.data.comment.bodyPreview, r.headers['x-agentrail-delivery-attempt']]), [['bad', '1'], ['gone', '1']]);
    const rows = (await agent!.http.get(`/api/event-subscriptions/${sub.id}/deliveries`)).body.data;
    assert.deepEqual(rows.map((r: any) => [r.status, r.lastStatusCode]), [['gone', 410], ['failed', 422]]);
  });

  it('a receiver that never answers does not delay another subscription', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const [agent] = agents;
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    await logged(issue.id, 1);
    const hung = await receiver(() => 'hang');
    const healthy = await receiver();
    const stuck = await subscribe(agent!, hung.url, ['task.comment.created']);
    await subscribe(agent!, healthy.url, ['task.comment.created']);
    for (let i = 0; i < 3; i++) await comment(agent!, issue.id, `note ${i}`);
    // All three reach the healthy receiver while the hung one still holds its first event (10 s per attempt).
    await healthy.waitFor(3);
    assert.deepEqual(healthy.received.map((r) => r.body.data.comment.bodyPreview), ['note 0', 'note 1', 'note 2']);
    // The hung one has not moved past its first event (its 8 attempts take minutes).
    assert.ok(hung.received.every((r) => r.body.data.comment.bodyPreview === 'note 0'), JSON.stringify(hung.received.map((r) => r.body.data.comment.bodyPreview)));
    assert.equal((await agent!.http.request('DELETE', `/api/event-subscriptions/${stuck.id}`)).status, 202);
    assert.equal(await stack.client.workflow.getHandle(subscriptionWorkflowId(stuck.id)).result(), 'deactivated');
  });

  it('a subscription whose workflow is gone is started again by the next matching event, from its cursor', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const [agent] = agents;
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    await logged(issue.id, 1);
    const hooks = await receiver();
    const sub = await subscribe(agent!, hooks.url, ['task.comment.created']);
    await comment(agent!, issue.id, 'before');
    await hooks.waitFor(1);
    const handle = stack.client.workflow.getHandle(subscriptionWorkflowId(sub.id));
    await waitFor('the cursor past the first delivery', async () => (await stack.pool.query('SELECT delivered_through AS n FROM event_subscriptions WHERE id = $1', [sub.id])).rows[0].n, (n: number) => n >= hooks.received[0]!.body.sequence);
    await handle.terminate('test: lost workflow');
    const before = await latest();
    await comment(agent!, issue.id, 'after');
    await hooks.waitFor(2);
    assert.deepEqual(hooks.received.map((r) => r.body.data.comment.bodyPreview), ['before', 'after']);
    assert.ok(hooks.received[1]!.body.sequence > before);
    assert.equal((await handle.describe()).status.name, 'RUNNING');
  });

  it('continues as new when its history grows, delivering every event once and in order; its history replays', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const [agent] = agents;
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    await logged(issue.id, 1);
    const hooks = await receiver();
    const sub = await subscribe(agent!, hooks.url, ['task.comment.created']);
    // Run it again with a tiny history budget (what SWITCHYARD_CONTINUE_AS_NEW_EVENTS does), from its cursor.
    const handle = stack.client.workflow.getHandle(subscriptionWorkflowId(sub.id));
    await handle.terminate('test: restart with a small history budget');
    const first = await stack.client.workflow.start(SUBSCRIPTION_WORKFLOW_TYPE, { workflowId: subscriptionWorkflowId(sub.id), taskQueue: stack.config.taskQueue, args: [{ subscriptionId: sub.id, continueAsNewAfterEvents: 12 }], workflowIdConflictPolicy: 'TERMINATE_EXISTING' });
    for (let i = 0; i < 6; i++) await comment(agent!, issue.id, `n${i}`);
    await hooks.waitFor(6);
    assert.deepEqual(hooks.received.map((r) => r.body.data.comment.bodyPreview), ['n0', 'n1', 'n2', 'n3', 'n4', 'n5']);
    const now = await handle.describe();
    assert.notEqual(now.runId, first.firstExecutionRunId, 'continued as new');
    const history = await stack.client.workflow.getHandle(subscriptionWorkflowId(sub.id), first.firstExecutionRunId).fetchHistory();
    const bundle = testEnv().bundle;
    await Worker.runReplayHistory(bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: WORKFLOWS_PATH }, history, `${sub.id}-first-run`);
  });
});
