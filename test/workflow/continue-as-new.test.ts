/** Continue-as-new (with a small threshold) carries the task's state, its lease and its idempotency memory. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../support/stack.js';
import { ALL_TAKEABLE, createIssue, seedCompany } from '../support/seed.js';
import { waitFor } from '../support/wait.js';
import { workflowIdFor } from '../../workflows/messages.js';

describe('continue-as-new', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ config: { continueAsNewAfterEvents: 40 } });
  });
  after(() => stack.stop());

  it('state, lease timer and update-id dedup survive new runs', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const me = agents[0]!;
    const issue = await createIssue(stack, companyId, { status: 'todo', priority: 'high' });
    const handle = stack.client.workflow.getHandle(workflowIdFor(issue.id));
    const firstRun = (await handle.describe()).runId;

    assert.equal((await me.http.post(`/api/issues/${issue.id}/checkout`, { agentId: me.id, expectedStatuses: ALL_TAKEABLE, leaseSeconds: 3 })).status, 200);
    const early = await me.http.post(`/api/issues/${issue.id}/comments`, { body: 'comment 0' }, { 'Idempotency-Key': 'early' });
    assert.equal(early.status, 201);
    for (let i = 1; i <= 12; i++) {
      const res = await me.http.post(`/api/issues/${issue.id}/comments`, { body: `comment ${i}` });
      assert.equal(res.status, 201);
    }
    const runs: string[] = [];
    for await (const wf of stack.client.workflow.list({ query: `WorkflowId = "issue/${issue.id}"` })) runs.push(wf.runId);
    assert.ok(runs.length >= 2, `expected several runs, saw ${runs.length}`);
    const now = await handle.describe();
    assert.notEqual(now.runId, firstRun);

    const state = await handle.query<any>('state');
    assert.equal(state.status, 'in_progress');
    assert.equal(state.priority, 'high');
    assert.equal(state.checkout.agentId, me.id);
    assert.equal(state.version, 1 + 1 + 13);

    // The caller lost its record of the early request (as after a crash): the retry reaches the new run,
    // which still knows that update id and answers as before without a second comment.
    await stack.pool.query("DELETE FROM idempotency_records WHERE key = 'early'");
    const retry = await me.http.post(`/api/issues/${issue.id}/comments`, { body: 'comment 0' }, { 'Idempotency-Key': 'early' });
    assert.equal(retry.status, 201);
    assert.deepEqual(retry.body, early.body);
    const comments = (await me.http.get(`/api/issues/${issue.id}/comments?order=asc`)).body;
    assert.equal(comments.length, 13);

    // The lease set in an earlier run still expires in this one.
    const expired = await waitFor('lease expiry after continue-as-new', () => me.http.get(`/api/issues/${issue.id}`), (r) => r.body.status === 'todo');
    assert.equal(expired.body.checkout, null);
  });
});
