/**
 * Issue 14 §6: a Linear issue from intake to a merged PR, webhook-driven, with CI on CircleCI failing
 * then passing, driven the way an AgentRail agent drives it; the Linear issue ends in its completed
 * state with the merged PR linked, and a person's comment in Linear reaches the agent as a wake.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertHonest as githubHonest } from '../github/support.js';
import { waitForMine, waitForTask } from '../support/delivery.js';
import { stackWithAllFakes, until, wireLinear } from '../support/linear-delivery.js';
import { waitFor } from '../support/wait.js';
import { workflowIdFor } from '../../workflows/messages.js';

const env = stackWithAllFakes();

test('Linear issue → intake → routed (Linear told) → a person comments (agent woken) → submit → CircleCI red → fix → green → ship → Linear completed with the PR linked', async () => {
  const w = await wireLinear(env);
  const gh = env.github.fake;
  const ln = env.linear.fake;
  const cc = env.circleci.fake;
  const issue = await ln.createIssue({ teamKey: w.teamKey, title: 'Checkout total is wrong', description: 'Steps: add two items.', priority: 2, labels: ['bug'] });
  const linearId = issue.id;

  const summary = await waitForMine(w.agent);
  const id = summary.id;
  const task = (await w.agent.http.get(`/api/tasks/${id}`)).body.data;
  assert.equal(task.title, 'Checkout total is wrong');
  assert.equal(task.priority, 'high', 'Linear priority 2 is high');
  assert.equal(task.links.issue, ln.url(issue));
  const { rows } = await env.stack.pool.query<{ source: any }>(`SELECT lifecycle->'source' AS source FROM issues WHERE id = $1`, [id]);
  assert.equal(rows[0]!.source.provider, 'linear');
  assert.equal(rows[0]!.source.key, `linear:${linearId}`, 'keyed by the immutable uuid');
  assert.equal(rows[0]!.source.identifier, `${w.teamKey}-1`);
  assert.equal(rows[0]!.source.deliverySourceId, w.repositoryId);
  assert.equal(task.source.key, `linear:${linearId}`);

  // Write-back on assignment: a comment naming the agent, by the source's key (never seen as a person's comment).
  await until(() => ln.comments(linearId).some((c) => c.body.includes('assigned this issue to agent') && c.body.includes(w.agent.id)), 'the assignment comment in Linear');

  // A person's comment in Linear: on the task as that person (never an agent), and the assignee is woken.
  await ln.addComment(linearId, { body: 'Also check the tax line, please.', userName: 'Dana Reporter' });
  const comments = await waitFor('the Linear comment on the task', async () => (await env.stack.admin.get(`/api/issues/${id}/comments?order=asc`)).body, (c: any[]) => c.some((x) => x.body.includes('tax line')));
  const theirs = comments.find((c: any) => c.body.includes('tax line'));
  assert.equal(theirs.authorAgentId ?? null, null, 'not an agent');
  assert.match(JSON.stringify(theirs), /linear:Dana Reporter/);
  assert.ok(!comments.some((c: any) => c.body.includes('assigned this issue to agent')), 'our own write-back did not come back as a comment');
  await waitFor('the comment wake', async () => (await w.agent.http.get('/api/agents/me/wakeups')).body.data, (d: any[]) => d.some((x) => x.reason === 'issue_commented'));

  const started = await w.agent.http.post(`/api/tasks/${id}/start`, {}, { 'idempotency-key': 'start-linear-1' });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const sha1 = await gh.pushCommit(w.owner, w.repo, 'fix-total', { 'src/app.txt': 'v2 (broken)\n' });
  const submitted = await w.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'Fix the total', pullRequest: { head: 'fix-total' } }, { 'idempotency-key': 'submit-linear-1' });
  assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
  const prNumber = submitted.body.data.prNumber;
  const pull = gh.repo(w.owner, w.repo).pulls.get(prNumber)!;
  assert.match(pull.body ?? '', new RegExp(`Closes ${w.teamKey}-1`), 'the PR names the Linear issue, not a GitHub #number');
  assert.doesNotMatch(pull.body ?? '', /Closes #\d/);

  // CircleCI fails on the head: its webhook makes the task read CI now.
  const p1 = await cc.createPipeline({ projectSlug: w.projectSlug, branch: 'fix-total', revision: sha1, workflows: [{ name: 'build', jobs: [{ name: 'lint', status: 'success' }, { name: 'unit', status: 'running', tests: [{ name: 'totals add up', classname: 'cart', file: 'test/cart.test.ts', message: 'expected 30, got 20', result: 'failure' }] }] }] });
  await cc.setJob(w.projectSlug, p1.number, 'build', 'unit', { status: 'failed' });
  const failing = await waitForTask(w.agent, id, 'CircleCI red → fix', (d) => d.availableActions.includes('fix'));
  assert.equal(failing.ci.overallStatus, 'failed');
  const ci = (await w.agent.http.get(`/api/tasks/${id}/ci-status`)).body.data;
  assert.equal(ci.overallStatus, 'failed');
  assert.deepEqual(ci.checks.map((c: any) => [c.provider, c.workflow, c.name, c.status]).sort(), [['circleci', 'build', 'lint', 'passed'], ['circleci', 'build', 'unit', 'failed']]);
  assert.equal(ci.failureSummaries[0].checkName, 'unit');
  assert.equal(ci.failureSummaries[0].testName, 'totals add up');
  assert.match(ci.failureSummaries[0].message, /expected 30, got 20/);
  await waitFor('the ci_failed wake', async () => (await w.agent.http.get('/api/agents/me/wakeups')).body.data, (d: any[]) => d.some((x) => x.reason === 'ci_failed'));

  const sha2 = await gh.pushCommit(w.owner, w.repo, 'fix-total', { 'src/app.txt': 'v2\n' });
  const again = await w.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'Fix the total, tests fixed', pullRequest: { head: 'fix-total' } }, { 'idempotency-key': 'submit-linear-2' });
  assert.equal(again.status, 202, JSON.stringify(again.body));
  await cc.createPipeline({ projectSlug: w.projectSlug, branch: 'fix-total', revision: sha2, workflows: [{ name: 'build', jobs: [{ name: 'lint', status: 'success' }, { name: 'unit', status: 'success' }] }] });
  const ready = await waitForTask(w.agent, id, 'CircleCI green → ship', (d) => d.availableActions.includes('ship') && d.headSha === sha2);
  assert.equal(ready.ci.overallStatus, 'passed');
  assert.equal(ready.ci.provider, 'circleci', 'the task says which CI judged its head');
  assert.deepEqual(ready.ci.providers, ['circleci']);

  const shipped = await w.agent.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha2 }, { 'idempotency-key': 'ship-linear-1' });
  assert.equal(shipped.status, 202, JSON.stringify(shipped.body));
  const merged = gh.repo(w.owner, w.repo).pulls.get(prNumber)!;
  assert.equal(merged.merged, true);
  await until(() => ln.issue(linearId)!.stateId === ln.stateByName(ln.issue(linearId)!.teamId, 'Done').id, 'the Linear issue completed');
  await until(() => ln.comments(linearId).some((c) => c.body.includes(`/commit/${merged.mergeCommitSha}`) && c.body.includes(`/pull/`)), 'the ship comment linking the PR and the merge in Linear');

  // Secrets never entered Temporal.
  const history = JSON.stringify(await env.stack.client.workflow.getHandle(workflowIdFor(id)).fetchHistory());
  for (const s of Object.values(w.secrets)) assert.ok(!history.includes(s), 'a secret in the history');
  assert.deepEqual(ln.violations, [], 'Linear: every document valid against the schema');
  assert.deepEqual(cc.violations, [], 'CircleCI: every answer valid');
  githubHonest(env.github);
});

test('poll-driven, no webhook anywhere: a Linear issue taken in by the Schedule\'s sync, CircleCI read by the task\'s own polling, shipped, Linear completed', async () => {
  const w = await wireLinear(env, { webhooks: false });
  const ln = env.linear.fake;
  const issue = await ln.createIssue({ teamKey: w.teamKey, title: 'Polled all the way', priority: 4 });
  const sync = await env.stack.admin.post(`/api/sources/${w.linearSourceId}/sync`, {});
  assert.equal(sync.status, 200, JSON.stringify(sync.body));
  assert.equal(sync.body.admitted.length, 1);
  const { id } = await waitForMine(w.agent, 60_000);
  const task = (await w.agent.http.get(`/api/tasks/${id}`)).body.data;
  assert.equal(task.priority, 'low');
  const sha = await env.github.fake.pushCommit(w.owner, w.repo, 'polled', { 'src/app.txt': 'polled\n' });
  const submitted = await w.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'Polled', pullRequest: { head: 'polled' } }, { 'idempotency-key': 'submit-polled-1' });
  assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
  await env.circleci.fake.createPipeline({ projectSlug: w.projectSlug, branch: 'polled', revision: sha, workflows: [{ name: 'build', jobs: [{ name: 'unit', status: 'success' }] }] });
  // No CircleCI webhook: the task's watcher reads CI on its own (from 10 s, backing off).
  await waitForTask(w.agent, id, 'CircleCI green, seen by polling', (d) => d.availableActions.includes('ship'), 90_000);
  assert.equal(env.circleci.fake.hooks.deliveries.filter((d) => d.url.includes(w.repositoryId)).length, 0, 'no CircleCI webhook was sent for this repository');
  const shipped = await w.agent.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha }, { 'idempotency-key': 'ship-polled-1' });
  assert.equal(shipped.status, 202, JSON.stringify(shipped.body));
  await until(() => ln.issue(issue.id)!.stateId === ln.stateByName(issue.teamId, 'Done').id, 'the Linear issue completed', 30_000);
  // A second sync reads only what changed since (the cursor): the completed issue follows its task, nothing new is taken in.
  const again = await env.stack.admin.post(`/api/sources/${w.linearSourceId}/sync`, {});
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.ok(again.body.admitted.every((a: any) => a.created === false), 'nothing new taken in');
  assert.deepEqual(ln.violations, []);
  assert.deepEqual(env.circleci.fake.violations, []);
});
