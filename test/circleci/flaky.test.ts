/**
 * Issue 14 §3–§4 end to end: flaky failures classified and re-run once through the provider (CircleCI
 * or GitHub Actions) before any `ci_failed` wake, the flaky policy, and failures nothing can re-run.
 * GitHub-born tasks on repositories that name their CI systems (`ci`) and flaky policy (`flaky`); CI
 * combined across systems, CircleCI's webhooks and its status table are in ci-combined.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeError } from '../fakes/circleci/fake.js';
import { assertHonest as githubHonest } from '../github/support.js';
import { ciRepos, type Repo } from '../support/ci-repos.js';
import { waitForTask } from '../support/delivery.js';
import { stackWithAllFakes, until } from '../support/linear-delivery.js';
import { waitFor } from '../support/wait.js';

const env = stackWithAllFakes();
const { wire, inReview, ciStatus, waitForCi, wakes, waitForWake, flippedOnTwoHeads, hold, circleReruns, githubReruns, assertRerunPending } = ciRepos(env);

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
