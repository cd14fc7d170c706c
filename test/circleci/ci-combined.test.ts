/**
 * Issue 14 §3–§4 end to end: CircleCI beside GitHub's checks on one repository (both combined, either
 * red blocks ship), CircleCI's signed webhooks as the fast path (the poll as the fallback), its rate
 * limit and outages, and its status table as the task sees it. GitHub-born tasks on repositories that
 * name their CI systems (`ci`); the flaky re-runs are in flaky.test.ts.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { assertHonest as githubHonest } from '../github/support.js';
import { ciRepos } from '../support/ci-repos.js';
import { waitForTask } from '../support/delivery.js';
import { stackWithAllFakes } from '../support/linear-delivery.js';
import { POLL_MIN_MS } from '../../workflows/task/delivery.js';

const env = stackWithAllFakes();
const { wire, inReview, inReviewOn, waitForCi, waitForWake, activityAttempts } = ciRepos(env);

// First in the file: no other task's watcher is reading CircleCI, so the injected answers land on this one's.
test('CircleCI rate limit (429, Retry-After 1) is waited out inside the activity; a CircleCI outage (500s) is retried by the workflow and the task ships', async () => {
  const r = await wire({ ci: ['circleci'] });
  const cc = env.circleci.fake;
  const sha0 = await env.github.fake.pushCommit(r.owner, r.repo, 'limits', { 'src/app.txt': 'v1.5\n' });
  const p1 = await cc.createPipeline({ projectSlug: r.projectSlug, branch: 'limits', revision: sha0, workflows: [{ name: 'build', jobs: [{ name: 'unit', status: 'running' }] }] });
  const t = await inReviewOn(r, 'limits', sha0);
  await waitForCi(r, t.id, 'CircleCI running on the head', (ci) => ci.overallStatus === 'running');

  const mark = cc.requests.length;
  cc.inject({ status: 429, times: 2, retryAfter: 1 });
  await cc.setJob(r.projectSlug, p1.number, 'build', 'unit', { status: 'failed' });
  const failed = await waitForCi(r, t.id, 'CircleCI red, read through the rate limit', (ci) => ci.overallStatus === 'failed');
  assert.deepEqual(failed.checks.map((c: any) => [c.provider, c.name, c.status]), [['circleci', 'unit', 'failed']]);
  const seen = cc.requests.slice(mark);
  const limited = seen.filter((q) => q.status === 429);
  assert.equal(limited.length, 2, 'both 429s were served');
  const after = seen[seen.indexOf(limited.at(-1)!) + 1];
  assert.ok(after && after.at - limited[0]!.at >= 900, `the next call waited for Retry-After (${after ? after.at - limited[0]!.at : 'none'} ms)`);
  assert.ok((await activityAttempts(t.id, 'observePullRequest')).every((a) => a === 1), 'no observation failed for the rate limit: it was waited out inside the activity');
  await waitForWake(r, t.id, 'ci_failed');

  // An outage: CircleCI answers 500 twice; the observation fails and is retried, the task stays in hand.
  const sha1 = await env.github.fake.pushCommit(r.owner, r.repo, 'limits', { 'src/app.txt': 'v2\n' });
  await cc.createPipeline({ projectSlug: r.projectSlug, branch: 'limits', revision: sha1, workflows: [{ name: 'build', jobs: [{ name: 'unit', status: 'success' }] }] });
  const mark2 = cc.requests.length;
  cc.inject({ status: 500, times: 2 });
  const again = await r.agent.http.post(`/api/tasks/${t.id}/submit`, { summary: 'Fixed', pullRequest: { head: 'limits' } }, { 'idempotency-key': `submit2-${t.id}` });
  assert.equal(again.status, 202, JSON.stringify(again.body));
  const ready = await waitForTask(r.agent, t.id, 'ship offered on the new head after the outage', (d) => d.headSha === sha1 && d.availableActions.includes('ship'), 40_000);
  assert.equal(ready.ci.overallStatus, 'passed');
  assert.equal(cc.requests.slice(mark2).filter((q) => q.status === 500).length, 2, 'both 500s were served');
  assert.ok((await activityAttempts(t.id, 'observePullRequest')).some((a) => a > 1), 'an observation was retried after the outage');
  const shipped = await r.agent.http.post(`/api/tasks/${t.id}/ship`, { expectedHeadSha: sha1 }, { 'idempotency-key': `ship-${t.id}` });
  assert.equal(shipped.status, 202, JSON.stringify(shipped.body));
  assert.deepEqual(cc.violations, []);
});

test('both CI systems on one repository: either red is not shippable (409), ci-status shows each check with its provider; an older head says nothing', async () => {
  const r = await wire({ ci: ['github_actions', 'circleci'] });
  const gh = env.github.fake;
  const cc = env.circleci.fake;
  const t = await inReview(r, 'both');

  // GitHub green, CircleCI red.
  await gh.setCheckRun(r.owner, r.repo, { sha: t.sha, name: 'gh-unit', status: 'completed', conclusion: 'success' });
  await cc.createPipeline({ projectSlug: r.projectSlug, branch: 'both', revision: t.sha, workflows: [{ name: 'build', jobs: [{ name: 'cc-lint', status: 'success' }, { name: 'cc-unit', status: 'failed' }] }] });
  const red = await waitForCi(r, t.id, 'GitHub green + CircleCI red', (ci) => ci.overallStatus === 'failed' && ci.checks.length === 3);
  const rows = (ci: any) => ci.checks.map((c: any) => [c.provider, c.workflow, c.name, c.status]).sort();
  assert.deepEqual(rows(red), [['circleci', 'build', 'cc-lint', 'passed'], ['circleci', 'build', 'cc-unit', 'failed'], ['github_actions', 'github-actions', 'gh-unit', 'passed']]);
  const groups = (ci: any) => ci.workflows.map((w: any) => [w.provider, w.name, w.status, w.total, w.passed, w.failed]).sort();
  assert.deepEqual(groups(red), [['circleci', 'build', 'failed', 2, 1, 1], ['github_actions', 'github-actions', 'passed', 1, 1, 0]]);
  assert.deepEqual(red.failureSummaries.map((f: any) => f.checkName), ['cc-unit']);
  assert.ok(!red.availableActions.includes('ship'));
  const refused = await r.agent.http.post(`/api/tasks/${t.id}/ship`, { expectedHeadSha: t.sha }, { 'idempotency-key': `ship-red-${t.id}` });
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.equal(refused.body.error.code, 'not_shippable');
  assert.equal(gh.repo(r.owner, r.repo).pulls.get(t.prNumber)!.merged, false);

  // CircleCI green too (a new pipeline on the same head): ship offered.
  await cc.createPipeline({ projectSlug: r.projectSlug, branch: 'both', revision: t.sha, workflows: [{ name: 'build', jobs: [{ name: 'cc-lint', status: 'success' }, { name: 'cc-unit', status: 'success' }] }] });
  const green = await waitForTask(r.agent, t.id, 'both green → ship', (d) => d.availableActions.includes('ship'));
  assert.equal(green.ci.overallStatus, 'passed');

  // The reverse on a new head: CircleCI green, GitHub red.
  const sha2 = await gh.pushCommit(r.owner, r.repo, 'both', { 'src/app.txt': 'v3\n' });
  await waitForTask(r.agent, t.id, 'the watcher on the new head', (d) => d.headSha === sha2);
  await cc.createPipeline({ projectSlug: r.projectSlug, branch: 'both', revision: sha2, workflows: [{ name: 'build', jobs: [{ name: 'cc-lint', status: 'success' }, { name: 'cc-unit', status: 'success' }] }] });
  await gh.setCheckRun(r.owner, r.repo, { sha: sha2, name: 'gh-unit', status: 'completed', conclusion: 'failure' });
  const red2 = await waitForCi(r, t.id, 'CircleCI green + GitHub red', (ci) => ci.headSha === sha2 && ci.overallStatus === 'failed' && ci.checks.length === 3);
  assert.deepEqual(rows(red2), [['circleci', 'build', 'cc-lint', 'passed'], ['circleci', 'build', 'cc-unit', 'passed'], ['github_actions', 'github-actions', 'gh-unit', 'failed']]);
  assert.deepEqual(groups(red2), [['circleci', 'build', 'passed', 2, 2, 0], ['github_actions', 'github-actions', 'failed', 1, 0, 1]]);
  assert.ok(!red2.availableActions.includes('ship'));
  const refused2 = await r.agent.http.post(`/api/tasks/${t.id}/ship`, { expectedHeadSha: sha2 }, { 'idempotency-key': `ship-red2-${t.id}` });
  assert.equal(refused2.status, 409, JSON.stringify(refused2.body));
  assert.equal(refused2.body.error.code, 'not_shippable');

  await gh.setCheckRun(r.owner, r.repo, { sha: sha2, name: 'gh-unit', status: 'completed', conclusion: 'success' });
  await waitForTask(r.agent, t.id, 'both green on the new head → ship', (d) => d.headSha === sha2 && d.availableActions.includes('ship'));

  // Red on the older head, from both systems: nothing changes for the current one. A later check on
  // the current head shows the task has looked again since.
  await gh.setCheckRun(r.owner, r.repo, { sha: t.sha, name: 'gh-unit', status: 'completed', conclusion: 'failure' });
  await cc.createPipeline({ projectSlug: r.projectSlug, branch: 'both', revision: t.sha, workflows: [{ name: 'build', jobs: [{ name: 'cc-unit', status: 'failed' }] }] });
  await gh.setCheckRun(r.owner, r.repo, { sha: sha2, name: 'gh-lint', status: 'completed', conclusion: 'success' });
  const after = await waitForCi(r, t.id, 'the later check on the current head', (ci) => ci.checks.some((c: any) => c.name === 'gh-lint'));
  assert.equal(after.headSha, sha2);
  assert.equal(after.overallStatus, 'passed');
  assert.deepEqual(rows(after), [['circleci', 'build', 'cc-lint', 'passed'], ['circleci', 'build', 'cc-unit', 'passed'], ['github_actions', 'github-actions', 'gh-lint', 'passed'], ['github_actions', 'github-actions', 'gh-unit', 'passed']]);
  assert.ok(after.availableActions.includes('ship'));

  const shipped = await r.agent.http.post(`/api/tasks/${t.id}/ship`, { expectedHeadSha: sha2 }, { 'idempotency-key': `ship-${t.id}` });
  assert.equal(shipped.status, 202, JSON.stringify(shipped.body));
  assert.equal(gh.repo(r.owner, r.repo).pulls.get(t.prNumber)!.merged, true);
  assert.deepEqual(cc.violations, []);
  githubHonest(env.github);
});

test('CircleCI webhooks: forged or unsigned → 401 and nothing recorded; a replay is a duplicate; another project is ignored; a signed workflow-completed is read at once (the poll is the fallback)', async (ctx) => {
  const cc = env.circleci.fake;
  const r = await wire({ ci: ['circleci'] });
  const sha = await env.github.fake.pushCommit(r.owner, r.repo, 'hooks', { 'src/app.txt': 'hooks\n' });
  const p = await cc.createPipeline({ projectSlug: r.projectSlug, branch: 'hooks', revision: sha, workflows: [{ name: 'build', jobs: [{ name: 'unit', status: 'running' }] }] });
  const t = await inReviewOn(r, 'hooks', sha);
  await waitForCi(r, t.id, 'CircleCI running (the observation after submit)', (c) => c.overallStatus === 'running');
  const hookedAt = Date.now();
  await cc.setJob(r.projectSlug, p.number, 'build', 'unit', { status: 'failed' });
  await waitForCi(r, t.id, 'CircleCI red, from the webhook', (c) => c.overallStatus === 'failed');
  const seenAt = Date.now();
  const mine = cc.hooks.deliveries.filter((d) => d.url === r.hookUrl);
  assert.deepEqual(mine.map((d) => [d.type, d.status]).sort(), [['job-completed', 202], ['workflow-completed', 202]]);
  // The watcher's next poll is at least POLL_MIN_MS after its last look, which was after the submit:
  // seen before that, the task read CI because the webhook told it to.
  assert.ok(seenAt - t.submittedAt < POLL_MIN_MS, `read ${seenAt - hookedAt} ms after the webhook, ${seenAt - t.submittedAt} ms after the submit (poll: ${POLL_MIN_MS} ms)`);
  ctx.diagnostic(`webhook: CI read ${seenAt - hookedAt} ms after the webhook, ${seenAt - t.submittedAt} ms after the submit`);

  // Hostile deliveries against the same route, with a real event's bytes.
  const [eventId, event] = [...cc.hooks.events.entries()].find(([, e]) => e.sub.url === r.hookUrl && e.type === 'workflow-completed')!;
  const post = (body: string, headers: Record<string, string>) => fetch(r.hookUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const sign = (secret: string, body: string) => `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const recorded = async (id: string) => (await env.stack.pool.query('SELECT 1 FROM webhook_deliveries WHERE source_id = $1 AND delivery_id = $2', [r.sourceId, `circleci:${id}`])).rowCount;
  const fresh = (mutate: (p: any) => void = () => {}) => {
    const payload = JSON.parse(event.body);
    payload.id = randomUUID();
    mutate(payload);
    return { id: payload.id as string, body: JSON.stringify(payload) };
  };

  const forged = fresh();
  const f = await post(forged.body, { 'circleci-signature': sign(`cci_wh_${randomBytes(16).toString('hex')}`, forged.body) });
  assert.equal(f.status, 401);
  assert.equal((await f.json()).code, 'webhook_signature_invalid');
  assert.equal(await recorded(forged.id), 0, 'a forged delivery is not recorded');
  const unsigned = fresh();
  const u = await post(unsigned.body, {});
  assert.equal(u.status, 401);
  assert.equal(await recorded(unsigned.id), 0, 'an unsigned delivery is not recorded');
  const tampered = fresh();
  const tm = await post(tampered.body.replace('"failed"', '"success"'), { 'circleci-signature': sign(r.circleWebhook, tampered.body) });
  assert.equal(tm.status, 401, 'the signature covers the exact bytes');

  assert.equal(await recorded(eventId), 1);
  assert.equal(await cc.redeliver(eventId), 200, 'CircleCI redelivering the same event');
  const replay = await post(event.body, { 'circleci-signature': sign(r.circleWebhook, event.body) });
  assert.equal(replay.status, 200);
  assert.equal((await replay.json()).duplicate, true);

  const other = fresh((p) => {
    p.project.slug = `gh/someone-else/${r.repo}`;
  });
  const o = await post(other.body, { 'circleci-signature': sign(r.circleWebhook, other.body) });
  assert.equal(o.status, 202);
  assert.equal((await o.json()).ignored, 'other_project');

  // The control: the same repository shape with CircleCI's webhooks off reads CI only when the watcher polls.
  const quiet = await wire({ ci: ['circleci'], circleHooks: false });
  const qsha = await env.github.fake.pushCommit(quiet.owner, quiet.repo, 'hooks', { 'src/app.txt': 'quiet\n' });
  const qp = await cc.createPipeline({ projectSlug: quiet.projectSlug, branch: 'hooks', revision: qsha, workflows: [{ name: 'build', jobs: [{ name: 'unit', status: 'running' }] }] });
  const qt = await inReviewOn(quiet, 'hooks', qsha);
  await waitForCi(quiet, qt.id, 'CircleCI running (control)', (c) => c.overallStatus === 'running');
  await cc.setJob(quiet.projectSlug, qp.number, 'build', 'unit', { status: 'failed' });
  await waitForCi(quiet, qt.id, 'CircleCI red, by polling', (c) => c.overallStatus === 'failed', 40_000);
  const polledAt = Date.now();
  assert.ok(polledAt - qt.submittedAt >= POLL_MIN_MS, `without the webhook, red was read only by the poll (${polledAt - qt.submittedAt} ms after the submit)`);
  ctx.diagnostic(`no webhook: CI read ${polledAt - qt.submittedAt} ms after the submit`);
  assert.deepEqual(cc.violations, []);
});

test('the CircleCI status table as ci-status shows it; an unknown status is never passed and blocks ship', async () => {
  const cc = env.circleci.fake;
  const r = await wire({ ci: ['circleci'] });
  const t = await inReview(r, 'table');
  // README "CI status tables" (domain/ci.ts circleciStatus).
  const table: Record<string, string> = {
    failed: 'failed', error: 'failed', infrastructure_fail: 'failed', timedout: 'failed', canceled: 'cancelled', not_run: 'queued',
    on_hold: 'queued', blocked: 'queued', running: 'running', failing: 'running', queued: 'queued', unauthorized: 'failed', 'brand-new-status': 'failed',
    success: 'passed',
  };
  // Served on purpose beyond CircleCI's published job enum.
  for (const s of ['error', 'failing', 'brand-new-status']) cc.offSpecStatuses.add(s);
  // `success` last: its job-completed webhook comes after every other job has its status.
  await cc.createPipeline({ projectSlug: r.projectSlug, branch: 'table', revision: t.sha, workflows: [{ name: 'matrix', jobs: Object.keys(table).map((status) => ({ name: `job-${status}`, status })) }] });
  const ci = await waitForCi(r, t.id, 'every job of the matrix', (c) => c.checks.length === Object.keys(table).length && c.checks.find((x: any) => x.name === 'job-success')?.status === 'passed');
  for (const [status, ours] of Object.entries(table)) assert.equal(ci.checks.find((c: any) => c.name === `job-${status}`).status, ours, status);
  assert.equal(ci.overallStatus, 'failed');

  // A pipeline whose only red is a status nobody knows: not shippable.
  await cc.createPipeline({ projectSlug: r.projectSlug, branch: 'table', revision: t.sha, workflows: [{ name: 'build', jobs: [{ name: 'mystery', status: 'brand-new-status' }, { name: 'lint', status: 'success' }] }] });
  const unknown = await waitForCi(r, t.id, 'the unknown status read', (c) => c.checks.length === 2 && c.checks.some((x: any) => x.name === 'lint' && x.status === 'passed'));
  assert.equal(unknown.checks.find((c: any) => c.name === 'mystery').status, 'failed');
  assert.equal(unknown.overallStatus, 'failed');
  assert.ok(!unknown.availableActions.includes('ship'));
  const refused = await r.agent.http.post(`/api/tasks/${t.id}/ship`, { expectedHeadSha: t.sha }, { 'idempotency-key': `ship-unknown-${t.id}` });
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.equal(refused.body.error.code, 'not_shippable');

  // The same jobs green: ship offered (it was the unknown status that held it).
  await cc.createPipeline({ projectSlug: r.projectSlug, branch: 'table', revision: t.sha, workflows: [{ name: 'build', jobs: [{ name: 'mystery', status: 'success' }, { name: 'lint', status: 'success' }] }] });
  await waitForTask(r.agent, t.id, 'all green → ship', (d) => d.availableActions.includes('ship'));
  assert.deepEqual(cc.violations, []);
});
