/** Issue 8 §1 (first slice): goals, subtasks under a parent (also by Paperclip's children route), ancestors and children on read, isolation. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { seedCompany } from '../support/seed.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.stop());

test('goals, subtasks and where an issue sits; another company\'s parent or goal is 404', async () => {
  const { companyId, agents } = await seedCompany(stack, 1);
  const manager = agents[0]!;
  const goal = await manager.http.post(`/api/companies/${companyId}/goals`, { title: 'Faster checkout', level: 'company', status: 'active' });
  assert.equal(goal.status, 201, JSON.stringify(goal.body));
  const team = await stack.admin.post(`/api/companies/${companyId}/goals`, { title: 'Cache the cart', level: 'team', parentId: goal.body.id });
  assert.equal(team.status, 201);
  const defaulted = await stack.admin.post(`/api/companies/${companyId}/goals`, { title: 'No level given' });
  assert.equal(defaulted.body.level, 'task', 'Paperclip\'s default level');
  assert.equal((await stack.admin.patch(`/api/goals/${goal.body.id}`, { parentId: team.body.id })).status, 422, 'no goal under its own sub-goal');

  const parent = await manager.http.post(`/api/companies/${companyId}/issues`, { title: 'Implement caching layer', goalId: team.body.id, status: 'todo', assigneeAgentId: manager.id });
  assert.equal(parent.status, 201, JSON.stringify(parent.body));
  const child = await manager.http.post(`/api/issues/${parent.body.id}/children`, { title: 'Write the cache module', goalId: team.body.id });
  assert.equal(child.status, 201, JSON.stringify(child.body));
  assert.equal(child.body.parentId, parent.body.id);
  assert.equal(child.body.createdByAgentId, manager.id, 'the creator is recorded');
  assert.equal((await manager.http.get(`/api/issues/${child.body.id}`)).body.createdByAgentId, manager.id);
  const grandchild = await manager.http.post(`/api/companies/${companyId}/issues`, { title: 'Benchmark it', parentId: child.body.id });
  assert.equal(grandchild.status, 201);

  const read = (await manager.http.get(`/api/issues/${grandchild.body.id}`)).body;
  assert.deepEqual(read.ancestors.map((a: any) => a.id), [child.body.id, parent.body.id], 'parent first');
  const listed = (q: string) => manager.http.get(`/api/companies/${companyId}/issues?${q}`).then((r) => r.body.map((i: any) => i.id).sort());
  assert.deepEqual(await listed(`parentId=${parent.body.id}`), [child.body.id]);
  assert.deepEqual(await listed(`parentIssueId=${parent.body.id}`), [child.body.id]);
  assert.deepEqual(await listed(`descendantOf=${parent.body.id}`), [child.body.id, grandchild.body.id].sort());
  const top = (await manager.http.get(`/api/issues/${parent.body.id}`)).body;
  assert.deepEqual(top.children, { total: 1, byStatus: { backlog: 1 } });
  assert.equal(top.goal.title, 'Cache the cart');

  // Another company: its parent and its goal do not exist for us.
  const other = await seedCompany(stack, 1);
  const foreignGoal = (await stack.admin.post(`/api/companies/${other.companyId}/goals`, { title: 'Theirs', level: 'company' })).body;
  assert.equal((await manager.http.post(`/api/companies/${companyId}/issues`, { title: 'x', goalId: foreignGoal.id })).status, 404);
  assert.equal((await manager.http.post(`/api/companies/${companyId}/issues`, { title: 'x', parentId: (await stack.admin.post(`/api/companies/${other.companyId}/issues`, { title: 'theirs' })).body.id })).status, 404);
  assert.equal((await manager.http.get(`/api/goals/${foreignGoal.id}`)).status, 404);
  assert.equal((await manager.http.post(`/api/issues/${parent.body.id}/children`, { title: 'y', parentId: parent.body.id })).status, 400);
  assert.equal((await stack.admin.request('DELETE', `/api/goals/${team.body.id}`)).status, 409, 'issues still point at it');
});

test('issues nest at most 20 levels', async () => {
  const { companyId } = await seedCompany(stack, 0);
  let parentId: string | undefined;
  for (let depth = 1; depth <= 20; depth++) {
    const res = await stack.admin.post(`/api/companies/${companyId}/issues`, { title: `level ${depth}`, ...(parentId ? { parentId } : {}) });
    assert.equal(res.status, 201, `level ${depth}: ${JSON.stringify(res.body)}`);
    parentId = res.body.id;
  }
  const tooDeep = await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'level 21', parentId });
  assert.equal(tooDeep.status, 422);
});

test('a heartbeat in two reads: inbox-lite, then heartbeat-context with the waking comment', async () => {
  const { companyId, agents } = await seedCompany(stack, 2);
  const [me, other] = agents as [(typeof agents)[0], (typeof agents)[0]];
  const goal = (await stack.admin.post(`/api/companies/${companyId}/goals`, { title: 'Ship v2', level: 'company' })).body;
  const parent = (await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'Epic', goalId: goal.id })).body;
  const mine = (await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'Mine', parentId: parent.id, goalId: goal.id, assigneeAgentId: me.id, priority: 'high' })).body;
  await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'Not mine', assigneeAgentId: other.id });
  const inbox = await me.http.get('/api/agents/me/inbox-lite');
  assert.equal(inbox.status, 200);
  assert.deepEqual(inbox.body.map((i: any) => [i.id, i.status, i.dependencyReady, i.parentId, i.goalId]), [[mine.id, 'todo', true, parent.id, goal.id]]);
  assert.equal((await stack.admin.get('/api/agents/me/inbox-lite')).status, 403);

  const said = (await other.http.post(`/api/issues/${mine.id}/comments`, { body: 'Please also cover the edge case.' })).body;
  const ctx = await me.http.get(`/api/issues/${mine.id}/heartbeat-context?wakeCommentId=${said.id}`);
  assert.equal(ctx.status, 200, JSON.stringify(ctx.body));
  assert.equal(ctx.body.issue.id, mine.id);
  assert.deepEqual(ctx.body.ancestors.map((a: any) => a.id), [parent.id]);
  assert.equal(ctx.body.goal.id, goal.id);
  assert.deepEqual(ctx.body.commentCursor.totalComments, 1);
  assert.equal(ctx.body.commentCursor.latestCommentId, said.id);
  assert.equal(ctx.body.wakeComment.body, 'Please also cover the edge case.');
});

test('Paperclip\'s create: idempotencyKey in the body (replay 200 deduplicated), its CLI\'s extra fields accepted, unknown ones refused', async () => {
  const { companyId, agents } = await seedCompany(stack, 1);
  const agent = agents[0]!;
  const body = { title: 'Implement caching layer', idempotencyKey: 'create:cache-1', workMode: 'standard', requestDepth: 1, allowDuplicate: false, status: 'todo' };
  const all = await Promise.all([...Array(5)].map(() => agent.http.post(`/api/companies/${companyId}/issues`, body)));
  const ids = new Set(all.map((r) => r.body.id));
  assert.equal(ids.size, 1, 'one issue');
  for (const r of all) assert.ok([200, 201].includes(r.status), JSON.stringify(r.body));
  const again = await agent.http.post(`/api/companies/${companyId}/issues`, body);
  assert.equal(again.status, 200);
  assert.equal(again.body.deduplicated, true);
  assert.equal(again.body.deduplicationReason, 'idempotency_key');
  const reused = await agent.http.post(`/api/companies/${companyId}/issues`, { ...body, title: 'Something else' });
  assert.equal(reused.status, 409);
  assert.equal(reused.body.code, 'idempotency_key_reused');
  const { rows } = await stack.pool.query('SELECT count(*)::int AS n FROM issues WHERE company_id = $1', [companyId]);
  assert.equal(rows[0].n, 1);
  assert.equal((await agent.http.post(`/api/companies/${companyId}/issues`, { title: 'x', madeUpField: 1 })).status, 400);
});

test('goal races: two moves at once never make a cycle; a delete racing a create never leaves an issue on a missing goal', async () => {
  const { companyId } = await seedCompany(stack, 0);
  const goal = (title: string) => stack.admin.post(`/api/companies/${companyId}/goals`, { title, level: 'team' }).then((r) => r.body.id as string);
  for (let i = 0; i < 8; i++) {
    const [a, b] = await Promise.all([goal(`a${i}`), goal(`b${i}`)]);
    const moves = await Promise.all([stack.admin.patch(`/api/goals/${a}`, { parentId: b }), stack.admin.patch(`/api/goals/${b}`, { parentId: a })]);
    assert.deepEqual(moves.map((m) => m.status).sort(), [200, 422], `try ${i}: ${moves.map((m) => JSON.stringify(m.body)).join(' ')}`);
  }
  for (let i = 0; i < 8; i++) {
    const g = await goal(`doomed ${i}`);
    const [created, deleted] = await Promise.all([
      stack.admin.post(`/api/companies/${companyId}/issues`, { title: `serves ${i}`, goalId: g }),
      stack.admin.request('DELETE', `/api/goals/${g}`),
    ]);
    // Exactly one of them wins; an issue is never left pointing at nothing.
    assert.ok((created.status === 201) !== (deleted.status === 200), `try ${i}: create ${created.status}, delete ${deleted.status}`);
    const { rows } = await stack.pool.query('SELECT count(*)::int AS n FROM issues i WHERE i.goal_id = $1 AND NOT EXISTS (SELECT 1 FROM goals WHERE id::text = i.goal_id)', [g]);
    assert.equal(rows[0].n, 0);
  }
  // The same for an existing issue moved to a goal while the goal is deleted.
  const mover = (await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'mover' })).body;
  for (let i = 0; i < 8; i++) {
    const g = await goal(`target ${i}`);
    const [moved, deleted] = await Promise.all([stack.admin.patch(`/api/issues/${mover.id}`, { goalId: g }), stack.admin.request('DELETE', `/api/goals/${g}`)]);
    assert.ok((moved.status === 200) !== (deleted.status === 200), `move ${i}: patch ${moved.status}, delete ${deleted.status}`);
    if (moved.status === 200) await stack.admin.patch(`/api/issues/${mover.id}`, { goalId: null });
  }
  // A sub-goal created while its parent is deleted: one of them wins, never a 500.
  for (let i = 0; i < 8; i++) {
    const parent = await goal(`parent ${i}`);
    const [child, deleted] = await Promise.all([
      stack.admin.post(`/api/companies/${companyId}/goals`, { title: `child ${i}`, parentId: parent }),
      stack.admin.request('DELETE', `/api/goals/${parent}`),
    ]);
    assert.ok((child.status === 201) !== (deleted.status === 200), `sub-goal ${i}: create ${child.status}, delete ${deleted.status}`);
    assert.ok([201, 404].includes(child.status) && [200, 409].includes(deleted.status));
  }
  // Claims hold no connection: a burst of goal moves is not a burst of 503s.
  const g = await goal('popular');
  const many = await Promise.all(Array.from({ length: 10 }, (_, i) => stack.admin.post(`/api/companies/${companyId}/issues`, { title: `burst ${i}` })));
  const moves = await Promise.all(many.map((m) => stack.admin.patch(`/api/issues/${m.body.id}`, { goalId: g })));
  assert.ok(moves.every((m) => m.status === 200), moves.map((m) => m.status).join());
});
