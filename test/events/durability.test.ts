/**
 * The event log survives its processes: kill -9 of the API while streams are open (clients resume
 * from their last id with nothing missed or doubled), and of the worker between a decision and its
 * events (written once, when the decision is durable).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { spawnApi } from '../support/child-api.js';
import { spawnWorker } from '../support/child-worker.js';
import { openStream, type StreamedEvent } from '../support/sse.js';
import { startStack, type Stack } from '../support/stack.js';
import { ALL_TAKEABLE, createIssue, seedCompany } from '../support/seed.js';
import { waitFor } from '../support/wait.js';

describe('event log durability', () => {
  let stack: Stack;
  const children: ChildProcess[] = [];
  before(async () => {
    stack = await startStack({ withoutWorker: true, config: { temporalCallTimeoutMs: 40_000 } });
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await stack?.stop();
  });

  it('kill -9 of the API with streams open: clients resume from their last id, nothing missed or doubled', async () => {
    const worker = await spawnWorker(stack);
    children.push(worker.child);
    const { companyId, agents } = await seedCompany(stack, 1);
    const [agent] = agents;
    const issue = await createIssue(stack, companyId, { status: 'todo', assigneeAgentId: agent!.id });
    const taken = await agent!.http.post(`/api/issues/${issue.id}/checkout`, { agentId: agent!.id, expectedStatuses: ALL_TAKEABLE });
    assert.equal(taken.status, 200);
    const start = (await stack.pool.query('SELECT coalesce(max(sequence), 0)::int AS s FROM task_events')).rows[0].s as number;

    let api = await spawnApi(stack);
    children.push(api.child);
    // Two clients: the operator sees everything, the agent its company (here, the same events).
    const clients = [
      { key: stack.adminKey, got: [] as StreamedEvent[] },
      { key: agent!.key, got: [] as StreamedEvent[] },
    ];
    const connect = async () => {
      for (const c of clients) {
        const last = c.got.at(-1)?.id ?? String(start);
        const s = await openStream(api.url, c.key, { taskId: issue.id }, { 'last-event-id': last });
        assert.equal(s.status, 200, JSON.stringify(s.error));
        const seen = new Set(c.got.map((e) => e.id));
        // Copy as they come: the stream object dies with the API.
        const pump = setInterval(() => {
          for (const e of s.events) if (!seen.has(e.id)) (seen.add(e.id), c.got.push(e));
        }, 20);
        void s.closed.then(() => {
          clearInterval(pump);
          for (const e of s.events) if (!seen.has(e.id)) (seen.add(e.id), c.got.push(e));
        });
      }
    };
    await connect();
    const comments = 12;
    for (let i = 0; i < comments; i++) {
      const res = await agent!.http.post(`/api/issues/${issue.id}/comments`, { body: `note ${i}` });
      assert.equal(res.status, 201);
      if (i === 5) {
        await api.kill();
        api = await spawnApi(stack);
        children.push(api.child);
        await connect();
      }
    }
    const expected = (await stack.pool.query('SELECT id, sequence FROM task_events WHERE issue_id = $1 AND sequence > $2 ORDER BY sequence', [issue.id, start])).rows;
    for (const c of clients) {
      await waitFor('every event on both clients', async () => c.got.length, (n) => n >= expected.length && expected.length >= comments);
      assert.deepEqual(c.got.map((e) => e.id), expected.map((e) => e.id), 'in order, once each');
    }
    await api.kill();
    await worker.kill();
  });

  it('kill -9 of the worker between a decision and its events: the events come once the decision is durable, once', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const [agent] = agents;
    const first = await spawnWorker(stack, 'close');
    children.push(first.child);
    const issue = await createIssue(stack, companyId, { status: 'todo', assigneeAgentId: agent!.id });
    const taken = await agent!.http.post(`/api/issues/${issue.id}/checkout`, { agentId: agent!.id, expectedStatuses: ALL_TAKEABLE });
    assert.equal(taken.status, 200);
    const body = { comment: 'Result: done. Verified: tests pass. Commit 9f8e7d6c5b4a' };
    const closing = agent!.http.post(`/api/issues/${issue.id}/close`, body, { 'Idempotency-Key': 'close-events' });
    await first.hooked;
    const doneEvents = async () => (await stack.pool.query(`SELECT id FROM task_events WHERE issue_id = $1 AND data->>'status' = 'done'`, [issue.id])).rows;
    assert.equal((await doneEvents()).length, 0, 'no event for a decision Temporal does not have');
    await first.kill();
    const second = await spawnWorker(stack);
    children.push(second.child);
    await closing;
    const retry = await agent!.http.post(`/api/issues/${issue.id}/close`, body, { 'Idempotency-Key': 'close-events' });
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    await waitFor('the close\'s events', doneEvents, (rows) => rows.length > 0);
    await new Promise((r) => setTimeout(r, 500));
    const types = (await stack.pool.query(`SELECT type FROM task_events WHERE issue_id = $1 AND data->>'status' = 'done' ORDER BY sequence`, [issue.id])).rows.map((r) => r.type);
    assert.deepEqual(types, ['task.updated', 'task.comment.created'], 'one of each, however many retries');
    await second.kill();
  });
});
