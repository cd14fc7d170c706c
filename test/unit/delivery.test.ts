/** The delivery rules without Temporal: availableActions through the lifecycle, ship conditions, head SHA, upstream. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyUpdate } from '../../domain/commands.js';
import { applyShipped, applySubmitted, applyUpstream, checkShip, reportedCi } from '../../domain/delivery.js';
import { applyChecksReported, applyObservation } from '../../domain/observation.js';
import { taskActions } from '../../domain/delivery-actions.js';
import { DomainError } from '../../domain/errors.js';
import { intakeIssue } from '../../domain/intake.js';
import type { Actor, IssueState } from '../../domain/task.js';

let n = 0;
const ctx = () => ({ now: Date.parse('2026-11-30T12:00:00Z') + n, newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}` });
const AGENT = 'a0000000-0000-4000-8000-000000000001';
const me: Actor = { kind: 'agent', agentId: AGENT };
const other: Actor = { kind: 'agent', agentId: 'b0000000-0000-4000-8000-000000000002' };
const SHA1 = '1'.repeat(40);
const SHA2 = '2'.repeat(40);

function assigned(policy: 'require' | 'never_require' = 'require'): IssueState {
  const s = intakeIssue({ id: 'c0000000-0000-4000-8000-000000000003', companyId: 'd0000000-0000-4000-8000-000000000004', identifier: 'ACME-1', title: 'Bug', body: null, source: { sourceId: 's', provider: 'github', key: 'github:o/r#1', owner: 'o', repo: 'r', number: 1, url: 'u', labels: [], state: 'open', reviewPolicy: policy, defaultBranch: 'main' } }, 0);
  return { ...s, status: 'todo', assigneeAgentId: AGENT };
}

const pull = (headSha: string) => ({ prUrl: 'https://gh/o/r/pull/2', prNumber: 2, headSha, head: 'fix', base: 'main', action: 'created' as const });
const ci = (status: 'passed' | 'failed' | 'running', headSha: string) => ({ ...reportedCi([{ name: 't', status }], headSha, 'x'), headSha });
const review = (outcome: 'approved' | 'pending' | 'changes_requested', headSha: string) => ({ outcome, reviewer: null, headSha, createdAt: null, comments: [] });

test('a submit from todo implies the checkout; actions follow CI and review on the current head', () => {
  const s0 = assigned();
  assert.deepEqual(taskActions(s0, me).filter((a) => !a.startsWith('view')), ['start', 'submit', 'blocker']);
  assert.deepEqual(taskActions(s0, other), [], 'another agent may do nothing');
  const s1 = applySubmitted(s0, { actor: me, mode: 'adapter_managed', summary: 'fix', pullRequest: { head: 'fix' } }, pull(SHA1), ctx()).write.issue;
  assert.equal(s1.status, 'in_review');
  assert.equal(s1.lifecycle!.stage, 'submitted');
  const failed = applyObservation(s1, { headSha: SHA1, ci: ci('failed', SHA1), review: review('pending', SHA1), state: 'open', merged: false }, ctx())!;
  assert.ok(taskActions(failed.write.issue, me).includes('fix'));
  assert.deepEqual(failed.effects!.map((e) => e.kind === 'wake' && e.reason), ['ci_failed']);
  const passed = applyObservation(failed.write.issue, { headSha: SHA1, ci: ci('passed', SHA1), review: review('approved', SHA1), state: 'open', merged: false }, ctx())!;
  assert.ok(taskActions(passed.write.issue, me).includes('ship'));
  assert.deepEqual(passed.effects!.map((e) => e.kind === 'wake' && e.reason), ['ready_to_ship']);
  // The head moves: CI and review of the old head no longer count.
  const moved = applyObservation(passed.write.issue, { headSha: SHA2, ci: ci('running', SHA2), review: review('pending', SHA2), state: 'open', merged: false }, ctx())!;
  assert.ok(!taskActions(moved.write.issue, me).includes('ship'));
  assert.equal(moved.write.issue.lifecycle!.stage, 'ci');
});

test('ship needs every condition and the current head; a repeat at the merged head is the same success', () => {
  const s1 = applySubmitted(assigned('never_require'), { actor: me, mode: 'adapter_managed', summary: 'fix', pullRequest: { head: 'fix' } }, pull(SHA1), ctx()).write.issue;
  const code = (f: () => unknown) => {
    try {
      f();
      return 'ok';
    } catch (err) {
      return (err as DomainError).code;
    }
  };
  assert.equal(code(() => checkShip(s1, { actor: me, expectedHeadSha: SHA1 })), 'not_shippable', 'CI has not passed');
  const ready = applyObservation(s1, { headSha: SHA1, ci: ci('passed', SHA1), review: review('pending', SHA1), state: 'open', merged: false }, ctx())!.write.issue;
  assert.equal(ready.lifecycle!.delivery!.review.outcome, 'not_required', 'never_require needs no review');
  assert.equal(code(() => checkShip(ready, { actor: me, expectedHeadSha: SHA2 })), 'head_sha_mismatch');
  assert.equal(code(() => checkShip(ready, { actor: other, expectedHeadSha: SHA1 })), 'not_shippable');
  assert.equal(checkShip(ready, { actor: me, expectedHeadSha: SHA1 }), 'merge');
  const shipped = applyShipped(ready, { actor: me, expectedHeadSha: SHA1 }, { operationId: 'shp_1', mergeCommitSha: 'm'.repeat(40), mergeCommitUrl: 'https://gh/o/r/commit/m', alreadyMerged: false }, ctx());
  assert.equal(shipped.write.issue.status, 'done');
  assert.equal(shipped.write.issue.lifecycle!.stage, 'shipped');
  assert.match(shipped.write.comments[0]!.body, /commit\/m/);
  assert.deepEqual(shipped.effects!.map((e) => e.kind), ['upstream_comment', 'upstream_state']);
  assert.equal(checkShip(shipped.write.issue, { actor: me, expectedHeadSha: SHA1 }), 'shipped');
  assert.deepEqual(taskActions(shipped.write.issue, me).filter((a) => !a.startsWith('view')), ['rollback']);
});

test('upstream: edits update the task, a close before ship cancels it with a comment, a reopen brings it back', () => {
  const s = assigned();
  const up = { title: 'Bug (edited)', body: 'more', labels: ['bug'], state: 'open' as const, url: 'u' };
  const edited = applyUpstream(s, up, ctx())!.write.issue;
  assert.equal(edited.title, 'Bug (edited)');
  assert.equal(applyUpstream(edited, up, ctx()), undefined, 'the same view again changes nothing');
  const closed = applyUpstream(edited, { ...up, state: 'closed' }, ctx())!;
  assert.equal(closed.write.issue.status, 'cancelled');
  assert.match(closed.write.comments[0]!.body, /closed before this task shipped/);
  assert.equal(applyUpstream(closed.write.issue, up, ctx())!.write.issue.status, 'todo');
});

test('an operator\'s assignment wins over routing, is recorded as manual, and wakes the agent (never for its own action)', () => {
  const s = { ...assigned(), assigneeAgentId: null, status: 'backlog' as const };
  const op: Actor = { kind: 'operator', user: 'board' };
  const manual = applyUpdate(s, { actor: op, patch: { assigneeAgentId: AGENT }, requireDeliverable: true }, ctx());
  assert.equal(manual.write.issue.lifecycle!.routing!.state, 'manual');
  assert.equal(manual.write.issue.lifecycle!.routing!.assignmentSource, 'manual');
  assert.equal(manual.write.issue.status, 'todo', 'ready for the agent to start');
  assert.deepEqual(manual.effects!.map((e) => e.kind === 'wake' && [e.agentId, e.reason]), [[AGENT, 'issue_assigned']]);
  const self = applyUpdate(s, { actor: me, patch: { assigneeAgentId: AGENT }, requireDeliverable: true }, ctx());
  assert.deepEqual(self.effects, [], 'no wake for its own action');
});

test('a report that changes nothing is still its own decision: a new version and a log entry', () => {
  const base = { ...assigned(), lifecycle: { ...assigned().lifecycle!, source: null } };
  const s1 = applySubmitted(base, { actor: me, mode: 'artifact', summary: 's', checks: [{ name: 't', status: 'passed' }] }, null, ctx()).write.issue;
  const op: Actor = { kind: 'operator', user: 'board' };
  const again = applyChecksReported(s1, [{ name: 't', status: 'passed' }], null, op, ctx());
  assert.equal(again.write.issue.version, s1.version + 1);
  assert.deepEqual(again.write.activity.map((a) => [a.action, a.details.changed]), [['task.checks_reported', false]]);
});
