/**
 * A task whose workflow was started by the v1 code (before the projection redesign) keeps working:
 * its next update is answered the v1 way, then the run continues as new into today's workflow,
 * keeping its state and its memory of update ids.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startStack, type Stack } from '../support/stack.js';
import { ALL_TAKEABLE, createIssue, seedCompany } from '../support/seed.js';
import { waitFor } from '../support/wait.js';
import { workflowIdFor } from '../../workflows/messages.js';

const WORKFLOWS = fileURLToPath(new URL('../support/legacy-workflows.ts', import.meta.url));

describe('a v1 task workflow upgrades itself', { timeout: 120_000 }, () => {
  let stack: Stack;
  before(async () => {
    const noop = () => {};
    const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS, logger: { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop } });
    stack = await startStack({ workflowBundle: bundle });
  });
  after(() => stack.stop());

  it('answers its next update, continues as new into taskWorkflow, and carries on', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const me = agents[0]!;
    const issue = await createIssue(stack, companyId, { status: 'todo', description: 'written before the upgrade' });
    // Replace the task's workflow with a v1 run holding the same state, as the v1 code started it.
    const id = workflowIdFor(issue.id);
    const { descriptionVersion: _dv, ...v1State } = await stack.client.workflow.getHandle(id).query<any>('state');
    await stack.client.workflow.getHandle(id).terminate('replaced by a v1 run for the test');
    await stack.client.workflow.start('legacyTaskWorkflowForTest', { workflowId: id, taskQueue: stack.config.taskQueue, args: [{ state: v1State }] });
    await stack.pool.query("UPDATE issues SET workflow_status = 'running' WHERE id = $1", [issue.id]);

    const checkoutBody = { agentId: me.id, expectedStatuses: ALL_TAKEABLE };
    const checkout = await me.http.post(`/api/issues/${issue.id}/checkout`, checkoutBody, { 'Idempotency-Key': 'checkout-v1' });
    assert.equal(checkout.status, 200, JSON.stringify(checkout.body));
    assert.equal(checkout.body.status, 'in_progress');
    assert.equal(checkout.body.version, 2);
    assert.equal(checkout.body.description, 'written before the upgrade');

    const runs = await waitFor('the continue-as-new into taskWorkflow', async () => {
      const found: Array<{ type: string; status: string }> = [];
      for await (const wf of stack.client.workflow.list({ query: `WorkflowId = "${id}"` })) found.push({ type: wf.type, status: wf.status.name });
      return found;
    }, (r) => r.some((x) => x.type === 'taskWorkflow' && x.status === 'RUNNING'));
    assert.ok(runs.some((x) => x.type === 'legacyTaskWorkflowForTest' && x.status === 'CONTINUED_AS_NEW'), JSON.stringify(runs));

    const comment = await me.http.post(`/api/issues/${issue.id}/comments`, { body: 'after the upgrade' }, { 'Idempotency-Key': 'after-upgrade' });
    assert.equal(comment.status, 201, JSON.stringify(comment.body));
    const read = await waitFor('the projection of today\'s workflow', () => me.http.get(`/api/issues/${issue.id}`), (r) => r.body.version === 3);
    assert.equal(read.body.description, 'written before the upgrade');
    assert.equal(read.body.checkout.agentId, me.id);
    const { rows } = await stack.pool.query('SELECT fingerprint, description_version FROM issues WHERE id = $1', [issue.id]);
    assert.ok(rows[0].fingerprint, 'today\'s workflow wrote the row');

    const state = await stack.client.workflow.getHandle(id).query<any>('state');
    assert.equal(state.version, 3);
    assert.equal(state.descriptionVersion, 2, 'an upgraded run counts its description as changed at the upgrade');
    // The v1 run's memory of update ids travelled too: with its replay record lost, a retry of the
    // checkout is recognised by today's run and changes nothing.
    await stack.pool.query("DELETE FROM idempotency_records WHERE key = 'checkout-v1'");
    const retried = await me.http.post(`/api/issues/${issue.id}/checkout`, checkoutBody, { 'Idempotency-Key': 'checkout-v1' });
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.version, 3, 'answered from memory: no second checkout');
    assert.equal((await stack.client.workflow.getHandle(id).query<any>('state')).version, 3);
    const close = await me.http.post(`/api/issues/${issue.id}/close`, { comment: 'Inline result: upgraded and closed.' });
    assert.equal(close.status, 200, JSON.stringify(close.body));
    assert.deepEqual((await me.http.get(`/api/issues/${issue.id}/comments?order=asc`)).body.map((c: any) => c.body), ['after the upgrade', 'Inline result: upgraded and closed.']);
  });
});
