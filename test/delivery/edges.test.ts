/**
 * Edges found by a hostile pass: a PR merged or closed outside Switchyard, an upstream close that lands
 * while the ship merges (GitHub's own `Closes #n`), a rollback followed by a second delivery, artifact
 * mode with no commit at all, upstream text Postgres cannot store, and submits in review without a fix.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertHonest } from '../github/support.js';
import { seedCompany } from '../support/seed.js';
import { stackWithFakeGitHub, type Wired, waitForMine, waitForTask, wireGitHub } from '../support/delivery.js';
import { waitFor } from '../support/wait.js';

const env = stackWithFakeGitHub();

/** A task in review on a fresh PR, CI green; returns its id, PR number and head. */
async function inReview(w: Wired, title: string, branch: string) {
  await env.fake.fake.openIssue(w.owner, w.repo, { title, labels: ['bug'] });
  const task = await waitFor('the task', async () => (await w.agent.http.get('/api/tasks/mine')).body.data.find((t: any) => t.title === title), (t) => !!t);
  const sha = await env.fake.fake.pushCommit(w.owner, w.repo, branch, { [`${branch}.txt`]: 'x\n' });
  const sub = await w.agent.http.post(`/api/tasks/${task.id}/submit`, { summary: title, pullRequest: { head: branch } }, { 'idempotency-key': `sub-${branch}` });
  assert.equal(sub.status, 202, JSON.stringify(sub.body));
  await env.fake.fake.setCheckRun(w.owner, w.repo, { sha, name: 'ci', status: 'completed', conclusion: 'success' });
  return { id: task.id as string, pr: sub.body.data.prNumber as number, sha };
}

test('a PR merged outside Switchyard ships the task; one closed unmerged sends it back to its agent', async () => {
  const w = await wireGitHub(env.stack, env.fake, { reviewPolicy: 'never_require' });
  const merged = await inReview(w, 'Merged by a human', 'human-merge');
  await env.fake.fake.mergePull(env.fake.fake.repo(w.owner, w.repo), merged.pr, { method: 'merge' });
  const done = await waitForTask(w.agent, merged.id, 'shipped', (d) => d.status === 'done');
  assert.equal(done.stage, 'shipped');
  assert.equal(done.shipped.mergeCommitSha, env.fake.fake.repo(w.owner, w.repo).pulls.get(merged.pr)!.mergeCommitSha);

  const second = await inReview(w, 'Closed by a human', 'human-close');
  env.fake.fake.repo(w.owner, w.repo).pulls.get(second.pr)!.state = 'closed';
  await env.fake.fake.hooks.emit('pull_request', 'closed', { number: second.pr, pull_request: await env.fake.fake.pullBody(env.fake.fake.repo(w.owner, w.repo), env.fake.fake.repo(w.owner, w.repo).pulls.get(second.pr)!), ...env.fake.fake.envelope(env.fake.fake.repo(w.owner, w.repo), w.owner) });
  const back = await waitForTask(w.agent, second.id, 'back to todo', (d) => d.status === 'todo');
  assert.ok(back.availableActions.includes('submit'));
  assertHonest(env.fake);
});

test('an upstream close while the ship merges (GitHub closing the issue for `Closes #n`) does not cancel the task', async () => {
  const w = await wireGitHub(env.stack, env.fake, { reviewPolicy: 'never_require' });
  const t = await inReview(w, 'Closes itself', 'self-close');
  await waitForTask(w.agent, t.id, 'ship', (d) => d.availableActions.includes('ship'));
  env.fake.fake.holdMergeAnswers = true;
  const shipping = w.agent.http.post(`/api/tasks/${t.id}/ship`, { expectedHeadSha: t.sha }, { 'idempotency-key': 'ship-self-close' });
  await waitFor('the merge', async () => env.fake.fake.repo(w.owner, w.repo).pulls.get(t.pr)!.merged, (m) => m);
  const upstream = [...env.fake.fake.repo(w.owner, w.repo).issues.values()].find((i) => i.title === 'Closes itself')!;
  await env.fake.fake.editIssue(w.owner, w.repo, upstream.number, { state: 'closed' });
  env.fake.fake.releaseMerges();
  assert.equal((await shipping).status, 202);
  const done = await waitForTask(w.agent, t.id, 'done', (d) => d.status === 'done');
  assert.equal(done.stage, 'shipped');
  const activity = (await env.stack.admin.get(`/api/issues/${t.id}/activity`)).body;
  assert.ok(!activity.some((a: any) => a.details?.to === 'cancelled'), 'never cancelled');
});

test('rollback, then a second delivery: start, submit a new PR, ship again', async () => {
  const w = await wireGitHub(env.stack, env.fake, { reviewPolicy: 'never_require' });
  const t = await inReview(w, 'Twice', 'twice-1');
  await waitForTask(w.agent, t.id, 'ship', (d) => d.availableActions.includes('ship'));
  assert.equal((await w.agent.http.post(`/api/tasks/${t.id}/ship`, { expectedHeadSha: t.sha }, { 'idempotency-key': 's1' })).status, 202);
  assert.equal((await w.agent.http.post(`/api/tasks/${t.id}/rollback`, { reason: 'broke prod' }, { 'idempotency-key': 'r1' })).status, 202);
  const oldShip = await w.agent.http.post(`/api/tasks/${t.id}/ship`, { expectedHeadSha: t.sha }, { 'idempotency-key': 's-old' });
  assert.equal(oldShip.status, 409, 'a rolled-back merge is not "already shipped"');
  assert.equal((await w.agent.http.post(`/api/tasks/${t.id}/start`, {}, { 'idempotency-key': 'st2' })).status, 202);
  const sha2 = await env.fake.fake.pushCommit(w.owner, w.repo, 'twice-2', { 'twice-2.txt': 'better\n' });
  const sub = await w.agent.http.post(`/api/tasks/${t.id}/submit`, { summary: 'again', pullRequest: { head: 'twice-2' } }, { 'idempotency-key': 'sub2' });
  assert.equal(sub.status, 202, JSON.stringify(sub.body));
  assert.notEqual(sub.body.data.prNumber, t.pr);
  await env.fake.fake.setCheckRun(w.owner, w.repo, { sha: sha2, name: 'ci', status: 'completed', conclusion: 'success' });
  await waitForTask(w.agent, t.id, 'ship again', (d) => d.availableActions.includes('ship'));
  const again = await w.agent.http.post(`/api/tasks/${t.id}/ship`, { expectedHeadSha: sha2 }, { 'idempotency-key': 's2' });
  assert.equal(again.status, 202, JSON.stringify(again.body));
  assert.equal(env.fake.fake.mergesDone >= 2, true);
  // In review without a fix to make, a submit is refused like availableActions says.
  assertHonest(env.fake);
});

test('in review with nothing to fix, submit is refused; artifact mode with no commit ships with the SHA given', async () => {
  const w = await wireGitHub(env.stack, env.fake);
  const t = await inReview(w, 'No resubmit', 'no-resubmit');
  const again = await w.agent.http.post(`/api/tasks/${t.id}/submit`, { summary: 'again', pullRequest: { head: 'no-resubmit' } }, { 'idempotency-key': 'again' });
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, 'not_submittable');

  const { companyId, agents } = await seedCompany(env.stack, 1);
  const id = (await env.stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'Doc only', status: 'todo', assigneeAgentId: agents[0]!.id })).body.id;
  const sub = await agents[0]!.http.post(`/api/tasks/${id}/submit`, { summary: 'doc', mode: 'artifact', artifacts: [{ type: 'doc', url: 'https://docs.example/runbook' }] }, { 'idempotency-key': 'doc' });
  assert.equal(sub.status, 202, JSON.stringify(sub.body));
  assert.equal(sub.body.data.headSha, null);
  await env.stack.admin.post(`/api/tasks/${id}/checks`, { checks: [{ name: 'lint', status: 'passed' }] });
  const review = await env.stack.admin.post(`/api/tasks/${id}/review`, { outcome: 'approved' });
  assert.ok(review.body.data.availableActions.includes('ship'), JSON.stringify(review.body));
  const sha = 'c'.repeat(40);
  const ship = await agents[0]!.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha }, { 'idempotency-key': 'doc-ship' });
  assert.equal(ship.status, 202, JSON.stringify(ship.body));
  assert.equal(ship.body.data.headSha, sha);
});

test('upstream text Postgres cannot store, or too long, is tidied on the way in', async () => {
  const w = await wireGitHub(env.stack, env.fake);
  await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Nul \u0000 and \ud800 here', body: 'x'.repeat(200_000), labels: ['bug'] });
  const task = await waitForMine(w.agent);
  const detail = (await w.agent.http.get(`/api/tasks/${task.id}`)).body.data;
  assert.ok(!detail.title.includes('\u0000'));
  assert.ok(Buffer.byteLength(detail.description, 'utf8') <= 64 * 1024);
  assert.match(detail.description, /cut: the upstream issue's body is 200000 bytes/);
  const wakes = await waitFor('the wake', async () => (await w.agent.http.get('/api/agents/me/wakeups')).body.data, (d: any[]) => d.length > 0);
  assert.equal(wakes[0].status, 'queued');
});

test('a submit naming a branch that is not pushed yet: 422 branch_not_found naming it, submit still offered; pushed, it goes through (newcomer pass)', async () => {
  const w = await wireGitHub(env.stack, env.fake);
  await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Not pushed yet', labels: ['bug'] });
  const { id } = await waitForMine(w.agent);
  const early = await w.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'fix', pullRequest: { head: 'fix/not-yet' } }, { 'idempotency-key': 'early' });
  assert.equal(early.status, 422, JSON.stringify(early.body));
  assert.equal(early.body.error.code, 'branch_not_found');
  assert.match(early.body.error.message, /"fix\/not-yet" is not in .*push it/);
  assert.deepEqual(early.body.error.details.availableActions, ['submit']);
  assert.ok((await w.agent.http.get(`/api/tasks/${id}`)).body.data.availableActions.includes('submit'));
  await env.fake.fake.pushCommit(w.owner, w.repo, 'fix/not-yet', { 'fix.txt': 'x\n' });
  const later = await w.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'fix', pullRequest: { head: 'fix/not-yet' } }, { 'idempotency-key': 'later' });
  assert.equal(later.status, 202, JSON.stringify(later.body));
  assertHonest(env.fake);
});

test('a submit naming another task\'s branch cannot take over its pull request: 409 pull_request_taken (hostile pass)', async () => {
  const w = await wireGitHub(env.stack, env.fake, { agents: 2, shared: 'round_robin' });
  const [a, b] = w.agents as [typeof w.agent, typeof w.agent];
  await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Task A', labels: ['bug'] });
  const taskA = (await waitForMine(a)).id;
  await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Task B', labels: ['bug'] });
  const taskB = (await waitForMine(b)).id;
  await env.fake.fake.pushCommit(w.owner, w.repo, 'feature-a', { 'a.txt': 'A\n' });
  const mine = await a.http.post(`/api/tasks/${taskA}/submit`, { summary: 'A', pullRequest: { head: 'feature-a' } }, { 'idempotency-key': 'a1' });
  assert.equal(mine.status, 202, JSON.stringify(mine.body));
  const theirs = await b.http.post(`/api/tasks/${taskB}/submit`, { summary: 'B', pullRequest: { head: 'feature-a' } }, { 'idempotency-key': 'b1' });
  assert.deepEqual([theirs.status, theirs.body.error?.code], [409, 'pull_request_taken'], JSON.stringify(theirs.body));
  assert.equal(theirs.body.error.details.prNumber, mine.body.data.prNumber);
  const b2 = (await b.http.get(`/api/tasks/${taskB}`)).body.data;
  assert.equal(b2.pullRequest?.number ?? b2.prNumber ?? null, null, 'task B has no PR');
  assert.ok(b2.availableActions.includes('submit'), 'B may still submit a branch of its own');
  // A resubmitting its own branch keeps its PR.
  const again = await a.http.post(`/api/tasks/${taskA}/submit`, { summary: 'A again', pullRequest: { head: 'feature-a' } }, { 'idempotency-key': 'a2' });
  assert.ok([202, 409].includes(again.status), JSON.stringify(again.body));
  assert.notEqual(again.body.error?.code, 'pull_request_taken');
});
