/** PATCH, comments and release: owner-only changes, atomic comment+status, blocked needs a reason, reassignment. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../support/stack.js';
import { ALL_TAKEABLE, checkedOutIssue, createIssue, seedCompany, type SeededAgent } from '../support/seed.js';

describe('update, comment, release', () => {
  let stack: Stack;
  let companyId: string;
  let owner: SeededAgent;
  let other: SeededAgent;

  before(async () => {
    stack = await startStack();
    const seeded = await seedCompany(stack, 2);
    companyId = seeded.companyId;
    [owner, other] = seeded.agents as [SeededAgent, SeededAgent];
  });
  after(() => stack.stop());

  const checkedOut = () => checkedOutIssue(stack, companyId, owner) as Promise<any>;

  it('only the owner (or an operator) may change a checked-out issue; others get 409 not_owner and nothing changes', async () => {
    const issue = await checkedOut();
    const res = await other.http.patch(`/api/issues/${issue.id}`, { priority: 'low', comment: 'taking a look' });
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'not_owner');
    assert.equal(res.body.details.checkoutAgentId, owner.id);
    const after = await stack.admin.get(`/api/issues/${issue.id}`);
    assert.equal(after.body.version, issue.version);
    assert.equal(after.body.priority, 'medium');
    assert.deepEqual((await stack.admin.get(`/api/issues/${issue.id}/comments`)).body, []);

    const mine = await owner.http.patch(`/api/issues/${issue.id}`, { priority: 'high' });
    assert.equal(mine.status, 200);
    assert.equal(mine.body.priority, 'high');
    const operator = await stack.admin.patch(`/api/issues/${issue.id}`, { priority: 'critical' });
    assert.equal(operator.status, 200);
    assert.equal(operator.body.priority, 'critical');
  });

  it('comment and status land together; the owner renews the lease with any mutation', async () => {
    const issue = await checkedOut();
    await new Promise((r) => setTimeout(r, 20));
    const res = await owner.http.patch(`/api/issues/${issue.id}`, { status: 'in_review', comment: 'PR ready: doc:pr-notes' });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'in_review');
    assert.equal(res.body.checkout, null, 'leaving in_progress ends the checkout');
    assert.equal(res.body.comment.body, 'PR ready: doc:pr-notes');
    const comments = (await stack.admin.get(`/api/issues/${issue.id}/comments?order=asc`)).body;
    assert.equal(comments.length, 1);
    const updated = (await stack.admin.get(`/api/issues/${issue.id}/activity`)).body.find((a: any) => a.action === 'issue.updated');
    assert.deepEqual(updated.details.changes.status, { from: 'in_progress', to: 'in_review' });
    assert.equal(updated.runId, owner.http.runId);

    const again = await checkedOut();
    const before = again.checkout.leaseExpiresAt;
    await new Promise((r) => setTimeout(r, 30));
    const commented = await owner.http.post(`/api/issues/${again.id}/comments`, { body: 'progress' });
    assert.equal(commented.status, 201);
    assert.equal(commented.body.authorAgentId, owner.id);
    assert.equal(commented.body.runId, owner.http.runId);
    const renewed = (await stack.admin.get(`/api/issues/${again.id}`)).body.checkout.leaseExpiresAt;
    assert.ok(Date.parse(renewed) > Date.parse(before), 'a comment by the owner renews the lease');
  });

  it('blocked needs a comment saying what blocks (422 comment_required); with one it lands', async () => {
    const issue = await checkedOut();
    const bare = await owner.http.patch(`/api/issues/${issue.id}`, { status: 'blocked' });
    assert.equal(bare.status, 422);
    assert.equal(bare.body.code, 'comment_required');
    const res = await owner.http.patch(`/api/issues/${issue.id}`, { status: 'blocked', comment: 'Need DBA review for migration PR #38.' });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'blocked');
  });

  it('an invalid transition is 422 invalid_transition naming from and to', async () => {
    const issue = await createIssue(stack, companyId, { status: 'backlog' });
    const toReview = await stack.admin.patch(`/api/issues/${issue.id}`, { status: 'in_review' });
    assert.equal(toReview.status, 422);
    assert.equal(toReview.body.code, 'invalid_transition');
    assert.deepEqual(toReview.body.details, { from: 'backlog', to: 'in_review' });
    const toInProgress = await stack.admin.patch(`/api/issues/${issue.id}`, { status: 'in_progress' });
    assert.equal(toInProgress.status, 422);
    assert.match(toInProgress.body.error, /checkout/);
  });

  it('reassigning (the blocked-pattern escalation) clears the checkout', async () => {
    const issue = await checkedOut();
    const res = await owner.http.patch(`/api/issues/${issue.id}`, {
      status: 'blocked',
      comment: 'Need DBA review. Reassigning to the lead.',
      assigneeAgentId: other.id,
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.assigneeAgentId, other.id);
    assert.equal(res.body.checkout, null);
    const taken = await other.http.post(`/api/issues/${issue.id}/checkout`, { agentId: other.id, expectedStatuses: ['blocked'] });
    assert.equal(taken.status, 200);

    const unknown = await stack.admin.patch(`/api/issues/${issue.id}`, { assigneeAgentId: '00000000-0000-4000-8000-000000000000' });
    assert.equal(unknown.status, 422);
    assert.equal(unknown.body.code, 'invalid_assignee');
  });

  it('release clears the checkout and the assignment, moves to todo, keeps the comment; only the owner may', async () => {
    const issue = await checkedOut();
    const byOther = await other.http.post(`/api/issues/${issue.id}/release`, { comment: 'mine now' });
    assert.equal(byOther.status, 409);
    assert.equal(byOther.body.code, 'not_owner');
    const res = await owner.http.post(`/api/issues/${issue.id}/release`, { comment: 'Should go to the data team.' });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'todo');
    assert.equal(res.body.checkout, null);
    assert.equal(res.body.assigneeAgentId, null);
    const comments = (await stack.admin.get(`/api/issues/${issue.id}/comments?order=asc`)).body;
    assert.deepEqual(comments.map((c: any) => c.body), ['Should go to the data team.']);
    const twice = await owner.http.post(`/api/issues/${issue.id}/release`, {});
    assert.equal(twice.status, 409);
    assert.equal(twice.body.code, 'status_conflict');
    const taken = await other.http.post(`/api/issues/${issue.id}/checkout`, { agentId: other.id, expectedStatuses: ['todo'] });
    assert.equal(taken.status, 200);
  });

  it('availableActions follows the caller', async () => {
    const issue = await checkedOut();
    // The holder may check out again (a renewal) and, with no plan to approve, create subtasks.
    assert.deepEqual((await owner.http.get(`/api/issues/${issue.id}`)).body.availableActions, ['checkout', 'update', 'comment', 'release', 'close', 'heartbeat', 'delegate', 'request_confirmation']);
    assert.deepEqual((await other.http.get(`/api/issues/${issue.id}`)).body.availableActions, ['comment']);
    const fresh = await createIssue(stack, companyId, { status: 'todo' });
    assert.deepEqual((await other.http.get(`/api/issues/${fresh.id}`)).body.availableActions, ['checkout', 'update', 'comment', 'delegate', 'request_confirmation']);
  });

  it('a heartbeat renews the lease for the owner only', async () => {
    const issue = await checkedOut();
    await new Promise((r) => setTimeout(r, 30));
    const hb = await owner.http.post(`/api/issues/${issue.id}/heartbeat`, {});
    assert.equal(hb.status, 200);
    assert.ok(Date.parse(hb.body.checkout.leaseExpiresAt) > Date.parse(issue.checkout.leaseExpiresAt));
    const byOther = await other.http.post(`/api/issues/${issue.id}/heartbeat`, {});
    assert.equal(byOther.status, 409);
    assert.equal(byOther.body.code, 'not_owner');
  });
});
