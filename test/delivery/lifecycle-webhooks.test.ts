/**
 * One issue from the env.fake GitHub to a merged PR and back, driven the way an AgentRail agent drives it
 * (`/api/tasks`, Bearer key, Idempotency-Key on writes), with webhooks as the fast path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertHonest } from '../github/support.js';
import { stackWithFakeGitHub, waitForMine, waitForTask, wireGitHub } from '../support/delivery.js';
import { workflowIdFor } from '../../workflows/messages.js';
import { openStream } from '../support/sse.js';

const env = stackWithFakeGitHub();

test('issue → intake → routed → start → submit → CI fails → fix → CI passes → approved → ship → rollback', async () => {
  const w = await wireGitHub(env.stack, env.fake);
  const gh = env.fake.fake;
  // The agent follows its company's events from before the issue exists (issue 15).
  const stream = await openStream(env.stack.url, w.agent.key);
  assert.equal(stream.status, 200);
  const issue = await gh.openIssue(w.owner, w.repo, { title: 'Login button does nothing', body: 'Steps: click it.', labels: ['bug'] });
  const summary = await waitForMine(w.agent);
  assert.match(summary.identifier, /^[A-Z]+\d*-1$/);
  assert.equal(summary.status, 'todo');
  assert.deepEqual(summary.availableActions.includes('start'), true);
  const id = summary.id;

  const task = (await w.agent.http.get(`/api/tasks/${summary.identifier}`)).body.data;
  assert.equal(task.id, id, 'the identifier names the same task');
  assert.equal(task.assignmentSource, 'deterministic_rule');
  assert.deepEqual(task.routingReason.matchedRules.map((r: any) => r.id), ['bugs']);
  assert.equal(task.links.issue, `${env.fake.url}/${w.owner}/${w.repo}/issues/${issue.number}`);

  const started = await w.agent.http.post(`/api/tasks/${id}/start`, {}, { 'idempotency-key': 'start-1' });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  assert.equal(started.body.data.status, 'in_progress');
  assert.ok(started.body.availableActions.includes('submit'));

  const sha1 = await gh.pushCommit(w.owner, w.repo, 'fix-login', { 'src/app.txt': 'v2 (broken)\n' });
  const noKey = await w.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'Fix login', pullRequest: { head: 'fix-login' } });
  assert.equal(noKey.status, 400);
  assert.equal(noKey.body.error.code, 'validation_error', 'AgentRail nested error shape');

  const submitted = await w.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'Fix login', pullRequest: { head: 'fix-login', title: 'Fix the login button' } }, { 'idempotency-key': 'submit-1' });
  assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
  assert.equal(submitted.body.data.action, 'created');
  assert.equal(submitted.body.data.headSha, sha1);
  assert.equal(submitted.body.data.status, 'in_review');
  const prNumber = submitted.body.data.prNumber;
  assert.match(submitted.body.data.prUrl, new RegExp(`/pull/${prNumber}$`));
  const pull = gh.repo(w.owner, w.repo).pulls.get(prNumber)!;
  assert.match(pull.body ?? '', new RegExp(`Closes #${issue.number}`));

  // CI fails on the head: the webhook moves the task to "fix".
  await gh.setCheckRun(w.owner, w.repo, { sha: sha1, name: 'unit-tests', status: 'completed', conclusion: 'failure' });
  const failing = await waitForTask(w.agent, id, 'CI failed → fix', (d) => d.availableActions.includes('fix'));
  assert.equal(failing.ci.overallStatus, 'failed');
  const ci = (await w.agent.http.get(`/api/tasks/${id}/ci-status`)).body.data;
  assert.equal(ci.overallStatus, 'failed');
  assert.equal(ci.headSha, sha1);
  assert.deepEqual(ci.failureSummaries.map((f: any) => f.checkName), ['unit-tests']);

  // The fix loop: push, submit again (same PR), CI passes on the new head only.
  const sha2 = await gh.pushCommit(w.owner, w.repo, 'fix-login', { 'src/app.txt': 'v2\n' });
  const again = await w.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'Fix login, tests fixed', pullRequest: { head: 'fix-login' } }, { 'idempotency-key': 'submit-2' });
  assert.equal(again.status, 202, JSON.stringify(again.body));
  assert.equal(again.body.data.action, 'existing');
  assert.equal(again.body.data.prNumber, prNumber);
  assert.equal(again.body.data.headSha, sha2);
  await gh.setCheckRun(w.owner, w.repo, { sha: sha1, name: 'unit-tests', status: 'completed', conclusion: 'success' }); // the old head: ignored
  await gh.setCheckRun(w.owner, w.repo, { sha: sha2, name: 'unit-tests', status: 'completed', conclusion: 'success' });
  const passed = await waitForTask(w.agent, id, 'CI passed on the new head', (d) => d.ci?.overallStatus === 'passed' && d.headSha === sha2);
  assert.ok(!passed.availableActions.includes('ship'), 'no ship before review');

  await gh.submitReview(w.owner, w.repo, prNumber, { user: 'reviewer', state: 'APPROVED', body: 'LGTM' });
  const ready = await waitForTask(w.agent, id, 'approved → ship', (d) => d.availableActions.includes('ship'));
  assert.equal(ready.stage, 'ready_to_ship');
  const feedback = (await w.agent.http.get(`/api/tasks/${id}/review-feedback`)).body.data;
  assert.equal(feedback.latestDecision.outcome, 'approved');

  // A head that moved since reading the task is never merged.
  const sha3 = await gh.pushCommit(w.owner, w.repo, 'fix-login', { 'src/extra.txt': 'late push\n' });
  const stale = await w.agent.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha2 }, { 'idempotency-key': 'ship-stale' });
  assert.equal(stale.status, 409, JSON.stringify(stale.body));
  assert.ok(['head_sha_mismatch', 'not_shippable'].includes(stale.body.error.code), stale.body.error.code);
  assert.equal(gh.repo(w.owner, w.repo).pulls.get(prNumber)!.merged, false, 'nothing merged');
  await gh.setCheckRun(w.owner, w.repo, { sha: sha3, name: 'unit-tests', status: 'completed', conclusion: 'success' });
  await gh.submitReview(w.owner, w.repo, prNumber, { user: 'reviewer', state: 'APPROVED', body: 'still good' });
  await waitForTask(w.agent, id, 'ship offered on the moved head', (d) => d.availableActions.includes('ship') && d.headSha === sha3);

  const ships = await Promise.all([...Array(5)].map(() => w.agent.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha3, mergeMethod: 'merge' }, { 'idempotency-key': 'ship-1' })));
  for (const s of ships) assert.equal(s.status, 202, JSON.stringify(s.body));
  assert.equal(new Set(ships.map((s) => s.body.data.mergeCommitSha)).size, 1);
  const merged = gh.repo(w.owner, w.repo).pulls.get(prNumber)!;
  assert.equal(merged.merged, true);
  assert.equal(merged.mergeCommitSha, ships[0]!.body.data.mergeCommitSha);
  const done = (await w.agent.http.get(`/api/tasks/${id}`)).body.data;
  assert.equal(done.status, 'done');
  assert.deepEqual(done.availableActions, ['rollback', 'view_ci_status', 'view_review_feedback']);
  const comments = (await env.stack.admin.get(`/api/issues/${id}/comments?order=asc`)).body;
  assert.ok(comments.some((c: any) => c.body.includes(`/commit/${merged.mergeCommitSha}`)), 'the closing comment carries the merge commit URL');
  await waitForUpstream(() => gh.repo(w.owner, w.repo).issues.get(issue.number)!.state === 'closed', 'the upstream issue closed');

  const rolled = await w.agent.http.post(`/api/tasks/${id}/rollback`, { reason: 'Broke the signup page' }, { 'idempotency-key': 'rb-1' });
  assert.equal(rolled.status, 202, JSON.stringify(rolled.body));
  assert.equal(rolled.body.data.status, 'todo');
  assert.ok(rolled.body.availableActions.includes('submit'));
  const revert = gh.repo(w.owner, w.repo).pulls.get(rolled.body.data.rollbackPrNumber)!;
  assert.match(revert.title, /^Revert/);
  await waitForUpstream(() => gh.repo(w.owner, w.repo).issues.get(issue.number)!.state === 'open', 'the upstream issue reopened');

  // Every step reached the open stream as AgentRail's events, in the order the workflow decided them.
  const ofTask = () => stream.events.filter((e) => e.data.taskId === id);
  const wanted = ['task.ci_failed', 'task.ci_recovered', 'task.review_approved', 'task.reviewed', 'task.shipped', 'task.rolled_back'];
  // Generous: CI shares two cores; the events follow the projection, which follows the decision.
  const deadline = Date.now() + 60_000;
  while (!wanted.every((t) => ofTask().some((e) => e.type === t)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const events = ofTask();
  const types = events.map((e) => e.type);
  const firstOf = (t: string) => types.indexOf(t);
  for (const t of wanted) assert.ok(types.includes(t), `${t} in ${types.join(', ')}`);
  assert.ok(firstOf('task.ci_failed') < firstOf('task.ci_recovered') && firstOf('task.ci_recovered') < firstOf('task.shipped') && firstOf('task.shipped') < firstOf('task.rolled_back'));
  const failedEvent = events[firstOf('task.ci_failed')]!;
  assert.equal(failedEvent.data.overallStatus, 'failed');
  assert.equal(failedEvent.data.blocking, true);
  assert.equal(failedEvent.data.headSha, sha1);
  assert.ok(failedEvent.data.availableActions.includes('fix'));
  const shippedEvent = events[firstOf('task.shipped')]!;
  assert.equal(shippedEvent.data.shipStatus, 'succeeded');
  assert.ok(['staging', 'production'].includes(shippedEvent.data.targetEnvironment), 'within the SDK\'s enum');
  assert.equal(shippedEvent.data.mergeCommitSha, merged.mergeCommitSha);
  assert.equal(shippedEvent.data.deployed, false, 'Switchyard merges; it never claims a deploy');
  assert.ok(events.some((e) => e.type === 'task.updated' && e.data.changedFields.includes('assignee') && e.data.affectedAgentId === w.agent.id && e.data.summary === 'Task routed to an agent.'), 'routing named the agent');
  const seqs = events.map((e) => e.sequence);
  assert.deepEqual([...seqs].sort((a, b) => a - b), seqs, 'in sequence order');
  assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'once each');
  for (let i = 1; i < events.length; i++) assert.ok(events[i]!.taskVersion >= events[i - 1]!.taskVersion, 'task versions never go back');
  stream.close();

  // The token never entered Temporal: not in any history of this task.
  const history = JSON.stringify(await env.stack.client.workflow.getHandle(workflowIdFor(id)).fetchHistory());
  assert.ok(!history.includes(w.token), 'token in history');
  assert.ok(!history.includes(w.webhookSecret), 'webhook secret in history');
  assertHonest(env.fake);
});

async function waitForUpstream(ok: () => boolean, what: string) {
  const deadline = Date.now() + 15_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
