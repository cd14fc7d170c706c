/**
 * Determinism of the event-subscription workflow: a subscription's runs from a real scenario (2xx, a
 * 5xx retried twice, a 4xx, continue-as-new, deactivation) replay against today's code, and so do the
 * runs recorded under histories/ with earlier code (subscription-v1: one activity per event;
 * subscription-v2: delivery batches, the `delivery-batches` patch; subscription-v1to2: a run begun by
 * the v1 code — a 5xx retried — and carried on by the v2 code after a worker restart, the patch marker
 * mid-run, recorded once by hand from the two bundles). Re-record today's with
 * RECORD_HISTORIES=1 npm test -- replay-subscription (only when a change is meant to be incompatible).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { subscriptionWorkflowId } from '../../workflows/event-subscription/contract.js';
import { WORKFLOWS_PATH } from '../../worker/create-worker.js';
import { createIssue, seedCompany } from '../support/seed.js';
import { startStack, testEnv, type Stack } from '../support/stack.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';
import { waitFor } from '../support/wait.js';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'histories');
/** The prefix today's code records under (bump it with a change to the workflow's commands). */
const RECORD_AS = 'subscription-v2';

describe('replay: event subscriptions', () => {
  let stack: Stack;
  let hooks: Receiver;
  before(async () => {
    stack = await startStack({ config: { webhookRetry: { initialIntervalMs: 200, maximumIntervalMs: 1_000 }, continueAsNewAfterEvents: 40 } });
    const tries = new Map<string, number>();
    hooks = await startReceiver((r) => {
      const text = String(r.body?.data?.comment?.bodyPreview ?? '');
      const n = (tries.get(text) ?? 0) + 1;
      tries.set(text, n);
      if (text === 'flaky') return n <= 2 ? 500 : 200;
      if (text === 'bad') return 422;
      return 200;
    });
  });
  after(async () => {
    await stack?.stop();
    await hooks?.close();
  });

  it('a subscription\'s runs replay; the committed subscription histories replay against today\'s code', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const agent = agents[0]!;
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    const res = await agent.http.post('/api/event-subscriptions', { url: hooks.url, eventTypes: ['task.comment.created'], secret: 'whsec_replay_0123456789' }, { 'idempotency-key': `replay-sub-${Date.now()}` });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const id = res.body.data.id as string;
    const texts = ['a', 'b', 'flaky', 'c', 'bad', 'd', ...Array.from({ length: 8 }, (_, i) => `n${i}`)];
    for (const [i, text] of texts.entries()) {
      assert.equal((await agent.http.post(`/api/issues/${issue.id}/comments`, { body: text })).status, 201);
      if (i % 4 === 3) await hooks.waitFor(hooks.received.length + 1);
    }
    await waitFor('every comment handled', async () => (await stack.pool.query(`SELECT count(*)::int AS n FROM event_deliveries WHERE subscription_id = $1 AND status IN ('delivered', 'failed')`, [id])).rows[0].n, (n: number) => n === texts.length, 60_000);
    assert.equal((await agent.http.request('DELETE', `/api/event-subscriptions/${id}`)).status, 202);
    const handle = stack.client.workflow.getHandle(subscriptionWorkflowId(id));
    // Deactivated by the signal, or found disabled by a page read between the DELETE and the signal.
    assert.ok(['deactivated', 'disabled'].includes(await handle.result()));

    const runs: string[] = [];
    for await (const wf of stack.client.workflow.list({ query: `WorkflowId = "${subscriptionWorkflowId(id)}"` })) runs.push(wf.runId);
    const env = testEnv();
    if (!env.cli) throw new Error('TEST_TEMPORAL_CLI is not set');
    const fresh = runs.reverse().map((runId, i) => ({
      name: `${RECORD_AS}-run${i + 1}`,
      json: execFileSync(env.cli!, ['workflow', 'show', '--address', env.temporal, '--workflow-id', subscriptionWorkflowId(id), '--run-id', runId, '--output', 'json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }),
    }));
    assert.ok(fresh.length >= 2, 'the scenario continued as new at least once');
    // A run that only started and was stopped shows nothing (and replay.test.ts wants more than 10 events in every committed history).
    if (process.env.RECORD_HISTORIES === '1') for (const h of fresh) if ((JSON.parse(h.json) as { events: unknown[] }).events.length > 10) writeFileSync(path.join(DIR, `${h.name}.json`), h.json);
    const committed = readdirSync(DIR)
      .filter((f) => f.startsWith('subscription-') && f.endsWith('.json'))
      .map((f) => ({ name: `committed:${f}`, json: readFileSync(path.join(DIR, f), 'utf8') }));
    assert.ok(committed.some((c) => c.name.startsWith('committed:subscription-v1-')), 'the histories of the one-activity-per-event workflow are there');
    const bundle = env.bundle;
    for (const { name, json } of [...fresh, ...committed]) {
      const history = JSON.parse(json) as { events: unknown[] };
      assert.ok(history.events.length > 5, `${name} is a real history`);
      await assert.doesNotReject(Worker.runReplayHistory(bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: WORKFLOWS_PATH }, history, name), `${name} replays`);
    }
  });
});
