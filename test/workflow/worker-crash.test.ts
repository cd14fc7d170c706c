/**
 * kill -9 of the worker at the worst moment: the close Update's handler has run, the server has not
 * recorded it. The read model must show nothing of it then, and after a new worker takes over the
 * close happens exactly once.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { spawnWorker as spawnChildWorker } from '../support/child-worker.js';
import { startStack, type Stack } from '../support/stack.js';
import { ALL_TAKEABLE, createIssue, seedCompany } from '../support/seed.js';
import { waitFor } from '../support/wait.js';
import { commentUpdate } from '../../workflows/messages.js';
import { workflowIdFor } from '../../workflows/messages.js';

describe('worker crash during close', () => {
  let stack: Stack;
  const children: ChildProcess[] = [];

  before(async () => {
    stack = await startStack({ withoutWorker: true, config: { temporalCallTimeoutMs: 40_000 } });
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await stack.stop();
  });

  const spawnWorker = async (hookUpdate = '') => {
    const w = await spawnChildWorker(stack, hookUpdate);
    children.push(w.child);
    return w;
  };

  it('one comment, one done, one closed entry; the read model never showed the close before Temporal had it', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const me = agents[0]!;
    const issue = await createIssue(stack, companyId, { status: 'todo' });

    const first = await spawnWorker('close');
    const taken = await me.http.post(`/api/issues/${issue.id}/checkout`, { agentId: me.id, expectedStatuses: ALL_TAKEABLE });
    assert.equal(taken.status, 200, JSON.stringify(taken.body));

    const body = { comment: 'Result: migrated. Verified: row counts match. Commit 9f8e7d6c5b4a' };
    const key = { 'Idempotency-Key': 'close-crash' };
    const closing = me.http.post(`/api/issues/${issue.id}/close`, body, key);
    await first.hooked;
    // The close handler has run inside the worker; the server has not recorded it.
    const row = await stack.pool.query('SELECT status, version FROM issues WHERE id = $1', [issue.id]);
    assert.deepEqual(row.rows[0], { status: 'in_progress', version: 2 }, 'the read model is not ahead of Temporal');
    const written = await stack.pool.query("SELECT (SELECT count(*)::int FROM comments WHERE issue_id = $1) AS comments, (SELECT count(*)::int FROM activity_log WHERE issue_id = $1 AND action = 'issue.closed') AS closes", [issue.id]);
    assert.deepEqual(written.rows[0], { comments: 0, closes: 0 });
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    await spawnWorker();
    const res = await closing;
    const retry = await me.http.post(`/api/issues/${issue.id}/close`, body, key);
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    if (res.status === 200) assert.deepEqual(res.body, retry.body);
    else assert.equal(res.status, 503, 'the first caller may only be told to retry');

    const read = await waitFor('done in the read model', () => me.http.get(`/api/issues/${issue.id}`), (r) => r.body.status === 'done');
    assert.equal(read.body.version, 3);
    const comments = (await me.http.get(`/api/issues/${issue.id}/comments?order=asc`)).body;
    assert.equal(comments.length, 1);
    assert.equal(comments[0].body, body.comment);
    const closes = (await me.http.get(`/api/issues/${issue.id}/activity`)).body.filter((e: any) => e.action === 'issue.closed');
    assert.equal(closes.length, 1);
  });

  it('the API dies between an Update\'s answer and its write: the projection activity writes it anyway', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const me = agents[0]!;
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    await spawnWorker();
    assert.equal((await me.http.post(`/api/issues/${issue.id}/checkout`, { agentId: me.id, expectedStatuses: ALL_TAKEABLE })).status, 200);
    // Exactly what the API sends, answered by Temporal, and then nothing: the API is gone.
    const handle = stack.client.workflow.getHandle(workflowIdFor(issue.id));
    const result = await handle.executeUpdate(commentUpdate, { args: [{ actor: { kind: 'agent', agentId: me.id, runId: 'run-lost' }, body: 'said just before the API died', knownDescriptionVersion: 1 }] });
    assert.equal(result.issue.version, 3);
    const read = await waitFor('the projection to land', () => me.http.get(`/api/issues/${issue.id}`), (r) => r.body.version === 3);
    assert.equal(read.body.status, 'in_progress');
    const comments = (await me.http.get(`/api/issues/${issue.id}/comments?order=asc`)).body;
    assert.deepEqual(comments.map((c: any) => [c.body, c.runId]), [['said just before the API died', 'run-lost']]);
  });
});
