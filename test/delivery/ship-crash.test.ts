/**
 * kill -9 of the worker mid-ship: GitHub has merged, the worker dies before its activity reports it.
 * A new worker retries the merge; GitHub says "already merged" at that head; the task ships once.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertHonest, fakeGitHub } from '../github/support.js';
import type { RunningFake } from '../fakes/github/server.js';
import { spawnWorker, type ChildWorker } from '../support/child-worker.js';
import { startStack, type Stack } from '../support/stack.js';
import { waitForMine, waitForTask, wireGitHub } from '../support/delivery.js';
import { waitFor } from '../support/wait.js';

let stack: Stack;
let fake: RunningFake;
const workers: ChildWorker[] = [];

before(async () => {
  [stack, fake] = await Promise.all([startStack({ withoutWorker: true, config: { temporalCallTimeoutMs: 60_000 } }), fakeGitHub()]);
});
after(async () => {
  fake?.fake.releaseMerges();
  for (const w of workers) await w.kill();
  await stack?.stop();
  await fake?.close();
});

test('a worker killed mid-ship: exactly one merge, the task done, one closing comment', { timeout: 120_000 }, async () => {
  workers.push(await spawnWorker(stack));
  const w = await wireGitHub(stack, fake, { reviewPolicy: 'never_require' });
  await fake.fake.openIssue(w.owner, w.repo, { title: 'Crash while shipping', labels: ['bug'] });
  const { id } = await waitForMine(w.agent);
  const sha = await fake.fake.pushCommit(w.owner, w.repo, 'crash', { 'src/app.txt': 'crash\n' });
  assert.equal((await w.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'c', pullRequest: { head: 'crash' } }, { 'idempotency-key': 's' })).status, 202);
  await fake.fake.setCheckRun(w.owner, w.repo, { sha, name: 'build', status: 'completed', conclusion: 'success' });
  await waitForTask(w.agent, id, 'ship', (d) => d.availableActions.includes('ship'));

  fake.fake.holdMergeAnswers = true;
  const shipping = w.agent.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha }, { 'idempotency-key': 'ship-crash' });
  await waitFor('GitHub to merge', async () => fake.fake.mergesDone, (n) => n === 1);
  await workers[0]!.kill();
  fake.fake.releaseMerges();
  const row = await stack.pool.query('SELECT status FROM issues WHERE id = $1', [id]);
  assert.equal(row.rows[0].status, 'in_review', 'the read model does not claim a ship the workflow has not recorded');

  workers.push(await spawnWorker(stack));
  const first = await shipping;
  const retry = await w.agent.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha }, { 'idempotency-key': 'ship-crash' });
  assert.equal(retry.status, 202, JSON.stringify(retry.body));
  if (first.status === 202) assert.deepEqual(first.body, retry.body);
  else assert.equal(first.status, 503, 'the first caller may only be told to retry');
  assert.equal(fake.fake.mergesDone, 1, 'one merge on GitHub');
  const pull = fake.fake.repo(w.owner, w.repo).pulls.get(retry.body.data.prNumber)!;
  assert.equal(retry.body.data.mergeCommitSha, pull.mergeCommitSha);
  const done = await waitForTask(w.agent, id, 'done', (d) => d.status === 'done');
  assert.equal(done.stage, 'shipped');
  const comments = (await stack.admin.get(`/api/issues/${id}/comments?order=asc`)).body.filter((c: any) => c.body.includes('Merge commit'));
  assert.equal(comments.length, 1);
  const ships = (await stack.admin.get(`/api/issues/${id}/activity`)).body.filter((a: any) => a.action === 'task.shipped');
  assert.equal(ships.length, 1);
  assert.equal(ships[0].details.alreadyMerged, true, 'the retry found the merge done');
  assertHonest(fake);
});
