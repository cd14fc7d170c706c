/**
 * Issue 14 §3–§4 end to end: CircleCI beside GitHub's checks on one repository (both combined, either
 * red blocks ship), flaky failures classified and re-run once through the provider before any
 * `ci_failed` wake, CircleCI's signed webhooks as the fast path (the poll as the fallback), its rate
 * limit and outages, and its status table as the task sees it. GitHub-born tasks on repositories
 * that name their CI systems (`ci`) and flaky policy (`flaky`).
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { FakeError } from '../fakes/circleci/fake.js';
import { assertHonest as githubHonest } from '../github/support.js';
import { waitForMine, waitForTask } from '../support/delivery.js';
import { stackWithAllFakes, until } from '../support/linear-delivery.js';
import { seedCompany, type SeededAgent } from '../support/seed.js';
import { waitFor } from '../support/wait.js';
import { POLL_MIN_MS } from '../../workflows/task/delivery.js';
import { workflowIdFor } from '../../workflows/messages.js';

const env = stackWithAllFakes();

type Provider = 'github_actions' | 'circleci';

interface Repo {
  agent: SeededAgent;
  owner: string;
  repo: string;
  sourceId: string;
  projectSlug: string;
  circleWebhook: string;
  hookUrl: string;
}

/** A company whose repository is judged by `ci` (unset: GitHub's checks alone, as before issue 14), its issues routed to one agent. */
async function wire(opts: { ci?: Provider[]; flaky?: { rerunOnce?: boolean; rerunAt?: 'high' | 'medium' }; circleHooks?: boolean } = {}): Promise<Repo> {
  const { stack } = env;
  const { companyId, agents } = await seedCompany(stack, 1);
  const suffix = randomBytes(3).toString('hex');
  const owner = `org${suffix}`;
  const repo = 'widgets';
  const projectSlug = `gh/${owner}/${repo}`;
  await env.github.fake.createRepo(owner, repo, { 'README.md': '# widgets\n', 'src/app.txt': 'v1\n' });
  const githubToken = `ghp_${randomBytes(16).toString('hex')}`;
  const githubWebhook = `whsec_${randomBytes(16).toString('hex')}`;
  const circleToken = `CCIPAT_${randomBytes(16).toString('hex')}`;
  const circleWebhook = `cci_wh_${randomBytes(16).toString('hex')}`;
  env.circleci.fake.addToken(circleToken);
  const routing = await stack.admin.request('PUT', `/api/companies/${companyId}/routing`, { rules: [{ id: 'all', name: 'Everything to the agent', match: {}, target: { agentId: agents[0]!.id } }] });
  assert.equal(routing.status, 200, JSON.stringify(routing.body));
  const circle = opts.ci?.includes('circleci');
  const source = await stack.admin.post(`/api/companies/${companyId}/sources`, {
    provider: 'github', owner, repo, baseUrl: env.github.url, credential: { token: githubToken }, webhookSecret: githubWebhook, pollIntervalSeconds: null, reviewPolicy: 'never_require',
    ...(opts.ci ? { ci: { providers: opts.ci, ...(circle ? { circleci: { projectSlug, token: circleToken, webhookSecret: circleWebhook, baseUrl: env.circleci.apiUrl } } : {}) } } : {}),
    ...(opts.flaky ? { flaky: opts.flaky } : {}),
  });
  assert.equal(source.status, 201, JSON.stringify(source.body));
  const sourceId = source.body.id as string;
  env.github.fake.hooks.subscribe(`${stack.url}/api/providers/github/webhooks/${sourceId}`, githubWebhook);
  const hookUrl = `${stack.url}/api/providers/circleci/webhooks/${sourceId}`;
  if (circle && opts.circleHooks !== false) env.circleci.fake.subscribe({ url: hookUrl, secret: circleWebhook, projectSlug });
  return { agent: agents[0]!, owner, repo, sourceId, projectSlug, circleWebhook, hookUrl };
}

/** An issue taken in, started, a commit pushed to `branch` and submitted: the task in review on that head. */
async function inReview(r: Repo, branch = 'fix'): Promise<{ id: string; sha: string; prNumber: number; submittedAt: number }> {
  await env.github.fake.openIssue(r.owner, r.repo, { title: `Broken on ${branch}`, body: 'It fails.', labels: ['bug'] });
  const { id } = await waitForMine(r.agent);
  const started = await r.agent.http.post(`/api/tasks/${id}/start`, {}, { 'idempotency-key': `start-${id}` });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const sha = await env.github.fake.pushCommit(r.owner, r.repo, branch, { 'src/app.txt': `v2 ${randomBytes(4).toString('hex')}\n` });
  const submittedAt = Date.now();
  const submitted = await r.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'Fix it', pullRequest: { head: branch } }, { 'idempotency-key': `submit-${id}` });
  assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
  assert.equal(submitted.body.data.headSha, sha);
  return { id, sha, prNumber: submitted.body.data.prNumber, submittedAt };
}

const ciStatus = async (r: Repo, id: string) => {
  const res = await r.agent.http.get(`/api/tasks/${id}/ci-status`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data;
};
const waitForCi = (r: Repo, id: string, what: string, ok: (ci: any) => boolean, timeoutMs = 20_000) => waitFor(what, () => ciStatus(r, id), ok, timeoutMs);
const wakes = async (r: Repo, id: string, reason?: string): Promise<any[]> =>
  ((await r.agent.http.get('/api/agents/me/wakeups?limit=100')).body.data as any[]).filter((w) => w.taskId === id && (!reason || w.reason === reason));
const waitForWake = (r: Repo, id: string, reason: string) => waitFor(`a ${reason} wake`, () => wakes(r, id, reason), (w) => w.length > 0);

/**
 * What the watcher records (activities/flaky.ts) when it sees a check pass and fail on unchanged code:
 * `check` passed and failed on two earlier heads of this repository two days ago. Written directly
 * instead of driving two more tasks to that point; the medium test below records its history for real.
 */
async function flippedOnTwoHeads(r: Repo, check: string, provider: Provider): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const head = randomBytes(20).toString('hex');
    for (const outcome of ['passed', 'failed']) {
      await env.stack.pool.query(
        `INSERT INTO ci_check_results (source_id, provider, check_name, head_sha, outcome, observed_at) VALUES ($1, $2, $3, $4, $5, now() - interval '2 days')`,
        [r.sourceId, provider, check, head, outcome],
      );
    }
  }
}

/** Holds every call of `obj[key]` until released (a provider taking its time over a re-run), counting them. */
function hold<T extends object>(obj: T, key: keyof T & string) {
  const original = (obj as any)[key] as (...args: unknown[]) => Promise<unknown>;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const calls: unknown[][] = [];
  (obj as any)[key] = async (...args: unknown[]) => {
    calls.push(args);
    await opened;
    return original.apply(obj, args);
  };
  return {
    calls,
    release() {
      open();
      (obj as any)[key] = original;
    },
  };
}

/** CircleCI re-runs of this project's workflows. */
const circleReruns = (r: Repo) => env.circleci.fake.reruns.filter((x) => env.circleci.fake.workflowById(x.workflowId)?.pipeline.project.slug === r.projectSlug);
const githubReruns = (r: Repo) => env.github.fake.reruns.filter((x) => x.owner === r.owner && x.repo === r.repo);

/** Each activity of the task's history by name, with the attempt it finished on. */
async function activityAttempts(taskId: string, name: string): Promise<number[]> {
  const events = (await env.stack.client.workflow.getHandle(workflowIdFor(taskId)).fetchHistory()).events ?? [];
  const scheduled = new Map<string, string>();
  const attempts: number[] = [];
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes) scheduled.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '');
    const started = e.activityTaskStartedEventAttributes;
    if (started && scheduled.get(String(started.scheduledEventId)) === name) attempts.push(started.attempt ?? 1);
  }
  return attempts;
}

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

/** As inReview, on a head pushed already (its pipeline created before the submit). */
async function inReviewOn(r: Repo, branch: string, sha: string): Promise<{ id: string; submittedAt: number }> {
  await env.github.fake.openIssue(r.owner, r.repo, { title: `Broken on ${branch}`, body: 'It fails.', labels: ['bug'] });
  const { id } = await waitForMine(r.agent);
  const started = await r.agent.http.post(`/api/tasks/${id}/start`, {}, { 'idempotency-key': `start-${id}` });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const submittedAt = Date.now();
  const submitted = await r.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'Fix it', pullRequest: { head: branch } }, { 'idempotency-key': `submit-${id}` });
  assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
  assert.equal(submitted.body.data.headSha, sha);
  return { id, submittedAt };
}

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

/** The pre-wake view while the provider holds the re-run: hinted, re-run asked for, nobody woken yet. */
async function assertRerunPending(r: Repo, id: string, sha: string, check: string) {
  const ci = await waitForCi(r, id, 'the failure classified and the re-run recorded', (c) => c.overallStatus === 'failed' && c.automaticRerun !== null);
  assert.deepEqual(ci.flakyHints.map((h: any) => [h.checkName, h.confidence]), [[check, 'high']]);
  assert.match(ci.flakyHints[0].reason, /flipped between pass and fail on unchanged code on 2 heads/);
  assert.equal(ci.automaticRerun.headSha, sha);
  assert.deepEqual(ci.automaticRerun.checks, [check]);
  assert.match(ci.automaticRerun.reason, new RegExp(`${check}: flipped .* \\(high\\)`));
  assert.deepEqual(await wakes(r, id, 'ci_failed'), [], 'no ci_failed wake before the re-run');
}

test('CircleCI: a failure classified high is re-run once (from_failed) before any wake; the re-run passes → never a ci_failed wake', async () => {
  const r = await wire({ ci: ['circleci'] });
  const cc = env.circleci.fake;
  await flippedOnTwoHeads(r, 'unit', 'circleci');
  const t = await inReview(r, 'flaky-pass');
  cc.rerunOutcome = 'success';
  const held = hold(cc, 'rerun');
  try {
    await cc.createPipeline({ projectSlug: r.projectSlug, branch: 'flaky-pass', revision: t.sha, workflows: [{ name: 'build', jobs: [{ name: 'lint', status: 'success' }, { name: 'unit', status: 'failed' }] }] });
    await until(() => held.calls.length > 0, 'the re-run asked of CircleCI');
    await assertRerunPending(r, t.id, t.sha, 'unit');
  } finally {
    held.release();
  }
  const ready = await waitForTask(r.agent, t.id, 'the re-run passed → ship', (d) => d.availableActions.includes('ship'));
  assert.equal(ready.ci.overallStatus, 'passed');
  assert.deepEqual(circleReruns(r).map((x) => [x.fromFailed, x.jobs]), [[true, ['unit']]], 'one re-run, from failed, of the failed job');
  const ci = await ciStatus(r, t.id);
  assert.equal(ci.checks.find((c: any) => c.name === 'unit').attempt, 2);
  assert.equal(ci.automaticRerun.headSha, t.sha);
  assert.deepEqual(ci.flakyHints, [], 'nothing failing, nothing hinted');
  await waitForWake(r, t.id, 'ready_to_ship');
  assert.deepEqual(await wakes(r, t.id, 'ci_failed'), [], 'never woken for the flaky failure');
  assert.deepEqual(cc.violations, []);
});

test('CircleCI: the re-run fails again → exactly one ci_failed wake saying what was re-run and why; never a second automatic re-run on that head', async () => {
  const r = await wire({ ci: ['circleci'] });
  const cc = env.circleci.fake;
  await flippedOnTwoHeads(r, 'unit', 'circleci');
  const t = await inReview(r, 'flaky-fail');
  cc.rerunOutcome = 'failed';
  const held = hold(cc, 'rerun');
  try {
    await cc.createPipeline({ projectSlug: r.projectSlug, branch: 'flaky-fail', revision: t.sha, workflows: [{ name: 'build', jobs: [{ name: 'lint', status: 'success' }, { name: 'unit', status: 'failed' }] }] });
    await until(() => held.calls.length > 0, 'the re-run asked of CircleCI');
    await assertRerunPending(r, t.id, t.sha, 'unit');
  } finally {
    held.release();
  }
  await until(() => circleReruns(r).length === 1, 'the re-run made');
  cc.rerunOutcome = 'success';
  const [wake] = await waitForWake(r, t.id, 'ci_failed');
  assert.match(wake.summary, /re-ran unit once automatically because unit: flipped between pass and fail on unchanged code on 2 heads .*\(high\); it failed again/);
  const ci = await ciStatus(r, t.id);
  assert.equal(ci.overallStatus, 'failed');
  assert.equal(ci.checks.find((c: any) => c.name === 'unit').attempt, 2);
  assert.deepEqual(ci.flakyHints.map((h: any) => [h.checkName, h.confidence]), [['unit', 'high']], 'still hinted: the agent decides now');
  assert.ok(ci.availableActions.includes('fix'));

  // The same head fails once more (another pipeline): the agent hears of it directly, nothing is re-run again.
  const p2 = await cc.createPipeline({ projectSlug: r.projectSlug, branch: 'flaky-fail', revision: t.sha, workflows: [{ name: 'build', jobs: [{ name: 'unit', status: 'running' }] }] });
  await waitForCi(r, t.id, 'the new pipeline running', (c) => c.overallStatus === 'running');
  assert.equal((await wakes(r, t.id, 'ci_failed')).length, 1, 'exactly one ci_failed wake for the re-run that failed');
  await cc.setJob(r.projectSlug, p2.number, 'build', 'unit', { status: 'failed' });
  await waitFor('the second failure\'s wake', () => wakes(r, t.id, 'ci_failed'), (w) => w.length === 2);
  assert.equal(circleReruns(r).length, 1, 'never a second automatic re-run on this head');
  assert.deepEqual(cc.violations, []);
});

test('GitHub Actions (a repository without `ci`): a high failure is re-run once as a job before any wake; passes → no ci_failed; fails again → one wake', async () => {
  const gh = env.github.fake;
  // Passes on the re-run.
  const r = await wire();
  await flippedOnTwoHeads(r, 'unit-tests', 'github_actions');
  const t = await inReview(r, 'gh-flaky');
  gh.rerunOutcome = 'success';
  let held = hold(gh, 'rerunJob');
  try {
    await gh.setCheckRun(r.owner, r.repo, { sha: t.sha, name: 'unit-tests', status: 'completed', conclusion: 'failure' });
    await until(() => held.calls.length > 0, 'the job re-run asked of GitHub');
    await assertRerunPending(r, t.id, t.sha, 'unit-tests');
  } finally {
    held.release();
  }
  await waitForTask(r.agent, t.id, 'the re-run passed → ship', (d) => d.availableActions.includes('ship'));
  assert.deepEqual(githubReruns(r).map((x) => [x.name, x.sha]), [['unit-tests', t.sha]]);
  await waitForWake(r, t.id, 'ready_to_ship');
  assert.deepEqual(await wakes(r, t.id, 'ci_failed'), []);

  // Fails again on the re-run.
  const r2 = await wire();
  await flippedOnTwoHeads(r2, 'unit-tests', 'github_actions');
  const t2 = await inReview(r2, 'gh-flaky-2');
  gh.rerunOutcome = 'failure';
  held = hold(gh, 'rerunJob');
  try {
    await gh.setCheckRun(r2.owner, r2.repo, { sha: t2.sha, name: 'unit-tests', status: 'completed', conclusion: 'failure' });
    await until(() => held.calls.length > 0, 'the job re-run asked of GitHub');
    await assertRerunPending(r2, t2.id, t2.sha, 'unit-tests');
  } finally {
    held.release();
  }
  const [wake] = await waitForWake(r2, t2.id, 'ci_failed');
  assert.match(wake.summary, /re-ran unit-tests once automatically because unit-tests: flipped .*\(high\); it failed again/);
  // A later check on this head: still the one wake, and no second re-run.
  await gh.setCheckRun(r2.owner, r2.repo, { sha: t2.sha, name: 'lint', status: 'completed', conclusion: 'success' });
  await waitForCi(r2, t2.id, 'the later check seen', (c) => c.checks.some((x: any) => x.name === 'lint'));
  assert.equal((await wakes(r2, t2.id, 'ci_failed')).length, 1);
  assert.equal(githubReruns(r2).length, 1, 'never a second automatic re-run on this head');
  gh.rerunOutcome = undefined;
  githubHonest(env.github);
});

test('flaky policy: medium is hinted but not re-run by default, re-run with rerunAt medium; rerunOnce false never re-runs; a real failure beside a flaky one wakes at once', async () => {
  const cc = env.circleci.fake;
  cc.rerunOutcome = 'success';
  /** `unit` passes on the head, then fails on it in a new pipeline: `medium`, recorded by the watcher itself. */
  const passThenFail = async (r: Repo, branch: string) => {
    const t = await inReview(r, branch);
    await cc.createPipeline({ projectSlug: r.projectSlug, branch, revision: t.sha, workflows: [{ name: 'build', jobs: [{ name: 'unit', status: 'success' }] }] });
    await waitForCi(r, t.id, 'unit passed on the head', (c) => c.overallStatus === 'passed');
    await cc.createPipeline({ projectSlug: r.projectSlug, branch, revision: t.sha, workflows: [{ name: 'build', jobs: [{ name: 'unit', status: 'failed' }] }] });
    return t;
  };

  // Default policy (rerunAt high): medium is shown, the agent is woken at once.
  const r1 = await wire({ ci: ['circleci'] });
  const t1 = await passThenFail(r1, 'medium-default');
  const [w1] = await waitForWake(r1, t1.id, 'ci_failed');
  assert.doesNotMatch(w1.summary, /re-ran/);
  const ci1 = await waitForCi(r1, t1.id, 'the failure hinted', (c) => c.overallStatus === 'failed');
  assert.deepEqual(ci1.flakyHints, [{ checkName: 'unit', confidence: 'medium', reason: 'the same check passed earlier on this head SHA' }]);
  assert.equal(ci1.automaticRerun, null);
  assert.deepEqual(circleReruns(r1), []);

  // rerunAt medium: the same failure is re-run first, and passes.
  const r2 = await wire({ ci: ['circleci'], flaky: { rerunAt: 'medium' } });
  const t2 = await passThenFail(r2, 'medium-rerun');
  const ci2 = await waitForCi(r2, t2.id, 'the re-run passed → ship', (c) => c.availableActions.includes('ship') && c.checks.some((x: any) => x.attempt === 2));
  assert.deepEqual(circleReruns(r2).map((x) => x.jobs), [['unit']]);
  assert.match(ci2.automaticRerun.reason, /unit: the same check passed earlier on this head SHA \(medium\)/);
  assert.deepEqual(await wakes(r2, t2.id, 'ci_failed'), []);

  // rerunOnce false: even a high failure goes to the agent at once.
  const r3 = await wire({ ci: ['circleci'], flaky: { rerunOnce: false } });
  await flippedOnTwoHeads(r3, 'unit', 'circleci');
  const t3 = await inReview(r3, 'never-rerun');
  await cc.createPipeline({ projectSlug: r3.projectSlug, branch: 'never-rerun', revision: t3.sha, workflows: [{ name: 'build', jobs: [{ name: 'unit', status: 'failed' }] }] });
  await waitForWake(r3, t3.id, 'ci_failed');
  const ci3 = await ciStatus(r3, t3.id);
  assert.deepEqual(ci3.flakyHints.map((h: any) => [h.checkName, h.confidence]), [['unit', 'high']]);
  assert.equal(ci3.automaticRerun, null);
  assert.deepEqual(circleReruns(r3), []);

  // One failing check hinted high, another not hinted: no re-run, the agent is woken at once.
  const r4 = await wire({ ci: ['circleci'] });
  await flippedOnTwoHeads(r4, 'unit', 'circleci');
  const t4 = await inReview(r4, 'mixed');
  await cc.createPipeline({ projectSlug: r4.projectSlug, branch: 'mixed', revision: t4.sha, workflows: [{ name: 'build', jobs: [{ name: 'unit', status: 'failed' }, { name: 'lint', status: 'failed' }] }] });
  const [w4] = await waitForWake(r4, t4.id, 'ci_failed');
  assert.match(w4.summary, /unit/);
  assert.match(w4.summary, /lint/);
  const ci4 = await ciStatus(r4, t4.id);
  assert.deepEqual(ci4.flakyHints.map((h: any) => [h.checkName, h.confidence]), [['unit', 'high']]);
  assert.equal(ci4.automaticRerun, null);
  assert.deepEqual(circleReruns(r4), []);
  assert.deepEqual(cc.violations, []);
});

test('nothing to re-run (only a commit status failed) or the provider refuses the re-run: the agent is still woken with ci_failed', async () => {
  const gh = env.github.fake;
  const cc = env.circleci.fake;
  // A commit status (another CI system reporting to GitHub) cannot be re-run from here.
  const r1 = await wire();
  await flippedOnTwoHeads(r1, 'ci/legacy', 'github_actions');
  const t1 = await inReview(r1, 'status-only');
  await gh.setStatus(r1.owner, r1.repo, { sha: t1.sha, state: 'failure', context: 'ci/legacy', description: 'tests failed' });
  const [w1] = await waitForWake(r1, t1.id, 'ci_failed');
  assert.match(w1.summary, /ci\/legacy/);
  assert.deepEqual(githubReruns(r1), []);
  const ci1 = await ciStatus(r1, t1.id);
  assert.deepEqual(ci1.flakyHints.map((h: any) => [h.checkName, h.confidence]), [['ci/legacy', 'high']]);

  // CircleCI refuses the re-run (400): the failure reaches the agent.
  const r2 = await wire({ ci: ['circleci'] });
  await flippedOnTwoHeads(r2, 'unit', 'circleci');
  const t2 = await inReview(r2, 'refused');
  const original = cc.rerun;
  let asked = 0;
  cc.rerun = async () => {
    asked++;
    throw new FakeError(400, 'Workflow rerun is not allowed for this project.');
  };
  try {
    await cc.createPipeline({ projectSlug: r2.projectSlug, branch: 'refused', revision: t2.sha, workflows: [{ name: 'build', jobs: [{ name: 'unit', status: 'failed' }] }] });
    const [w2] = await waitForWake(r2, t2.id, 'ci_failed');
    assert.match(w2.summary, /unit/);
    assert.equal(asked, 1, 'the re-run was asked once, refused, not retried');
  } finally {
    cc.rerun = original;
  }
  assert.deepEqual(circleReruns(r2), []);
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
