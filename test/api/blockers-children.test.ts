/**
 * Issue 8 §1: blockers and children, told workflow to workflow. Cycles and strangers refused; a
 * cancelled blocker is not resolved; a reopened one blocks again; a child cancelled from the Temporal
 * Web UI still tells its parent.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { workflowIdFor } from '../../workflows/messages.js';
import { seedCompany, type SeededAgent } from '../support/seed.js';
import { startStack, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.stop());

const TAKE = ['todo', 'backlog', 'blocked', 'in_review'];

test('blockers: cycles, self and strangers refused; cancelled is not resolved; reopened blocks again', async () => {
  const { companyId, agents } = await seedCompany(stack, 1);
  const a = agents[0] as SeededAgent;
  const make = (title: string, extra: Record<string, unknown> = {}) => stack.admin.post(`/api/companies/${companyId}/issues`, { title, assigneeAgentId: a.id, ...extra }).then((r) => r.body);
  const x = await make('x');
  const y = await make('y', { blockedByIssueIds: [x.id] });
  const z = await make('z', { blockedByIssueIds: [y.id] });
  const cycle = await stack.admin.patch(`/api/issues/${x.id}`, { blockedByIssueIds: [z.id] });
  assert.equal(cycle.status, 422, JSON.stringify(cycle.body));
  assert.equal(cycle.body.code, 'invalid_blockers');
  assert.equal((await stack.admin.patch(`/api/issues/${x.id}`, { blockedByIssueIds: [x.id] })).status, 422);
  const stranger = (await stack.admin.post(`/api/companies/${(await seedCompany(stack, 0)).companyId}/issues`, { title: 'theirs' })).body;
  assert.equal((await stack.admin.patch(`/api/issues/${x.id}`, { blockedByIssueIds: [stranger.id] })).status, 404);
  assert.deepEqual((await stack.admin.get(`/api/issues/${y.id}`)).body.blockedBy.map((b: any) => b.id), [x.id]);
  assert.deepEqual((await stack.admin.get(`/api/issues/${x.id}`)).body.blocks.map((b: any) => b.id), [y.id]);

  // x cancelled: y still waits on it.
  await stack.admin.patch(`/api/issues/${x.id}`, { status: 'cancelled' });
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await a.http.post(`/api/issues/${y.id}/checkout`, { agentId: a.id, expectedStatuses: TAKE })).body.code, 'unresolved_blockers');

  // x reopened and done: y may start; x reopened again: y's next checkout is refused again.
  await stack.admin.patch(`/api/issues/${x.id}`, { status: 'todo' });
  await a.http.post(`/api/issues/${x.id}/checkout`, { agentId: a.id, expectedStatuses: TAKE });
  await a.http.post(`/api/issues/${x.id}/close`, { comment: 'Inline result: x done. Result: ok. Verified: by hand.' });
  await waitFor('y ready', () => a.http.get('/api/agents/me/inbox-lite'), (r) => r.body.find((i: any) => i.id === y.id)?.dependencyReady === true);
  await stack.admin.post(`/api/issues/${x.id}/comments`, { body: 'Reopening x: it regressed.' });
  await waitFor('y blocked again', () => a.http.get('/api/agents/me/inbox-lite'), (r) => r.body.find((i: any) => i.id === y.id)?.dependencyReady === false);
  assert.equal((await a.http.post(`/api/issues/${y.id}/checkout`, { agentId: a.id, expectedStatuses: TAKE })).status, 422);

  // Clearing the set frees y at once.
  assert.equal((await stack.admin.patch(`/api/issues/${y.id}`, { blockedByIssueIds: [] })).status, 200);
  assert.equal((await a.http.post(`/api/issues/${y.id}/checkout`, { agentId: a.id, expectedStatuses: TAKE })).status, 200);
  await waitFor('x forgets y', () => stack.admin.get(`/api/issues/${x.id}`), (r) => r.body.blocks.length === 0);
  assert.ok(z);
});

test('a child cancelled from the Temporal Web UI still tells its parent; the parent is woken once', async () => {
  const { companyId, agents } = await seedCompany(stack, 1);
  const a = agents[0] as SeededAgent;
  const parent = (await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'parent', assigneeAgentId: a.id })).body;
  const one = (await stack.admin.post(`/api/issues/${parent.id}/children`, { title: 'one' })).body;
  const two = (await stack.admin.post(`/api/issues/${parent.id}/children`, { title: 'two' })).body;
  // Children tell their parent they exist from their own workflows: wait until it knows both (else "all closed" is true of one).
  await waitFor('the parent knows both', () => stack.client.workflow.getHandle(workflowIdFor(parent.id)).query<any>('state'), (s) => s.collab?.children.length === 2);
  await stack.admin.patch(`/api/issues/${one.id}`, { status: 'cancelled' });
  await stack.client.workflow.getHandle(workflowIdFor(two.id)).cancel();
  const woken = () => a.http.get('/api/agents/me/wakeups').then((r) => (r.body.data as any[]).filter((w) => w.taskId === parent.id && w.reason === 'issue_children_completed'));
  await waitFor('the parent woken', woken, (w) => w.length === 1);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await woken()).length, 1, 'once');
  assert.equal((await stack.admin.get(`/api/issues/${two.id}`)).body.status, 'cancelled');
});

test('six PATCHes closing a blocker ring at once: one is refused, no ring remains', async () => {
  const { companyId } = await seedCompany(stack, 0);
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) ids.push((await stack.admin.post(`/api/companies/${companyId}/issues`, { title: `ring ${i}` })).body.id);
  const answers = await Promise.all(ids.map((id, i) => stack.admin.patch(`/api/issues/${id}`, { blockedByIssueIds: [ids[(i + 1) % 6]] })));
  assert.equal(answers.filter((a) => a.status === 422).length, 1, answers.map((a) => a.status).join());
  const { rows } = await stack.pool.query(
    `WITH RECURSIVE chain(id, depth) AS (SELECT $1::uuid, 0 UNION SELECT b.blocker_issue_id, depth + 1 FROM issue_blockers b JOIN chain ON b.issue_id = chain.id WHERE depth < 10)
     SELECT count(*)::int AS n FROM chain WHERE id = $1 AND depth > 0`,
    [ids[0]],
  );
  assert.equal(rows[0].n, 0, 'no issue waits on itself');
});

test('messages lost while a workflow was terminated are sent again on restore: blockers and children', async () => {
  const { companyId, agents } = await seedCompany(stack, 1);
  const a = agents[0] as SeededAgent;
  const make = (body: Record<string, unknown>) => stack.admin.post(`/api/companies/${companyId}/issues`, { assigneeAgentId: a.id, ...body }).then((r) => r.body);
  const restore = (id: string) => stack.admin.post(`/api/issues/${id}/restore`, {});

  // A dependent added while its blocker's workflow is terminated.
  const blocker = await make({ title: 'blocker' });
  await stack.client.workflow.getHandle(workflowIdFor(blocker.id)).terminate('test');
  const dependent = await make({ title: 'dependent', blockedByIssueIds: [blocker.id] });
  assert.equal((await restore(blocker.id)).status, 200);
  await waitFor('the blocker knows its dependent', () => stack.admin.get(`/api/issues/${blocker.id}`), (r) => r.body.blocks.length === 1);
  await a.http.post(`/api/issues/${blocker.id}/checkout`, { agentId: a.id, expectedStatuses: TAKE });
  await a.http.post(`/api/issues/${blocker.id}/close`, { comment: 'Inline result: done. Result: ok. Verified: by hand.' });
  await waitFor('the dependent may start', () => a.http.post(`/api/issues/${dependent.id}/checkout`, { agentId: a.id, expectedStatuses: TAKE }), (r) => r.status === 200);

  // A child closed while its parent's workflow is terminated: after the restore the parent counts it closed.
  // (No child is created under a terminated parent: its workflow admits children, so that is 409 task_unavailable.)
  const parent = await make({ title: 'parent' });
  const lost = (await stack.admin.post(`/api/issues/${parent.id}/children`, { title: 'lost child' })).body;
  await waitFor('the parent knows its child', () => stack.client.workflow.getHandle(workflowIdFor(parent.id)).query<any>('state'), (s) => s.collab?.children.length === 1);
  await stack.client.workflow.getHandle(workflowIdFor(parent.id)).terminate('test');
  const refused = await stack.admin.post(`/api/issues/${parent.id}/children`, { title: 'while terminated' });
  assert.deepEqual([refused.status, refused.body.code], [409, 'task_unavailable']);
  assert.equal((await stack.admin.patch(`/api/issues/${lost.id}`, { status: 'cancelled' })).status, 200);
  assert.equal((await restore(parent.id)).status, 200);
  const later = (await stack.admin.post(`/api/issues/${parent.id}/children`, { title: 'later child' })).body;
  await waitFor('the parent knows both', () => stack.client.workflow.getHandle(workflowIdFor(parent.id)).query<any>('state'), (s) => s.collab?.children.length === 2);
  await stack.admin.patch(`/api/issues/${later.id}`, { status: 'cancelled' });
  await waitFor('the parent knows both closed', () => stack.client.workflow.getHandle(workflowIdFor(parent.id)).query<any>('state'), (s) => s.collab?.children.every((c: any) => c.terminal));
  const woken = () => a.http.get('/api/agents/me/wakeups').then((r) => (r.body.data as any[]).filter((w) => w.taskId === parent.id && w.reason === 'issue_children_completed'));
  // Woken when the restore told it its only child had closed, and again once the later child closed too.
  await waitFor('the parent woken', woken, (w) => w.length === 2);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await woken()).length, 2, 'once per completion');
});

test('a ring longer than any depth limit is still refused', async () => {
  const { companyId } = await seedCompany(stack, 0);
  const ids: string[] = [];
  for (let i = 0; i < 110; i++) {
    const body = { title: `chain ${i}`, ...(i > 0 ? { blockedByIssueIds: [ids[i - 1]] } : {}) };
    ids.push((await stack.admin.post(`/api/companies/${companyId}/issues`, body)).body.id);
  }
  const closing = await stack.admin.patch(`/api/issues/${ids[0]}`, { blockedByIssueIds: [ids[109]] });
  assert.equal(closing.status, 422);
  assert.equal(closing.body.code, 'invalid_blockers');
});

test('blast radius: an issue is waited on by at most 500 others; the 501st link is refused and changes nothing', async () => {
  const { companyId } = await seedCompany(stack, 0);
  const popular = (await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'everyone waits on me' })).body;
  // 500 dependents written straight into the read model: the bound is what is tested, not 500 workflows.
  await stack.pool.query(
    `INSERT INTO issue_blockers (issue_id, blocker_issue_id, company_id) SELECT gen_random_uuid(), $1, $2 FROM generate_series(1, 500)`,
    [popular.id, companyId],
  );
  const one = await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'one more', blockedByIssueIds: [popular.id] });
  assert.deepEqual([one.status, one.body.code, one.body.details?.limit], [422, 'limit_exceeded', 500], JSON.stringify(one.body));
  const other = (await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'other' })).body;
  const patched = await stack.admin.patch(`/api/issues/${other.id}`, { blockedByIssueIds: [popular.id] });
  assert.deepEqual([patched.status, patched.body.code], [422, 'limit_exceeded']);
  assert.deepEqual((await stack.admin.get(`/api/issues/${other.id}`)).body.blockedBy, [], 'nothing changed');
  await stack.pool.query(`DELETE FROM issue_blockers WHERE blocker_issue_id = $1 AND issue_id IN (SELECT issue_id FROM issue_blockers WHERE blocker_issue_id = $1 LIMIT 1)`, [popular.id]);
  assert.equal((await stack.admin.patch(`/api/issues/${other.id}`, { blockedByIssueIds: [popular.id] })).status, 200, 'at 499 the link is taken');

  // At 498, 20 creations at once: exactly two pass (hostile pass: they were checked outside the lock, 645 got in).
  await stack.pool.query(`DELETE FROM issue_blockers WHERE blocker_issue_id = $1 AND issue_id IN (SELECT issue_id FROM issue_blockers WHERE blocker_issue_id = $1 AND issue_id <> $2 LIMIT 2)`, [popular.id, other.id]);
  const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => stack.admin.post(`/api/companies/${companyId}/issues`, { title: `racer ${i}`, blockedByIssueIds: [popular.id] })));
  assert.equal(burst.filter((r) => r.status === 201).length, 2, burst.map((r) => `${r.status} ${r.body.code ?? ''}`).join(', '));
  assert.ok(burst.every((r) => r.status === 201 || r.body.code === 'limit_exceeded'));
  assert.equal((await stack.pool.query('SELECT count(*)::int AS n FROM issue_blockers WHERE blocker_issue_id = $1', [popular.id])).rows[0].n, 500);
});
