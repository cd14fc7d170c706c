/** Leases: the workflow's own durable timer ends a silent checkout; signs of life keep it. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../support/stack.js';
import { ALL_TAKEABLE, createIssue, seedCompany, type SeededAgent } from '../support/seed.js';
import { waitFor } from '../support/wait.js';

describe('leases', () => {
  let stack: Stack;
  let companyId: string;
  let a: SeededAgent;

  before(async () => {
    stack = await startStack();
    const seeded = await seedCompany(stack, 1);
    companyId = seeded.companyId;
    a = seeded.agents[0]!;
  });
  after(() => stack.stop());

  const checkout = (issueId: string, leaseSeconds: number, runId = a.http.runId!) =>
    a.http.withRun(runId).post(`/api/issues/${issueId}/checkout`, { agentId: a.id, expectedStatuses: ALL_TAKEABLE, leaseSeconds });

  it('an expired lease returns the issue to todo with the assignee kept, and logs lease_expired with the run id', async () => {
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    const taken = await checkout(issue.id, 1, 'run-silent');
    assert.equal(taken.status, 200);
    const expired = await waitFor('lease expiry', () => stack.admin.get(`/api/issues/${issue.id}`), (r) => r.body.status === 'todo');
    assert.equal(expired.body.checkout, null);
    assert.equal(expired.body.assigneeAgentId, a.id);
    const log = (await stack.admin.get(`/api/issues/${issue.id}/activity`)).body.filter((e: any) => e.action === 'issue.lease_expired');
    assert.equal(log.length, 1);
    assert.equal(log[0].runId, 'run-silent');
    assert.equal(log[0].details.agentId, a.id);
    // The same agent's next run can take it again.
    assert.equal((await checkout(issue.id, 60, 'run-next')).status, 200);
  });

  it('heartbeats and mutations by the owner keep the lease alive past its length', async () => {
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    assert.equal((await checkout(issue.id, 2)).status, 200);
    const until = Date.now() + 5_000;
    let beats = 0;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 600));
      const res = beats % 2 === 0 ? await a.http.post(`/api/issues/${issue.id}/heartbeat`, {}) : await a.http.patch(`/api/issues/${issue.id}`, { comment: `still going ${beats}` });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      beats++;
    }
    const read = await stack.admin.get(`/api/issues/${issue.id}`);
    assert.equal(read.body.status, 'in_progress');
    assert.equal(read.body.checkout.agentId, a.id);
    const expiries = (await stack.admin.get(`/api/issues/${issue.id}/activity`)).body.filter((e: any) => e.action === 'issue.lease_expired');
    assert.equal(expiries.length, 0);
  });

  it('three expiries in a row pause the issue for an operator', async () => {
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    for (let i = 1; i <= 3; i++) {
      assert.equal((await checkout(issue.id, 1, `run-${i}`)).status, 200);
      const want = i < 3 ? 'todo' : 'paused';
      await waitFor(`expiry ${i}`, () => stack.admin.get(`/api/issues/${issue.id}`), (r) => r.body.status === want && r.body.checkout === null);
    }
    const actions = (await stack.admin.get(`/api/issues/${issue.id}/activity`)).body.map((e: any) => e.action);
    assert.equal(actions.filter((x: string) => x === 'issue.lease_expired').length, 3);
    assert.equal(actions.at(-1), 'issue.paused');
    // Paused is not in the agent's usual expected statuses; an operator decides.
    const retry = await checkout(issue.id, 60);
    assert.equal(retry.status, 409);
    assert.equal((await stack.admin.patch(`/api/issues/${issue.id}`, { status: 'todo', comment: 'Runtime fixed, try again.' })).status, 200);
  });
});
