/** The read model refusing writes for a while: the update waits for its write and lands exactly once. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../support/stack.js';
import { ALL_TAKEABLE, createIssue, seedCompany } from '../support/seed.js';

describe('read model outage', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ config: { temporalCallTimeoutMs: 30_000 } });
  });
  after(() => stack.stop());

  it('a comment made while its table is unwritable returns once the write succeeds, with one row', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const me = agents[0]!;
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    assert.equal((await me.http.post(`/api/issues/${issue.id}/checkout`, { agentId: me.id, expectedStatuses: ALL_TAKEABLE })).status, 200);

    // Every write of this issue now fails inside Postgres (the activity's transaction rolls back).
    await stack.pool.query('ALTER TABLE comments RENAME TO comments_away');
    const pending = me.http.post(`/api/issues/${issue.id}/comments`, { body: 'written during the outage' });
    await new Promise((r) => setTimeout(r, 2_500));
    const meanwhile = await stack.pool.query('SELECT version FROM issues WHERE id = $1', [issue.id]);
    assert.equal(meanwhile.rows[0].version, 2, 'nothing half-written while the table is away');
    await stack.pool.query('ALTER TABLE comments_away RENAME TO comments');

    const res = await pending;
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const comments = (await me.http.get(`/api/issues/${issue.id}/comments?order=asc`)).body;
    assert.deepEqual(comments.map((c: any) => c.body), ['written during the outage']);
    assert.equal((await me.http.get(`/api/issues/${issue.id}`)).body.version, 3);
  });
});
