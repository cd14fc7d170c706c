import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Server } from 'node:http';
import { createApp } from '../../api/app.js';
import { ReadModel } from '../../api/read-model.js';
import { TaskGateway } from '../../api/task-gateway.js';
import { HttpClient } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';
import { ALL_TAKEABLE, createIssue, seedCompany, type SeededAgent } from '../support/seed.js';
import { waitFor } from '../support/wait.js';
import { workflowIdFor } from '../../workflows/messages.js';

describe('checkout', () => {
  let stack: Stack;
  let companyId: string;
  let agents: SeededAgent[];

  before(async () => {
    stack = await startStack();
    ({ companyId, agents } = await seedCompany(stack, 50));
  });
  after(() => stack.stop());

  it('50 concurrent checkouts by 50 agents: exactly one 200, 49 × 409 checkout_conflict, nothing else', async () => {
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    const replies = await Promise.all(
      agents.map((a) => a.http.post(`/api/issues/${issue.id}/checkout`, { agentId: a.id, expectedStatuses: ALL_TAKEABLE })),
    );
    const statuses = replies.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses.join(',')}`);
    assert.equal(statuses.filter((s) => s === 409).length, 49, `statuses: ${statuses.join(',')}`);
    const winner = agents[statuses.indexOf(200)]!;
    for (const loser of replies.filter((r) => r.status === 409)) {
      assert.equal(loser.body.code, 'checkout_conflict');
      assert.deepEqual(Object.keys(loser.body.details).sort(), ['assigneeAgentId', 'checkoutRunId', 'issueId', 'status']);
      assert.equal(loser.body.details.issueId, issue.id);
      assert.equal(loser.body.details.status, 'in_progress');
      assert.equal(loser.body.details.assigneeAgentId, winner.id);
      assert.equal(loser.body.details.checkoutRunId, winner.http.runId);
    }
    const read = await stack.admin.get(`/api/issues/${issue.id}`);
    assert.equal(read.body.status, 'in_progress');
    assert.equal(read.body.checkout.agentId, winner.id);
    const activity = await stack.admin.get(`/api/issues/${issue.id}/activity`);
    assert.equal(activity.body.filter((a: any) => a.action === 'issue.checked_out').length, 1, 'losers leave no trace');
  });

  it('two API instances over one Temporal and one Postgres: a race split across them still has one winner', async () => {
    // A second facade with its own gateway (its own per-issue queue), as a second `npm run api` would have.
    const app = createApp({ config: stack.config, pool: stack.pool, reads: new ReadModel(stack.pool), tasks: new TaskGateway(stack.client, stack.config), adminKey: stack.adminKey });
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const second = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const issue = await createIssue(stack, companyId, { status: 'todo' });
      const replies = await Promise.all(
        agents.map((a, i) => new HttpClient(i % 2 ? second : stack.url, a.key, a.http.runId).post(`/api/issues/${issue.id}/checkout`, { agentId: a.id, expectedStatuses: ALL_TAKEABLE })),
      );
      const statuses = replies.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
      assert.equal(statuses.filter((s) => s === 409).length, agents.length - 1, statuses.join(','));
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('the owner checking out again succeeds idempotently; a new run of the same agent adopts the checkout', async () => {
    const [a] = agents;
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    const first = await a!.http.post(`/api/issues/${issue.id}/checkout`, { agentId: a!.id, expectedStatuses: ['todo'] });
    assert.equal(first.status, 200);
    const again = await a!.http.post(`/api/issues/${issue.id}/checkout`, { agentId: a!.id, expectedStatuses: ['todo'] });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.status, 'in_progress');
    assert.equal(again.body.checkout.runId, a!.http.runId);
    const newRun = await a!.http.withRun('run-next').post(`/api/issues/${issue.id}/checkout`, { agentId: a!.id, expectedStatuses: ['todo'] });
    assert.equal(newRun.status, 200);
    assert.equal(newRun.body.checkout.runId, 'run-next');
    const actions = (await stack.admin.get(`/api/issues/${issue.id}/activity`)).body.map((e: any) => e.action);
    assert.deepEqual(actions, ['issue.created', 'issue.checked_out', 'issue.checkout_renewed', 'issue.checkout_adopted']);
  });

  it('operators find "all in_progress issues of agent X" in Temporal visibility (search attributes), with the title as summary', async () => {
    const [, , c] = agents;
    const issue = await createIssue(stack, companyId, { status: 'todo', title: 'Findable in the Web UI', priority: 'critical' });
    assert.equal((await c!.http.post(`/api/issues/${issue.id}/checkout`, { agentId: c!.id, expectedStatuses: ALL_TAKEABLE })).status, 200);
    const query = `TaskStatus = "in_progress" AND AssigneeAgentId = "${c!.id}" AND CompanyId = "${companyId}" AND Priority = "critical"`;
    const found = await waitFor('visibility', async () => {
      const ids: string[] = [];
      for await (const wf of stack.client.workflow.list({ query })) ids.push(wf.workflowId);
      return ids;
    }, (ids) => ids.length > 0);
    assert.deepEqual(found, [workflowIdFor(issue.id)]);
    const described = await stack.client.workflow.getHandle(workflowIdFor(issue.id)).describe();
    assert.equal(await described.staticSummary(), 'Findable in the Web UI');
    assert.equal(described.typedSearchAttributes.get({ name: 'TaskStatus', type: 'KEYWORD' } as never), 'in_progress');
  });

  it('a status outside expectedStatuses is a 409 and changes nothing', async () => {
    const [a] = agents;
    const issue = await createIssue(stack, companyId, { status: 'backlog' });
    const res = await a!.http.post(`/api/issues/${issue.id}/checkout`, { agentId: a!.id, expectedStatuses: ['todo'] });
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'checkout_conflict');
    assert.equal(res.body.details.status, 'backlog');
    const read = await stack.admin.get(`/api/issues/${issue.id}`);
    assert.equal(read.body.version, issue.version);
    assert.equal(read.body.checkout, null);
  });

  it('an agent cannot check out as another agent (403), nor take an issue assigned to someone else (409)', async () => {
    const [a, b] = agents;
    const issue = await createIssue(stack, companyId, { status: 'todo', assigneeAgentId: b!.id });
    const asOther = await a!.http.post(`/api/issues/${issue.id}/checkout`, { agentId: b!.id, expectedStatuses: ['todo'] });
    assert.equal(asOther.status, 403);
    assert.equal(asOther.body.code, 'forbidden');
    const taken = await a!.http.post(`/api/issues/${issue.id}/checkout`, { agentId: a!.id, expectedStatuses: ['todo'] });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.details.assigneeAgentId, b!.id);
    const mine = await b!.http.post(`/api/issues/${issue.id}/checkout`, { agentId: b!.id, expectedStatuses: ['todo'] });
    assert.equal(mine.status, 200);
  });
});
