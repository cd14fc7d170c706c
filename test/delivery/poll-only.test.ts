/**
 * No webhooks at all: the intake Schedule takes the issue in, and the task workflow's own polling
 * (timers backing off from ~10 s) sees CI and review, so the task still reaches ship.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertHonest } from '../github/support.js';
import { stackWithFakeGitHub, waitForMine, waitForTask, wireGitHub } from '../support/delivery.js';

const env = stackWithFakeGitHub();

test('poll-only: Schedule intake, CI and review seen by the workflow\'s polling, shipped', async () => {
  const w = await wireGitHub(env.stack, env.fake, { webhooks: false, pollIntervalSeconds: 15 });
  const issue = await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Found by polling', labels: ['bug'] });
  const { id } = await waitForMine(w.agent, 40_000);
  const sha = await env.fake.fake.pushCommit(w.owner, w.repo, 'poll', { 'src/app.txt': 'polled\n' });
  const submitted = await w.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'poll', pullRequest: { head: 'poll' } }, { 'idempotency-key': 's' });
  assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
  await waitForTask(w.agent, id, 'the first look at the PR (queued)', (d) => d.stage === 'submitted' || d.stage === 'ci');
  await env.fake.fake.setCheckRun(w.owner, w.repo, { sha, name: 'build', status: 'completed', conclusion: 'success' });
  await env.fake.fake.submitReview(w.owner, w.repo, submitted.body.data.prNumber, { user: 'rev', state: 'APPROVED' });
  assert.equal(env.fake.fake.hooks.deliveries.length, 0, 'no webhook was ever delivered');
  const ready = await waitForTask(w.agent, id, 'polling sees CI and review', (d) => d.availableActions.includes('ship'), 45_000);
  assert.equal(ready.headSha, sha);
  const ship = await w.agent.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha }, { 'idempotency-key': 'ship' });
  assert.equal(ship.status, 202, JSON.stringify(ship.body));
  assert.equal(env.fake.fake.repo(w.owner, w.repo).issues.get(issue.number)!.title, 'Found by polling');
  assertHonest(env.fake);
});
