/**
 * Submit and review paths: ten concurrent submits open one PR; changes requested → fix → approved;
 * never_require ships without review; artifact mode end to end (reported checks, an operator review,
 * no provider); refusals in AgentRail's shape with currentStatus and availableActions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertHonest } from '../github/support.js';
import { seedCompany } from '../support/seed.js';
import { stackWithFakeGitHub, waitForMine, waitForTask, wireGitHub } from '../support/delivery.js';

const env = stackWithFakeGitHub();

test('ten concurrent submits (different keys) open one PR; changes requested → fix → approved → ship', async () => {
  const w = await wireGitHub(env.stack, env.fake);
  await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Ten at once', labels: ['bug'] });
  const { id } = await waitForMine(w.agent);
  const sha1 = await env.fake.fake.pushCommit(w.owner, w.repo, 'ten', { 'src/app.txt': 'ten\n' });
  // AgentRail's SDK has no start: a submit from todo implies the checkout.
  const submits = await Promise.all([...Array(10).keys()].map((i) => w.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'Ten', pullRequest: { head: 'ten' } }, { 'idempotency-key': `sub-${i}` })));
  // One submission wins; the others find the task in review with nothing to fix, as availableActions says.
  const accepted = submits.filter((s) => s.status === 202);
  assert.equal(accepted.length, 1, JSON.stringify(submits.map((s) => s.status)));
  assert.equal(accepted[0]!.body.data.action, 'created');
  for (const s of submits.filter((x) => x.status !== 202)) {
    assert.equal(s.status, 409);
    assert.equal(s.body.error.code, 'not_submittable');
  }
  const pulls = [...env.fake.fake.repo(w.owner, w.repo).pulls.values()];
  assert.equal(pulls.length, 1, 'one PR on GitHub');
  const prNumber = pulls[0]!.number;

  await env.fake.fake.setCheckRun(w.owner, w.repo, { sha: sha1, name: 'build', status: 'completed', conclusion: 'success' });
  await env.fake.fake.addReviewComment(w.owner, w.repo, prNumber, { user: 'rev', path: 'src/app.txt', line: 1, body: 'Use a constant here' });
  await env.fake.fake.submitReview(w.owner, w.repo, prNumber, { user: 'rev', state: 'CHANGES_REQUESTED', body: 'Please fix' });
  const fix = await waitForTask(w.agent, id, 'changes requested → fix', (d) => d.availableActions.includes('fix'));
  assert.equal(fix.review.outcome, 'changes_requested');
  const feedback = (await w.agent.http.get(`/api/tasks/${id}/review-feedback`)).body.data;
  assert.equal(feedback.latestDecision.outcome, 'changes_requested');
  assert.ok(feedback.comments.some((c: any) => c.body === 'Use a constant here' && c.file === 'src/app.txt' && c.line === 1));
  const wakes = (await w.agent.http.get('/api/agents/me/wakeups')).body.data.map((x: any) => x.reason);
  assert.ok(wakes.includes('changes_requested'), JSON.stringify(wakes));

  const shipTooSoon = await w.agent.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha1 }, { 'idempotency-key': 'early' });
  assert.equal(shipTooSoon.status, 409);
  assert.equal(shipTooSoon.body.error.code, 'not_shippable');
  assert.equal(shipTooSoon.body.error.details.currentStatus, 'in_review');
  assert.ok(Array.isArray(shipTooSoon.body.error.details.availableActions));

  const sha2 = await env.fake.fake.pushCommit(w.owner, w.repo, 'ten', { 'src/app.txt': 'ten, fixed\n' });
  const again = await w.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'Addressed review' , pullRequest: { head: 'ten' } }, { 'idempotency-key': 'sub-fix' });
  assert.equal(again.status, 202);
  assert.equal(again.body.data.headSha, sha2);
  await env.fake.fake.setCheckRun(w.owner, w.repo, { sha: sha2, name: 'build', status: 'completed', conclusion: 'success' });
  await env.fake.fake.submitReview(w.owner, w.repo, prNumber, { user: 'rev', state: 'APPROVED' });
  await waitForTask(w.agent, id, 'ship', (d) => d.availableActions.includes('ship'));
  const ship = await w.agent.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha2 }, { 'idempotency-key': 'ship' });
  assert.equal(ship.status, 202, JSON.stringify(ship.body));
  // The same key replays the same answer; a new key at the merged head is the same success, no second merge.
  const replay = await w.agent.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha2 }, { 'idempotency-key': 'ship' });
  assert.deepEqual(replay.body, ship.body);
  const newKey = await w.agent.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha2 }, { 'idempotency-key': 'ship-again' });
  assert.equal(newKey.status, 202, JSON.stringify(newKey.body));
  assert.equal(newKey.body.data.mergeCommitSha, ship.body.data.mergeCommitSha);
  const reused = await w.agent.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha1 }, { 'idempotency-key': 'ship' });
  assert.equal(reused.status, 409);
  assert.equal(reused.body.error.code, 'idempotency_key_reused');
  assertHonest(env.fake);
});

test('never_require: CI green ships without any review', async () => {
  const w = await wireGitHub(env.stack, env.fake, { reviewPolicy: 'never_require' });
  await env.fake.fake.openIssue(w.owner, w.repo, { title: 'No review', labels: ['bug'] });
  const { id } = await waitForMine(w.agent);
  const sha = await env.fake.fake.pushCommit(w.owner, w.repo, 'nr', { 'src/app.txt': 'nr\n' });
  assert.equal((await w.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'nr', pullRequest: { head: 'nr' } }, { 'idempotency-key': 'a' })).status, 202);
  await env.fake.fake.setStatus(w.owner, w.repo, { sha, state: 'success', context: 'ci/circleci' });
  const ready = await waitForTask(w.agent, id, 'ship without review', (d) => d.availableActions.includes('ship'));
  assert.equal(ready.review.outcome, 'not_required');
  const ship = await w.agent.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha, mode: 'merge_only', targetEnvironment: 'production' }, { 'idempotency-key': 'b' });
  assert.equal(ship.status, 202, JSON.stringify(ship.body));
  assert.equal(ship.body.data.status, 'succeeded');
});

test('artifact mode: no provider, reported checks, an operator review, ship; a task without a source refuses adapter_managed', async () => {
  const { companyId, agents } = await seedCompany(env.stack, 2);
  const [agent, other] = agents;
  const created = await env.stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'Hand-made task', status: 'todo', assigneeAgentId: agent!.id });
  const id = created.body.id;
  assert.match(created.body.identifier, /^CO[A-Z]{0,2}\d*-1$/, 'the first task of the company');
  const noSource = await agent!.http.post(`/api/tasks/${id}/submit`, { summary: 'x', pullRequest: { head: 'b' } }, { 'idempotency-key': 'k0' });
  assert.equal(noSource.status, 409);
  assert.equal(noSource.body.error.code, 'no_provider_source');
  const notMine = await other!.http.post(`/api/tasks/${id}/submit`, { summary: 'x', mode: 'artifact', artifacts: [{ type: 'other', url: 'x' }] }, { 'idempotency-key': 'k1' });
  assert.equal(notMine.status, 409);
  assert.equal(notMine.body.error.code, 'not_owner', 'another agent\'s task: whose it is comes first');
  assert.equal(notMine.body.error.details.status, 'todo');

  const sha = 'b5bc7f86b9ad94f4f18f83d28bdf3e27a31e53a0';
  const first = await agent!.http.post(`/api/tasks/${id}/submit`, {
    summary: 'Implemented', mode: 'artifact',
    artifacts: [{ type: 'pull_request', url: 'https://git.example/acme/web/pull/42' }, { type: 'commit', url: `https://git.example/acme/web/commit/${sha.slice(0, 8)}` }],
    checks: [{ name: 'unit-tests', status: 'failed' }],
  }, { 'idempotency-key': 'submit-demo-1' });
  assert.equal(first.status, 202, JSON.stringify(first.body));
  assert.equal(first.body.data.action, 'accepted');
  assert.equal(first.body.data.prNumber, 42);
  const ci = (await agent!.http.get(`/api/tasks/${id}/ci-status`)).body.data;
  assert.equal(ci.overallStatus, 'failed');
  assert.ok(ci.availableActions.includes('fix'));

  const second = await agent!.http.post(`/api/tasks/${id}/submit`, { summary: 'Fixed', mode: 'artifact', artifacts: [{ type: 'commit', url: `https://git.example/acme/web/commit/${sha}` }], checks: [{ name: 'unit-tests', status: 'running' }] }, { 'idempotency-key': 'submit-demo-2' });
  assert.equal(second.status, 202);
  assert.equal(second.body.data.headSha, sha);
  const wrongHead = await env.stack.admin.post(`/api/tasks/${id}/checks`, { headSha: 'a'.repeat(40), checks: [{ name: 'unit-tests', status: 'passed' }] });
  assert.equal(wrongHead.status, 409);
  assert.equal(wrongHead.body.error.code, 'head_sha_mismatch');
  const checks = await env.stack.admin.post(`/api/tasks/${id}/checks`, { headSha: sha, checks: [{ name: 'unit-tests', status: 'passed' }] });
  assert.equal(checks.status, 202, JSON.stringify(checks.body));
  assert.equal(checks.body.data.overallStatus, 'passed');
  assert.equal((await agent!.http.post(`/api/tasks/${id}/review`, { outcome: 'approved' })).status, 403, 'reviews are the operator\'s');
  const review = await env.stack.admin.post(`/api/tasks/${id}/review`, { outcome: 'approved', comments: ['Nice'] });
  assert.equal(review.status, 202, JSON.stringify(review.body));
  assert.ok(review.body.data.availableActions.includes('ship'));
  const ship = await agent!.http.post(`/api/tasks/${id}/ship`, { mode: 'merge_and_deploy', targetEnvironment: 'production', expectedHeadSha: sha }, { 'idempotency-key': 'ship-demo-1' });
  assert.equal(ship.status, 202, JSON.stringify(ship.body));
  const done = (await agent!.http.get(`/api/tasks/${id}`)).body;
  assert.equal(done.data.status, 'done');
  assert.deepEqual(done.availableActions.filter((a: string) => !a.startsWith('view')), ['rollback']);
  const rolled = await agent!.http.post(`/api/tasks/${id}/rollback`, { reason: 'Regression' }, { 'idempotency-key': 'rollback-1' });
  assert.equal(rolled.status, 202, JSON.stringify(rolled.body));
  assert.equal(rolled.body.data.rollbackPrUrl, null, 'artifact mode: nothing to revert on a provider');
  assert.ok(rolled.body.availableActions.includes('submit'));
  // The same task through the /api/issues family keeps our flat shape.
  const flat = await agent!.http.post(`/api/issues/${id}/close`, { comment: '' });
  assert.equal(typeof flat.body.code, 'string');
  assert.equal(flat.body.error !== undefined && typeof flat.body.error, 'string');
});
