/**
 * Tasks from a tracker keep to their pipeline. Issue 13 §6: an operator's POST …/checks and …/review
 * are artifact-mode tools. On a task whose PR the
 * code host manages they would override a red GitHub check and offer `ship`: refused (409
 * status_conflict, not offered), and the task stays as GitHub says.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stackWithFakeGitHub, waitForMine, waitForTask, wireGitHub } from '../support/delivery.js';
import { waitFor } from '../support/wait.js';

const env = stackWithFakeGitHub();

test('operator checks and review on an adapter-managed task are refused; a red check stays red', async () => {
  const w = await wireGitHub(env.stack, env.fake);
  await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Red stays red', labels: ['bug'] });
  const { id } = await waitForMine(w.agent);
  const sha = await env.fake.fake.pushCommit(w.owner, w.repo, 'red', { 'src/app.txt': 'red\n' });
  assert.equal((await w.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'red', pullRequest: { head: 'red' } }, { 'idempotency-key': 's' })).status, 202);
  await env.fake.fake.setCheckRun(w.owner, w.repo, { sha, name: 'build', status: 'completed', conclusion: 'failure' });
  await waitForTask(w.agent, id, 'CI failed', (d) => d.availableActions.includes('fix'));
  const offered = (await env.stack.admin.get(`/api/tasks/${id}`)).body.availableActions as string[];
  assert.ok(!offered.includes('report_checks') && !offered.includes('record_review'), offered.join());
  const checks = await env.stack.admin.post(`/api/tasks/${id}/checks`, { headSha: sha, checks: [{ name: 'build', status: 'passed' }] });
  assert.equal(checks.status, 409, JSON.stringify(checks.body));
  assert.equal(checks.body.error?.code ?? checks.body.code, 'status_conflict');
  const review = await env.stack.admin.post(`/api/tasks/${id}/review`, { outcome: 'approved' });
  assert.equal(review.status, 409);
  assert.equal((await w.agent.http.get(`/api/tasks/${id}/ci-status`)).body.data.overallStatus, 'failed');
  const task = (await w.agent.http.get(`/api/tasks/${id}`)).body.data;
  assert.ok(!task.availableActions.includes('ship'));
});

test('a tracker task that routing left unassigned is not any agent\'s to take: routing or an operator decides (hostile pass)', async () => {
  const w = await wireGitHub(env.stack, env.fake, { agents: 2, rules: [] });
  await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Nobody\'s yet', labels: ['bug'] });
  const task = await waitFor('the unroutable task', async () => (await env.stack.admin.get(`/api/companies/${w.companyId}/issues`)).body[0], (t) => t?.routing?.state === 'unroutable');
  const mallory = w.agents[1]!;
  const offered = (await mallory.http.get(`/api/issues/${task.id}`)).body.availableActions as string[];
  assert.deepEqual(offered, ['comment'], 'only a comment is offered');
  const grab = await mallory.http.patch(`/api/issues/${task.id}`, { assigneeAgentId: mallory.id, status: 'todo' });
  assert.equal(grab.status, 409, JSON.stringify(grab.body));
  assert.match(grab.body.error, /waits for routing/);
  const take = await mallory.http.post(`/api/issues/${task.id}/checkout`, { agentId: mallory.id, expectedStatuses: ['backlog', 'todo'] });
  assert.equal(take.status, 409, JSON.stringify(take.body));
  const after = (await env.stack.admin.get(`/api/issues/${task.id}`)).body;
  assert.deepEqual([after.assigneeAgentId, after.status, after.checkout, after.routing.state], [null, 'backlog', null, 'unroutable']);
  // An operator's assignment is the way (recorded as manual), then it is the agent's.
  assert.equal((await env.stack.admin.patch(`/api/issues/${task.id}`, { assigneeAgentId: mallory.id })).status, 200);
  assert.equal((await mallory.http.post(`/api/tasks/${task.id}/start`, {})).status, 202);
});

test('the agent of a tracker task cannot close it instead of shipping it (hostile pass)', async () => {
  const w = await wireGitHub(env.stack, env.fake);
  const upstream = await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Ship, do not close', labels: ['bug'] });
  const { id } = await waitForMine(w.agent);
  assert.equal((await w.agent.http.post(`/api/tasks/${id}/start`, {})).status, 202);
  assert.ok(!(await w.agent.http.get(`/api/issues/${id}`)).body.availableActions.includes('close'));
  for (const attempt of [
    () => w.agent.http.post(`/api/issues/${id}/close`, { comment: 'Inline result: done. Result: ok. Verified: by hand.' }),
    () => w.agent.http.patch(`/api/issues/${id}`, { status: 'done', comment: 'Inline result: done. Result: ok. Verified: by hand.' }),
  ]) {
    const r = await attempt();
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.match(r.body.error, /done when it ships/);
  }
  assert.equal((await env.stack.admin.get(`/api/issues/${id}`)).body.status, 'in_progress');
  assert.equal(env.fake.fake.repo(w.owner, w.repo).issues.get(upstream.number)!.state, 'open');
});

test('a tracker task its agent releases is routed again, never left waiting for nobody (newcomer pass)', async () => {
  const w = await wireGitHub(env.stack, env.fake, { agents: 2, shared: 'round_robin' });
  const [first, second] = w.agents as [typeof w.agent, typeof w.agent];
  await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Given up', labels: ['bug'] });
  const { id } = await waitForMine(first);
  assert.equal((await first.http.post(`/api/issues/${id}/checkout`, { agentId: first.id, expectedStatuses: ['todo'] })).status, 200);
  const released = await first.http.post(`/api/issues/${id}/release`, { comment: 'not mine after all' });
  assert.equal(released.status, 200, JSON.stringify(released.body));
  // Routing decides again (round robin: the next agent), and that agent may take it.
  const routed = await waitFor('routed again', async () => (await env.stack.admin.get(`/api/issues/${id}`)).body, (t) => t.assigneeAgentId === second.id && t.routing?.state === 'routed');
  assert.match(routed.routing.reason.summary, new RegExp(second.id));
  assert.equal((await second.http.post(`/api/tasks/${id}/start`, {})).status, 202);
  // Unassigning itself by a PATCH is the same: routing decides again (round robin: the first agent's turn).
  const left = await second.http.patch(`/api/issues/${id}`, { assigneeAgentId: null, status: 'todo' });
  assert.equal(left.status, 200, JSON.stringify(left.body));
  await waitFor('routed again after the PATCH', async () => (await env.stack.admin.get(`/api/issues/${id}`)).body, (t) => t.assigneeAgentId === first.id && t.routing?.state === 'routed');
});

test('an agent handing its tracker task to another is recorded as a manual hand-over, not the rule that chose it (newcomer pass)', async () => {
  const w = await wireGitHub(env.stack, env.fake, { agents: 2, shared: 'round_robin' });
  const [first, second] = w.agents as [typeof w.agent, typeof w.agent];
  await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Passed on', labels: ['bug'] });
  const { id } = await waitForMine(first);
  const handed = await first.http.patch(`/api/issues/${id}`, { assigneeAgentId: second.id });
  assert.equal(handed.status, 200, JSON.stringify(handed.body));
  const task = (await env.stack.admin.get(`/api/issues/${id}`)).body;
  assert.deepEqual([task.assigneeAgentId, task.routing.state, task.routing.assignmentSource], [second.id, 'manual', 'manual']);
  assert.equal(task.routing.reason.summary, `Handed by agent ${first.id} to ${second.id}`);
});
