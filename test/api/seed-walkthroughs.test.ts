/** The worked examples of seed 000 (IC heartbeat) and seed 003 (atomic close-out), run as written. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../support/stack.js';
import { createIssue, seedCompany } from '../support/seed.js';

const TAKE = ['todo', 'backlog', 'blocked', 'in_review'];

describe('seed walkthroughs', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  it('seed 000: IC heartbeat — me, list, continue in_progress work to done, check out the next, partial progress', async () => {
    // Seed 000 closes with a comment that has no deliverable signal: its company does not require one.
    const { companyId, agents } = await seedCompany(stack, 1, { requireDeliverable: false });
    const me = agents[0]!;
    const agent = stack.as(me.key);
    const run = { 'X-AImetier-Run-Id': 'heartbeat-run-7' };
    const i99 = await createIssue(stack, companyId, { title: 'Add JWT auth', status: 'todo', assigneeAgentId: me.id, priority: 'high' });
    const i100 = await createIssue(stack, companyId, { title: 'Rate limiter review', status: 'todo', assigneeAgentId: me.id });
    const i101 = await createIssue(stack, companyId, { title: 'Fix sliding window', status: 'todo', assigneeAgentId: me.id, priority: 'critical' });
    // Earlier runs left 101 in progress and 100 in review.
    assert.equal((await agent.post(`/api/issues/${i101.id}/checkout`, { agentId: me.id, expectedStatuses: TAKE }, run)).status, 200);
    assert.equal((await agent.post(`/api/issues/${i100.id}/checkout`, { agentId: me.id, expectedStatuses: TAKE }, run)).status, 200);
    assert.equal((await agent.patch(`/api/issues/${i100.id}`, { status: 'in_review', comment: 'Ready for review: doc:review-notes' }, run)).status, 200);

    const who = await agent.get('/api/agents/me');
    assert.equal(who.status, 200);
    const { id, name, companyId: co, role, status, chainOfCommand } = who.body;
    assert.deepEqual({ id, name, companyId: co, role, status, chainOfCommand }, { id: me.id, name: 'agent-0', companyId, role: 'engineer', status: 'active', chainOfCommand: [] });

    const list = await agent.get(`/api/companies/${companyId}/issues?assigneeAgentId=${me.id}&status=todo,in_progress,in_review,blocked`);
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.map((i: any) => [i.id, i.status]),
      [
        [i101.id, 'in_progress'],
        [i99.id, 'todo'],
        [i100.id, 'in_review'],
      ],
      'priority first (critical, high, medium), then age',
    );

    const detail = await agent.get(`/api/issues/${i101.id}`);
    assert.equal(detail.body.status, 'in_progress');
    assert.ok(detail.body.availableActions.includes('close'));
    assert.equal((await agent.get(`/api/issues/${i101.id}/comments`)).status, 200);

    const done = await agent.patch(`/api/issues/${i101.id}`, { status: 'done', comment: 'Fixed sliding window. Was using wall-clock instead of monotonic time.' }, run);
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.status, 'done');
    assert.ok(done.body.warnings.some((w: string) => /deliverable/i.test(w)), 'a missing deliverable is a warning here');

    const next = await agent.post(`/api/issues/${i99.id}/checkout`, { agentId: me.id, expectedStatuses: TAKE }, run);
    assert.equal(next.status, 200);
    assert.equal(next.body.status, 'in_progress');
    assert.equal(next.body.checkout.runId, 'heartbeat-run-7');

    const progress = await agent.patch(`/api/issues/${i99.id}`, { comment: 'JWT signing done. Still need token refresh. Will continue next heartbeat.' }, run);
    assert.equal(progress.status, 200);
    assert.equal(progress.body.status, 'in_progress');
    const comments = (await agent.get(`/api/issues/${i99.id}/comments?order=asc`)).body;
    assert.equal(comments.length, 1);
    assert.equal(comments[0].runId, 'heartbeat-run-7');
  });

  it('seed 000 default company: the same done-without-deliverable is refused, nothing written', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const me = agents[0]!;
    const issue = await createIssue(stack, companyId, { status: 'todo', assigneeAgentId: me.id });
    await me.http.post(`/api/issues/${issue.id}/checkout`, { agentId: me.id, expectedStatuses: TAKE });
    const refused = await me.http.patch(`/api/issues/${issue.id}`, { status: 'done', comment: 'Implemented JWT signing and token refresh. All tests passing.' });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.code, 'deliverable_missing');
    assert.ok(Array.isArray(refused.body.details.accepted));
    const after = await me.http.get(`/api/issues/${issue.id}`);
    assert.equal(after.body.status, 'in_progress');
    assert.deepEqual((await me.http.get(`/api/issues/${issue.id}/comments`)).body, []);
  });

  it('seed 003: close writes the comment and done together, lists deliverables, refuses "I\'m done"', async () => {
    const { companyId, agents } = await seedCompany(stack, 2);
    const [me, other] = agents;
    const issue = await createIssue(stack, companyId, { status: 'todo', assigneeAgentId: me!.id });
    await me!.http.post(`/api/issues/${issue.id}/checkout`, { agentId: me!.id, expectedStatuses: TAKE });

    const bare = await me!.http.post(`/api/issues/${issue.id}/close`, { comment: "I'm done" });
    assert.equal(bare.status, 422);
    assert.equal(bare.body.code, 'deliverable_missing');
    const empty = await me!.http.post(`/api/issues/${issue.id}/close`, { comment: '   ' });
    assert.equal(empty.status, 422);

    const byOther = await other!.http.post(`/api/issues/${issue.id}/close`, { comment: 'Inline result: 42' });
    assert.equal(byOther.status, 409);
    assert.equal(byOther.body.code, 'not_owner');
    assert.deepEqual((await me!.http.get(`/api/issues/${issue.id}/comments`)).body, [], 'a refused close writes no comment');

    const closing = [
      'Deliverable: doc:report-17 and https://github.com/acme/api/commit/4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39',
      'Result: The export job no longer times out on large tenants.',
      'Verified: ran the export for the largest tenant; 3 runs under 40 s.',
    ].join('\n');
    const closed = await me!.http.post(`/api/issues/${issue.id}/close`, { comment: closing });
    assert.equal(closed.status, 200, JSON.stringify(closed.body));
    assert.equal(closed.body.issue.status, 'done');
    assert.equal(closed.body.issue.checkout, null);
    assert.deepEqual(closed.body.deliverables.map((d: any) => d.kind).sort(), ['commit_url', 'doc']);
    assert.deepEqual(closed.body.warnings, []);

    // Read-after-write: the response returned after Postgres committed both.
    const comments = (await me!.http.get(`/api/issues/${issue.id}/comments?order=asc`)).body;
    assert.equal(comments.length, 1);
    assert.equal(comments[0].body, closing);
    assert.equal(comments[0].runId, me!.http.runId);
    assert.equal((await me!.http.get(`/api/issues/${issue.id}`)).body.status, 'done');

    const again = await me!.http.post(`/api/issues/${issue.id}/close`, { comment: 'Inline result: again' });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'status_conflict');
    assert.equal((await me!.http.get(`/api/issues/${issue.id}/comments`)).body.length, 1);
  });

  it('seed 003: a close without Result or Verified succeeds with warnings', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const me = agents[0]!;
    const issue = await createIssue(stack, companyId, { status: 'todo', assigneeAgentId: me.id });
    await me.http.post(`/api/issues/${issue.id}/checkout`, { agentId: me.id, expectedStatuses: TAKE });
    const closed = await me.http.post(`/api/issues/${issue.id}/close`, { comment: 'Short answer: yes, the cache is safe to drop.' });
    assert.equal(closed.status, 200);
    assert.deepEqual(closed.body.deliverables, [{ kind: 'inline_result', value: 'Short answer: yes, the cache is safe to drop.' }]);
    assert.equal(closed.body.warnings.length, 2);
  });
});
