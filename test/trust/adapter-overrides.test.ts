/**
 * Issue 13 §6: an operator's POST …/checks and …/review are artifact-mode tools. On a task whose PR the
 * code host manages they would override a red GitHub check and offer `ship`: refused (409
 * status_conflict, not offered), and the task stays as GitHub says.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stackWithFakeGitHub, waitForMine, waitForTask, wireGitHub } from '../support/delivery.js';

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
