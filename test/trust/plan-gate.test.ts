/**
 * Issue 13 §6: the plan gate is the parent's workflow's decision. The hostile pass raced a new plan
 * revision against 20 POST …/children and saw 20/20 admitted after the parent had committed the
 * revision (the gate read the read model). Now every child is admitted by an Update on the parent,
 * so the parent's history orders each admission against the revision: none may follow it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { workflowIdFor } from '../../workflows/messages.js';
import { ALL_TAKEABLE, seedCompany, type SeededAgent } from '../support/seed.js';
import { startStack, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.stop());

/** A parent whose plan (revision 1) the board accepted, checked out again by its manager. */
async function approvedParent(companyId: string, manager: SeededAgent) {
  const epic = (await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'Epic', assigneeAgentId: manager.id, status: 'todo' })).body;
  assert.equal((await manager.http.post(`/api/issues/${epic.id}/checkout`, { agentId: manager.id, expectedStatuses: ALL_TAKEABLE })).status, 200);
  const put = await manager.http.put(`/api/issues/${epic.id}/documents/plan`, { format: 'markdown', body: '# Plan\n1. one', baseRevisionId: null });
  assert.equal(put.status, 201, JSON.stringify(put.body));
  const doc = (await manager.http.get(`/api/issues/${epic.id}/documents/plan`)).body;
  const ask = await manager.http.post(`/api/issues/${epic.id}/interactions`, {
    kind: 'request_confirmation',
    idempotencyKey: `confirmation:${epic.id}:plan:${doc.latestRevisionId}`,
    payload: { version: 1, prompt: 'Approve?', target: { type: 'issue_document', issueId: epic.id, documentId: doc.id, key: 'plan', revisionId: doc.latestRevisionId, revisionNumber: 1 } },
  });
  assert.equal(ask.status, 201, JSON.stringify(ask.body));
  assert.equal((await stack.admin.post(`/api/issues/${epic.id}/interactions/${ask.body.id}/accept`, {})).status, 200);
  assert.equal((await manager.http.post(`/api/issues/${epic.id}/checkout`, { agentId: manager.id, expectedStatuses: ALL_TAKEABLE })).status, 200);
  return { id: epic.id as string, revisionId: doc.latestRevisionId as string };
}

/** The parent's accepted Updates by name, in history order. */
async function acceptedUpdates(issueId: string): Promise<string[]> {
  const history = await stack.client.workflow.getHandle(workflowIdFor(issueId)).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const name = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name;
    return name ? [name] : [];
  });
}

test('a plan revision racing 20 child creations: no child is admitted after the revision (the parent\'s workflow decides)', async () => {
  const { companyId, agents } = await seedCompany(stack, 1);
  const manager = agents[0]!;
  const parent = await approvedParent(companyId, manager);

  const child = (i: number) => manager.http.post(`/api/issues/${parent.id}/children`, { title: `Child ${i}` });
  const early = Array.from({ length: 10 }, (_, i) => child(i));
  const revise = manager.http.put(`/api/issues/${parent.id}/documents/plan`, { format: 'markdown', body: '# Plan\n1. one\n2. something else', baseRevisionId: parent.revisionId });
  const late = Array.from({ length: 10 }, (_, i) => child(10 + i));
  const [revised, ...answers] = await Promise.all([revise, ...early, ...late]);
  assert.equal(revised!.status, 200, JSON.stringify(revised!.body));

  const created = answers.filter((r) => r.status === 201);
  const refused = answers.filter((r) => r.status !== 201);
  for (const r of refused) assert.deepEqual([r.status, r.body.code], [409, 'plan_not_approved'], JSON.stringify(r.body));

  const updates = await acceptedUpdates(parent.id);
  const revision = updates.lastIndexOf('putDocument');
  const admittedBefore = updates.slice(0, revision).filter((n) => n === 'admitChild').length;
  const admittedAfter = updates.slice(revision + 1).filter((n) => n === 'admitChild').length;
  assert.equal(admittedAfter, 0, `no child admitted after the new revision (history: ${updates.join(', ')})`);
  assert.equal(admittedBefore, created.length, 'every child created was admitted by the parent first');

  // The gate stays shut until the board accepts the new revision; then delegation works again.
  const after = await manager.http.post(`/api/issues/${parent.id}/children`, { title: 'After' });
  assert.deepEqual([after.status, after.body.code], [409, 'plan_not_approved']);
  const listed = (await stack.admin.get(`/api/companies/${companyId}/issues?parentId=${parent.id}`)).body as unknown[];
  assert.equal(listed.length, created.length, 'the read model holds exactly the children created');
});

test('children of a parent whose company does not enforce plans: the holder rule still applies, decided by the parent', async () => {
  const { companyId, agents } = await seedCompany(stack, 2, { enforcePlanApproval: false });
  const [holder, other] = agents as [SeededAgent, SeededAgent];
  const epic = (await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'Epic', assigneeAgentId: holder.id, status: 'todo' })).body;
  assert.equal((await holder.http.put(`/api/issues/${epic.id}/documents/plan`, { format: 'markdown', body: 'unapproved', baseRevisionId: null })).status, 201);
  assert.equal((await holder.http.post(`/api/issues/${epic.id}/children`, { title: 'Mine' })).status, 201, 'no plan gate here');
  const theirs = await other.http.post(`/api/issues/${epic.id}/children`, { title: 'Not mine' });
  assert.deepEqual([theirs.status, theirs.body.code], [409, 'not_owner']);
});

test('the 500-children bound holds under 20 concurrent creations at 497 (hostile pass: admitted children count until they report in)', async () => {
  const { companyId } = await seedCompany(stack, 0, { enforcePlanApproval: false });
  const parent = (await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'Crowded' })).body;
  // 497 children as the parent knows them (told by signal, as children tell their parents; no 497 workflows needed).
  const handle = stack.client.workflow.getHandle(workflowIdFor(parent.id));
  for (let i = 0; i < 497; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, 497 - i) }, () => handle.signal('collab', { type: 'child', childId: randomUUID(), terminal: false })));
  }
  await waitFor('the parent knows 497 children', () => handle.query<any>('state'), (s) => s.collab?.children.length === 497, 60_000);
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => stack.admin.post(`/api/issues/${parent.id}/children`, { title: `Racer ${i}` })));
  const created = answers.filter((r) => r.status === 201).length;
  assert.equal(created, 3, answers.map((r) => `${r.status} ${r.body.code ?? ''}`).join(', '));
  for (const r of answers.filter((x) => x.status !== 201)) assert.deepEqual([r.status, r.body.code, r.body.details?.limit], [422, 'limit_exceeded', 500]);
  await waitFor('the parent knows 500', () => handle.query<any>('state'), (s) => s.collab?.children.length === 500, 60_000);
});
