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
  await stack.admin.patch(`/api/issues/${one.id}`, { status: 'cancelled' });
  await stack.client.workflow.getHandle(workflowIdFor(two.id)).cancel();
  const woken = () => a.http.get('/api/agents/me/wakeups').then((r) => (r.body.data as any[]).filter((w) => w.taskId === parent.id && w.reason === 'issue_children_completed'));
  await waitFor('the parent woken', woken, (w) => w.length === 1);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await woken()).length, 1, 'once');
  assert.equal((await stack.admin.get(`/api/issues/${two.id}`)).body.status, 'cancelled');
});
