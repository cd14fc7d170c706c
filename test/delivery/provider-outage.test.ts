/**
 * GitHub down while an agent submits and ships: the caller hears 503 provider_unavailable with
 * Retry-After by its deadline; once GitHub is back, the same Idempotency-Key gets the same operation's
 * result: one PR, one merge.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { injectOutage } from '../fakes/github/control.js';
import { assertHonest } from '../github/support.js';
import { stackWithFakeGitHub, waitForMine, waitForTask, wireGitHub } from '../support/delivery.js';

const env = stackWithFakeGitHub({ config: { temporalCallTimeoutMs: 3_000 } });

test('submit and ship during a GitHub outage: 503 provider_unavailable, then the same key completes once', { timeout: 120_000 }, async () => {
  const w = await wireGitHub(env.stack, env.fake, { reviewPolicy: 'never_require' });
  await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Outage', labels: ['bug'] });
  const { id } = await waitForMine(w.agent);
  const sha = await env.fake.fake.pushCommit(w.owner, w.repo, 'outage', { 'src/app.txt': 'o\n' });

  injectOutage(env.fake.fake, { status: 502 });
  const started = Date.now();
  const down = await w.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'o', pullRequest: { head: 'outage' } }, { 'idempotency-key': 'sub' });
  assert.equal(down.status, 503, JSON.stringify(down.body));
  assert.equal(down.body.error.code, 'provider_unavailable');
  assert.ok(down.headers.get('retry-after'));
  assert.ok(Date.now() - started < 3_000 + 2_000, 'answered by the deadline');
  injectOutage(env.fake.fake, { count: 0 });
  const back = await waitForTask(w.agent, id, 'the submit to complete once GitHub is back', (d) => d.status === 'in_review', 60_000);
  const retry = await w.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'o', pullRequest: { head: 'outage' } }, { 'idempotency-key': 'sub' });
  assert.equal(retry.status, 202, JSON.stringify(retry.body));
  assert.equal(retry.body.data.submissionId, back.submissionId, 'the same submission, not a second one');
  assert.equal([...env.fake.fake.repo(w.owner, w.repo).pulls.values()].length, 1, 'one PR');

  await env.fake.fake.setCheckRun(w.owner, w.repo, { sha, name: 'build', status: 'completed', conclusion: 'success' });
  await waitForTask(w.agent, id, 'ship', (d) => d.availableActions.includes('ship'));
  injectOutage(env.fake.fake, { status: 503 });
  const shipDown = await w.agent.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha }, { 'idempotency-key': 'ship' });
  assert.equal(shipDown.status, 503, JSON.stringify(shipDown.body));
  assert.equal(shipDown.body.error.code, 'provider_unavailable');
  injectOutage(env.fake.fake, { count: 0 });
  await waitForTask(w.agent, id, 'shipped once GitHub is back', (d) => d.status === 'done', 60_000);
  const shipRetry = await w.agent.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha }, { 'idempotency-key': 'ship' });
  assert.equal(shipRetry.status, 202, JSON.stringify(shipRetry.body));
  assert.equal(env.fake.fake.mergesDone, 1, 'one merge');
  assertHonest(env.fake);
});
