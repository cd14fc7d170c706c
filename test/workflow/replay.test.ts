/**
 * Determinism: histories recorded from real runs (committed under histories/) replay against the
 * current workflow code. Fresh histories from today's scenarios replay too. Re-record the committed
 * ones with RECORD_HISTORIES=1 npm test -- replay (only when a change is meant to be incompatible).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Worker } from '@temporalio/worker';
import { startStack, testEnv, type Stack } from '../support/stack.js';
import { ALL_TAKEABLE, createIssue, seedCompany } from '../support/seed.js';
import { waitFor } from '../support/wait.js';
import { WORKFLOWS_PATH } from '../../worker/create-worker.js';
import { workflowIdFor } from '../../workflows/messages.js';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'histories');

function replayOptions() {
  const bundle = testEnv().bundle;
  return bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: WORKFLOWS_PATH };
}

/** The history as `temporal workflow show --output json` exports it: the format operators download too. */
function exportHistory(workflowId: string, runId: string): string {
  const env = testEnv();
  if (!env.cli) throw new Error('TEST_TEMPORAL_CLI is not set');
  return execFileSync(env.cli, ['workflow', 'show', '--address', env.temporal, '--workflow-id', workflowId, '--run-id', runId, '--output', 'json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

describe('replay', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ config: { continueAsNewAfterEvents: 60 } });
  });
  after(() => stack.stop());

  async function scenarios(): Promise<Record<string, string>> {
    const { companyId, agents } = await seedCompany(stack, 2);
    const [a, b] = agents as [(typeof agents)[0], (typeof agents)[0]];
    const ids: Record<string, string> = {};

    const closed = await createIssue(stack, companyId, { status: 'todo', assigneeAgentId: a.id });
    await a.http.post(`/api/issues/${closed.id}/checkout`, { agentId: a.id, expectedStatuses: ALL_TAKEABLE });
    await b.http.post(`/api/issues/${closed.id}/checkout`, { agentId: b.id, expectedStatuses: ALL_TAKEABLE });
    await a.http.patch(`/api/issues/${closed.id}`, { comment: 'halfway' });
    await a.http.post(`/api/issues/${closed.id}/heartbeat`, {});
    await a.http.patch(`/api/issues/${closed.id}`, { status: 'in_review', comment: 'Review: doc:notes' });
    await a.http.post(`/api/issues/${closed.id}/close`, { comment: 'Inline result: done. Result: ok. Verified: tests.' });
    ids['checkout-review-close'] = closed.id;

    const paused = await createIssue(stack, companyId, { status: 'todo' });
    for (let i = 0; i < 3; i++) {
      await a.http.post(`/api/issues/${paused.id}/checkout`, { agentId: a.id, expectedStatuses: ALL_TAKEABLE, leaseSeconds: 1 });
      await waitFor('expiry', () => stack.admin.get(`/api/issues/${paused.id}`), (r) => r.body.checkout === null);
    }
    ids['lease-expiry-pause'] = paused.id;

    const released = await createIssue(stack, companyId, { status: 'todo' });
    await a.http.post(`/api/issues/${released.id}/checkout`, { agentId: a.id, expectedStatuses: ALL_TAKEABLE });
    await a.http.post(`/api/issues/${released.id}/release`, { comment: 'not mine' });
    await b.http.post(`/api/issues/${released.id}/checkout`, { agentId: b.id, expectedStatuses: ALL_TAKEABLE });
    await b.http.patch(`/api/issues/${released.id}`, { status: 'blocked', comment: 'Needs a human.', assigneeAgentId: a.id });
    ids['release-block-reassign'] = released.id;

    const long = await createIssue(stack, companyId, { status: 'todo' });
    await a.http.post(`/api/issues/${long.id}/checkout`, { agentId: a.id, expectedStatuses: ALL_TAKEABLE });
    for (let i = 0; i < 12; i++) await a.http.post(`/api/issues/${long.id}/comments`, { body: `c${i}` }, { 'Idempotency-Key': `k${i}` });
    ids['continue-as-new'] = long.id;

    // Request Cancellation from the Web UI: the task is cancelled and the workflow ends.
    const cancelled = await createIssue(stack, companyId, { status: 'todo' });
    await a.http.post(`/api/issues/${cancelled.id}/checkout`, { agentId: a.id, expectedStatuses: ALL_TAKEABLE });
    await stack.client.workflow.getHandle(workflowIdFor(cancelled.id)).cancel();
    await stack.client.workflow.getHandle(workflowIdFor(cancelled.id)).result().catch(() => {});
    ids['cancel'] = cancelled.id;

    // Terminated, then restored: the restored run (the newest) is the one recorded.
    const restored = await createIssue(stack, companyId, { status: 'todo' });
    await a.http.post(`/api/issues/${restored.id}/checkout`, { agentId: a.id, expectedStatuses: ALL_TAKEABLE });
    await stack.client.workflow.getHandle(workflowIdFor(restored.id)).terminate('replay scenario');
    await stack.admin.post(`/api/issues/${restored.id}/restore`, {});
    await a.http.patch(`/api/issues/${restored.id}`, { status: 'done', comment: 'Inline result: restored and done.' });
    ids['restore'] = restored.id;
    return ids;
  }

  it('fresh histories of every stage path replay; committed histories replay against today\'s code', async () => {
    const ids = await scenarios();
    const fresh: Array<{ name: string; json: string }> = [];
    for (const [name, id] of Object.entries(ids)) {
      // The first run of each workflow (for the long scenario, the one that continued as new); for the
      // restored one, the run the restore started (visibility lists the newest first).
      const runs: string[] = [];
      for await (const wf of stack.client.workflow.list({ query: `WorkflowId = "issue/${id}"` })) runs.push(wf.runId);
      fresh.push({ name, json: exportHistory(workflowIdFor(id), name === 'restore' ? runs[0]! : runs.at(-1)!) });
    }
    if (process.env.RECORD_HISTORIES === '1') {
      for (const h of fresh) writeFileSync(path.join(DIR, `v2-${h.name}.json`), h.json);
    }
    const committed = readdirSync(DIR)
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({ name: `committed:${f}`, json: readFileSync(path.join(DIR, f), 'utf8') }));
    assert.ok(committed.length >= 12, 'the committed histories are there (v1 remote, v1 local, v2)');

    for (const { name, json } of [...fresh, ...committed]) {
      // runReplayHistory takes the exported JSON as it is (it decodes it with historyFromJSON).
      const history = JSON.parse(json) as { events: unknown[] };
      assert.ok(history.events.length > 10, `${name} is a real history`);
      await assert.doesNotReject(Worker.runReplayHistory(replayOptions(), history, name), `${name} replays`);
    }
  });
});
