/** Seed 000's collaboration rules without Temporal: what each message does to the state, and whom it tells. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyCollab, type Collab } from '../../domain/collab.js';
import type { Ctx } from '../../domain/commands.js';
import { checkAdmitChild, MAX_CHILDREN } from '../../domain/delegation.js';
import { applyCollabMessage, withCollabConsequences } from '../../domain/dependencies.js';
import { applyPutDocument } from '../../domain/documents.js';
import { applyCreateInteraction, applyResolveInteraction } from '../../domain/interactions.js';
import type { Actor, IssueState } from '../../domain/task.js';

let n = 0;
const ctx: Ctx = { now: Date.parse('2026-01-01T00:00:00Z'), newId: () => `id-${++n}` };
const A: Actor = { kind: 'agent', agentId: 'a', runId: 'r' };
const OP: Actor = { kind: 'operator', user: 'board' };

function issue(collab: Partial<Collab> = {}, over: Partial<IssueState> = {}): IssueState {
  return {
    id: 'i', companyId: 'c', title: 't', description: null, status: 'todo', priority: 'medium', assigneeAgentId: 'a', parentId: null, goalId: null,
    checkout: null, version: 1, descriptionVersion: 1, expiryStreak: 0, createdAt: '', updatedAt: '', startedAt: null, completedAt: null,
    collab: { ...emptyCollab(), ...collab }, ...over,
  };
}

describe('collaboration rules', () => {
  it('admitting a child: the holder, the plan as the board accepted it, and at most MAX_CHILDREN', () => {
    const plan = { key: 'plan', revisionId: 'r2' } as Collab['documents'][number];
    const cmd = (actor: Actor) => ({ actor, enforcePlanApproval: true });
    assert.deepEqual(checkAdmitChild(issue(), cmd(A)), { planRevisionId: null }, 'no plan, no gate');
    assert.throws(() => checkAdmitChild(issue({ documents: [plan], approvedPlanRevisionId: 'r1' }), cmd(A)), { code: 'plan_not_approved' });
    assert.deepEqual(checkAdmitChild(issue({ documents: [plan], approvedPlanRevisionId: 'r2' }), cmd(A)), { planRevisionId: 'r2' });
    assert.doesNotThrow(() => checkAdmitChild(issue({ documents: [plan], approvedPlanRevisionId: 'r1' }), { actor: A, enforcePlanApproval: false }));
    assert.throws(() => checkAdmitChild(issue(), cmd({ kind: 'agent', agentId: 'b', runId: 'r' })), { code: 'not_owner' });
    const full = Array.from({ length: MAX_CHILDREN }, (_, i) => ({ id: `c${i}`, terminal: i % 2 === 0 }));
    assert.throws(() => checkAdmitChild(issue({ children: full }), cmd(OP)), { code: 'limit_exceeded' });
    assert.doesNotThrow(() => checkAdmitChild(issue({ children: full.slice(1) }), cmd(OP)));
    assert.throws(() => checkAdmitChild(issue({ children: full.slice(2) }), cmd(OP), 2), { code: 'limit_exceeded' }, 'admitted children on their way count');
  });

  it('children complete wakes the parent\'s assignee once; a reopened child and a second completion wake again', () => {
    let s = issue();
    const step = (m: Parameters<typeof applyCollabMessage>[1]) => {
      const r = applyCollabMessage(s, m, ctx);
      if (r && 'write' in r) s = r.write.issue;
      return r && 'effects' in r ? (r.effects ?? []).filter((e) => e.kind === 'wake').map((e) => (e.kind === 'wake' ? e.reason : '')) : [];
    };
    assert.deepEqual(step({ type: 'child', childId: 'c1', terminal: false }), []);
    assert.deepEqual(step({ type: 'child', childId: 'c2', terminal: false }), []);
    assert.deepEqual(step({ type: 'child', childId: 'c1', terminal: true }), []);
    assert.deepEqual(step({ type: 'child', childId: 'c2', terminal: true }), ['issue_children_completed']);
    assert.equal(applyCollabMessage(s, { type: 'child', childId: 'c2', terminal: true }, ctx), null, 'told twice: nothing');
    assert.deepEqual(step({ type: 'child', childId: 'c2', terminal: false }), []);
    assert.deepEqual(step({ type: 'child', childId: 'c2', terminal: true }), ['issue_children_completed']);
  });

  it('blockers: the last one done wakes; cancelled does not resolve; a dependent registering gets the status back', () => {
    const s = issue({ blockedBy: [{ id: 'b1', resolved: false }, { id: 'b2', resolved: true }] });
    assert.equal(applyCollabMessage(s, { type: 'blocker', blockerId: 'b1', status: 'cancelled' }, ctx), null);
    const done = applyCollabMessage(s, { type: 'blocker', blockerId: 'b1', status: 'done' }, ctx);
    assert.ok(done && 'write' in done);
    assert.deepEqual(done.effects?.map((e) => (e.kind === 'wake' ? e.reason : e.kind)), ['issue_blockers_resolved']);
    const reg = applyCollabMessage(issue({}, { status: 'done' }), { type: 'dependent', dependentId: 'd', add: true }, ctx);
    assert.ok(reg && 'write' in reg);
    assert.deepEqual(reg.write.issue.collab?.blocks, ['d']);
    assert.deepEqual(reg.effects, [{ kind: 'notify', id: reg.effects![0]!.id, issueId: 'd', message: { type: 'blocker', blockerId: 'i', status: 'done' } }]);
  });

  it('closing expires pending confirmations and tells the parent and the dependents', () => {
    const before = issue({ blocks: ['d'] }, { parentId: 'p', status: 'in_progress' });
    const asked = applyCreateInteraction(before, { actor: A, interactionId: 'q', idempotencyKey: null, requestHash: 'h', payload: { version: 1, prompt: 'ok?' } }, ctx).write.issue;
    const closed = { ...asked, status: 'done' as const, version: asked.version + 1 };
    const out = withCollabConsequences(asked, { write: { issue: closed, comments: [], activity: [] } }, ctx);
    assert.equal(out.write.issue.collab?.interactions[0]?.result?.outcome, 'issue_closed');
    assert.deepEqual(out.effects?.map((e) => (e.kind === 'notify' ? `${e.issueId}:${e.message.type}` : e.kind)).sort(), ['d:blocker', 'p:child']);
  });

  it('a document revision expires confirmations on older revisions; an accept after that answers expired', () => {
    let s = applyPutDocument(issue(), { actor: A, key: 'plan', revisionId: 'r1', baseRevisionId: null, title: null, format: 'markdown', changeSummary: null }, ctx).write.issue;
    s = applyCreateInteraction(s, { actor: A, interactionId: 'q', idempotencyKey: null, requestHash: 'h', payload: { version: 1, prompt: 'ok?', target: { type: 'issue_document', key: 'plan', revisionId: 'r1' } } }, ctx).write.issue;
    const moved = applyPutDocument(s, { actor: A, key: 'plan', revisionId: 'r2', baseRevisionId: 'r1', title: null, format: 'markdown', changeSummary: null }, ctx).write.issue;
    assert.equal(moved.collab?.interactions[0]?.result?.outcome, 'stale_target');
    assert.equal(moved.collab?.documents[0]?.revisionNumber, 2);
    // The same stale answer when the document moved without the confirmation being expired yet (a state from before).
    const racing = { ...s, collab: { ...s.collab!, documents: moved.collab!.documents } };
    const late = applyResolveInteraction(racing, { actor: OP, interactionId: 'q', action: 'accept' }, ctx).write.issue;
    assert.equal(late.collab?.interactions[0]?.status, 'expired');
  });
});
