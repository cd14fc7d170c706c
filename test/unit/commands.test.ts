/** The rules behind each update, without Temporal: who may do what, and what each change records. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as rules from '../../domain/commands.js';
import { DomainError } from '../../domain/errors.js';
import type { Actor, IssueState } from '../../domain/task.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
let n = 0;
const ctx = (now = T0): rules.Ctx => ({ now, newId: () => `id-${++n}` });
const A: Actor = { kind: 'agent', agentId: 'a', runId: 'run-a' };
const B: Actor = { kind: 'agent', agentId: 'b', runId: 'run-b' };
const OP: Actor = { kind: 'operator', user: 'board' };

function issue(over: Partial<IssueState> = {}): IssueState {
  return {
    id: 'i', companyId: 'c', title: 't', description: null, status: 'todo', priority: 'medium', assigneeAgentId: null,
    parentId: null, goalId: null, checkout: null, version: 1, descriptionVersion: 1, expiryStreak: 0, createdAt: '', updatedAt: '', startedAt: null,
    completedAt: null, ...over,
  };
}

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err.code;
    throw err;
  }
  return 'ok';
};

const take = (s: IssueState, actor = A, leaseSeconds = 60) =>
  rules.applyCheckout(s, { actor, agentId: actor.agentId!, expectedStatuses: ['todo', 'backlog'], leaseSeconds }, ctx()).write.issue;

describe('command rules', () => {
  it('checkout takes an issue, sets the lease, keeps the invariant checkout ⇔ in_progress', () => {
    const s = take(issue());
    assert.equal(s.status, 'in_progress');
    assert.equal(s.checkout?.leaseExpiresAt, new Date(T0 + 60_000).toISOString());
    assert.equal(s.version, 2);
    assert.equal(code(() => rules.checkCheckout(s, { actor: B, agentId: 'b', expectedStatuses: ['in_progress'], leaseSeconds: 60 })), 'checkout_conflict');
  });

  it('close: owner only, deliverable required unless the company says otherwise, never twice', () => {
    const s = take(issue());
    assert.equal(code(() => rules.checkClose(s, { actor: B, comment: 'doc:x', requireDeliverable: true })), 'not_owner');
    assert.equal(code(() => rules.checkClose(s, { actor: A, comment: 'done', requireDeliverable: true })), 'deliverable_missing');
    assert.equal(code(() => rules.checkClose(s, { actor: A, comment: 'done', requireDeliverable: false })), 'ok');
    assert.equal(code(() => rules.checkClose(s, { actor: A, comment: ' ', requireDeliverable: false })), 'deliverable_missing');
    const closed = rules.applyClose(s, { actor: A, comment: 'doc:x', requireDeliverable: true }, ctx()).write;
    assert.equal(closed.issue.status, 'done');
    assert.equal(closed.issue.checkout, null);
    assert.equal(closed.comments.length, 1);
    assert.equal(code(() => rules.checkClose(closed.issue, { actor: A, comment: 'doc:x', requireDeliverable: true })), 'status_conflict');
    assert.equal(code(() => rules.checkClose(issue(), { actor: OP, comment: 'doc:x', requireDeliverable: true })), 'invalid_transition');
  });

  it('PATCH status=done follows the close rules exactly', () => {
    const s = take(issue());
    const patch = (actor: Actor, comment?: string) => code(() => rules.checkUpdate(s, { actor, patch: { status: 'done', comment }, requireDeliverable: true }));
    assert.equal(patch(B, 'doc:x'), 'not_owner');
    assert.equal(patch(A, 'finished'), 'deliverable_missing');
    assert.equal(patch(A), 'deliverable_missing');
    assert.equal(patch(A, 'doc:x'), 'ok');
  });

  it('close-out table: POST /close and PATCH status=done answer alike on every kind of issue', () => {
    const done = rules.applyClose(take(issue()), { actor: A, comment: 'doc:x', requireDeliverable: true }, ctx()).write.issue;
    const othersDone = { ...done, assigneeAgentId: 'b' };
    const othersTodo = issue({ assigneeAgentId: 'b' });
    const cases: Array<[string, IssueState, Actor, string]> = [
      ['the owner, checked out', take(issue()), A, 'ok'],
      ['another agent, checked out', take(issue()), B, 'not_owner'],
      ['the owner, already done', done, A, 'status_conflict'],
      ['another agent, already done (with other fields)', othersDone, A, 'status_conflict'],
      ['another agent\'s assigned issue, not checked out', othersTodo, A, 'not_owner'],
      ['an operator, already done', done, OP, 'status_conflict'],
      ['the owner, cancelled', { ...take(issue()), status: 'cancelled', checkout: null }, A, 'status_conflict'],
    ];
    for (const [what, s, actor, expected] of cases) {
      const viaClose = code(() => rules.checkClose(s, { actor, comment: 'doc:x', requireDeliverable: true }));
      const viaPatch = code(() => rules.checkUpdate(s, { actor, patch: { status: 'done', comment: 'I am done doc:x', priority: 'low' }, requireDeliverable: true }));
      assert.equal(viaClose, expected, `POST /close: ${what}`);
      assert.equal(viaPatch, expected, `PATCH done: ${what}`);
    }
  });

  it('lease expiry: back to todo with the assignee kept; the third in a row pauses; owner activity resets the streak', () => {
    let s = take(issue());
    assert.equal(rules.leaseExpired(s, T0 + 59_999), false);
    assert.equal(rules.leaseExpired(s, T0 + 60_000), true);
    s = rules.applyLeaseExpiry(s, ctx(T0 + 60_000)).write.issue;
    assert.deepEqual([s.status, s.assigneeAgentId, s.checkout, s.expiryStreak], ['todo', 'a', null, 1]);
    s = rules.applyLeaseExpiry(take(s), ctx()).write.issue;
    const third = rules.applyLeaseExpiry(take(s), ctx()).write;
    assert.equal(third.issue.status, 'paused');
    assert.deepEqual(third.activity.map((e) => e.action), ['issue.lease_expired', 'issue.paused']);

    const alive = rules.applyHeartbeat(take(s), { actor: A }, ctx(T0 + 1000)).write.issue;
    assert.equal(alive.expiryStreak, 0);
  });

  it('operators may change a checked-out issue; other agents may only comment', () => {
    const s = take(issue());
    assert.equal(code(() => rules.checkUpdate(s, { actor: OP, patch: { priority: 'low' }, requireDeliverable: true })), 'ok');
    assert.equal(code(() => rules.checkUpdate(s, { actor: B, patch: { priority: 'low' }, requireDeliverable: true })), 'not_owner');
    const commented = rules.applyComment(s, { actor: B, body: 'fyi' }, ctx()).write;
    assert.equal(commented.comments[0]?.authorAgentId, 'b');
    assert.equal(commented.issue.checkout?.leaseExpiresAt, s.checkout?.leaseExpiresAt, "someone else's comment does not renew the lease");
  });
});
