/**
 * Issue 8 §5 (first slice): a comment wakes the assignee when someone else writes it, wakes every agent
 * it mentions, never its author; a human's comment reopens a closed issue (an agent's with `reopen`);
 * the thread reads in either order, after a cursor, one comment at a time.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { seedCompany, type SeededAgent } from '../support/seed.js';
import { startStack, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.stop());

const wakes = (agent: SeededAgent) => agent.http.get('/api/agents/me/wakeups').then((r) => r.body.data as Array<{ reason: string; taskId: string }>);
const reasons = async (agent: SeededAgent, taskId: string) => (await wakes(agent)).filter((w) => w.taskId === taskId).map((w) => w.reason).sort();

test('comments wake the assignee and the mentioned agents, never the author; a human comment reopens', async () => {
  const { companyId, agents } = await seedCompany(stack, 3);
  const [a, b, c] = agents as [SeededAgent, SeededAgent, SeededAgent];
  const issue = (await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'Talk about it', status: 'todo', assigneeAgentId: a.id })).body;
  await waitFor('the assignment wake', () => reasons(a, issue.id), (r) => r.includes('issue_assigned'));

  assert.equal((await a.http.post(`/api/issues/${issue.id}/comments`, { body: 'Note to self, @agent-0' })).status, 201);
  assert.equal((await b.http.post(`/api/issues/${issue.id}/comments`, { body: `Can you look, @agent-2? And [@A](agent://${a.id}).` })).status, 201);
  await waitFor('wakes', () => reasons(c, issue.id), (r) => r.length === 1);
  assert.deepEqual(await reasons(c, issue.id), ['issue_comment_mentioned']);
  const polled = (await c.http.get('/api/agents/me/wakeups')).body.data.find((w: any) => w.taskId === issue.id);
  assert.ok(polled.commentId, 'a polling agent gets the comment that woke it');
  assert.deepEqual(await reasons(b, issue.id), [], 'never woken by its own comment');
  await waitFor('the assignee woken once more', () => reasons(a, issue.id), (r) => r.length === 2);
  assert.ok((await reasons(a, issue.id)).some((r) => r === 'issue_commented' || r === 'issue_comment_mentioned'));

  // Closed, then a human comments: reopened to todo, and the assignee is told why.
  assert.equal((await a.http.post(`/api/issues/${issue.id}/checkout`, { agentId: a.id, expectedStatuses: ['todo'] })).status, 200);
  assert.equal((await a.http.post(`/api/issues/${issue.id}/close`, { comment: 'Deliverable: commit 4f2a9c1e\nResult: done. Verified: by hand.' })).status, 200);
  assert.equal((await stack.admin.post(`/api/issues/${issue.id}/comments`, { body: 'Not quite: the footer is still wrong.' })).status, 201);
  const reopened = await waitFor('reopened', () => stack.admin.get(`/api/issues/${issue.id}`), (r) => r.body.status === 'todo');
  assert.equal(reopened.body.completedAt, null);
  await waitFor('the reopen wake', () => reasons(a, issue.id), (r) => r.includes('issue_reopened_via_comment'));

  // An agent's comment on a closed issue reopens it only when it asks.
  assert.equal((await a.http.post(`/api/issues/${issue.id}/checkout`, { agentId: a.id, expectedStatuses: ['todo'] })).status, 200);
  assert.equal((await a.http.post(`/api/issues/${issue.id}/close`, { comment: 'Deliverable: commit 5a3b9d0f\nResult: footer fixed. Verified: by hand.' })).status, 200);
  await b.http.post(`/api/issues/${issue.id}/comments`, { body: 'Thanks!' });
  assert.equal((await stack.admin.get(`/api/issues/${issue.id}`)).body.status, 'done');
  // Reopening is a change: another agent may not reopen the assignee's task (issue 13 §3); the assignee may.
  const foreign = await b.http.post(`/api/issues/${issue.id}/comments`, { body: 'One more thing.', reopen: true });
  assert.equal(foreign.status, 409);
  assert.equal(foreign.body.code, 'not_owner');
  assert.equal((await stack.admin.get(`/api/issues/${issue.id}`)).body.status, 'done');
  assert.equal((await a.http.post(`/api/issues/${issue.id}/comments`, { body: 'One more thing.', reopen: true })).status, 201);
  assert.equal((await stack.admin.get(`/api/issues/${issue.id}`)).body.status, 'todo');

  // The thread in both orders, after a cursor, and one comment by id.
  const asc = (await a.http.get(`/api/issues/${issue.id}/comments?order=asc`)).body;
  const desc = (await a.http.get(`/api/issues/${issue.id}/comments?order=desc`)).body;
  assert.deepEqual(desc.map((x: any) => x.id), asc.map((x: any) => x.id).reverse());
  const page = (await a.http.get(`/api/issues/${issue.id}/comments?order=asc&after=${asc[1].id}&limit=2`)).body;
  assert.deepEqual(page.map((x: any) => x.id), asc.slice(2, 4).map((x: any) => x.id));
  const one = await a.http.get(`/api/issues/${issue.id}/comments/${asc[0].id}`);
  assert.equal(one.body.body, 'Note to self, @agent-0');
  assert.equal((await a.http.get(`/api/issues/${issue.id}/comments/00000000-0000-4000-8000-000000000000`)).status, 404);
  assert.equal((await a.http.get(`/api/issues/${issue.id}/comments?order=sideways`)).status, 400);
  // Paperclip's default (no order: newest first) and its CLI's name for the cursor.
  assert.deepEqual((await a.http.get(`/api/issues/${issue.id}/comments`)).body.map((x: any) => x.id), desc.map((x: any) => x.id));
  const older = (await a.http.get(`/api/issues/${issue.id}/comments?afterCommentId=${desc[0].id}&limit=1`)).body;
  assert.deepEqual(older.map((x: any) => x.id), [desc[1].id]);
});
