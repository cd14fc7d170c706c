/**
 * The largest values the API accepts never wedge a task (issue 6 §1.1): what a workflow keeps in
 * history per update, and what it carries across continue-as-new, is bounded whatever the sizes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../support/stack.js';
import { ALL_TAKEABLE, createIssue, seedCompany } from '../support/seed.js';
import { workflowIdFor } from '../../workflows/messages.js';

const KIB64 = 64 * 1024;

describe('64 KiB fields, hundreds of updates', { timeout: 600_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ config: { temporalCallTimeoutMs: 30_000 } });
  });
  after(() => stack.stop());

  async function startInput(workflowId: string, runId: string): Promise<number> {
    const { history } = await stack.client.workflowService.getWorkflowExecutionHistory({
      namespace: stack.config.temporalNamespace,
      execution: { workflowId, runId },
      maximumPageSize: 1,
    });
    return history!.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data!.length;
  }

  it('a 64 KiB description, 300 heartbeats and 60 comments of 64 KiB, continue-as-new, then close: every call succeeds', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const me = agents[0]!;
    const description = 'd'.repeat(KIB64);
    const issue = await createIssue(stack, companyId, { status: 'todo', description });
    const handle = stack.client.workflow.getHandle(workflowIdFor(issue.id));
    const taken = await me.http.post(`/api/issues/${issue.id}/checkout`, { agentId: me.id, expectedStatuses: ALL_TAKEABLE });
    assert.equal(taken.status, 200, JSON.stringify(taken.body).slice(0, 300));

    // A heartbeat costs history independent of the description's size.
    const before = await handle.describe();
    for (let i = 0; i < 20; i++) assert.equal((await me.http.post(`/api/issues/${issue.id}/heartbeat`, {})).status, 200);
    const afterTwenty = await handle.describe();
    if (afterTwenty.runId === before.runId) {
      const perHeartbeat = (afterTwenty.historySize! - before.historySize!) / 20;
      assert.ok(perHeartbeat < 8 * 1024, `a heartbeat added ${perHeartbeat} bytes of history`);
    }

    for (let i = 20; i < 300; i++) {
      const res = await me.http.post(`/api/issues/${issue.id}/heartbeat`, {});
      assert.equal(res.status, 200, `heartbeat ${i}: ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    for (let i = 0; i < 60; i++) {
      const body = `${i}:`.padEnd(KIB64, 'c');
      const res = await me.http.post(`/api/issues/${issue.id}/comments`, { body });
      if (res.status !== 201) {
        const h = await handle.fetchHistory();
        for (const e of h.events ?? []) if (e.workflowTaskFailedEventAttributes) console.error('FAILED', JSON.stringify(e.workflowTaskFailedEventAttributes).slice(0, 3000));
      }
      assert.equal(res.status, 201, `comment ${i}: ${JSON.stringify(res.body).slice(0, 300)}`);
      assert.equal(res.body.body.length, KIB64);
    }

    const runs: string[] = [];
    for await (const wf of stack.client.workflow.list({ query: `WorkflowId = "issue/${issue.id}"` })) runs.push(wf.runId);
    assert.ok(runs.length >= 2, `continue-as-new happened (runs: ${runs.length})`);
    const current = await handle.describe();
    const carried = await startInput(workflowIdFor(issue.id), current.runId);
    // The state (with its 64 KiB description), short update memory, unconfirmed entries only.
    assert.ok(carried < 256 * 1024, `continue-as-new carried ${carried} bytes`);

    const closed = await me.http.post(`/api/issues/${issue.id}/close`, { comment: 'Inline result: survived. Verified: every call answered.' });
    assert.equal(closed.status, 200, JSON.stringify(closed.body).slice(0, 300));
    assert.equal(closed.body.issue.status, 'done');
    assert.equal(closed.body.issue.version, 2 + 300 + 60 + 1);
    assert.equal(closed.body.issue.description.length, KIB64);

    const read = await me.http.get(`/api/issues/${issue.id}`);
    assert.equal(read.body.version, 2 + 300 + 60 + 1);
    assert.equal(read.body.description, description);
    const comments = (await me.http.get(`/api/issues/${issue.id}/comments?order=asc`)).body;
    assert.equal(comments.length, 61);
    assert.ok(comments.slice(0, 60).every((c: any, i: number) => c.body.startsWith(`${i}:`) && c.body.length === KIB64));
  });
});
