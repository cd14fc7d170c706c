/** The provider layer through the real @octokit/rest against the fake GitHub: every function, offline. */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ciSummary, reviewFeedback } from '../../activities/github/checks.js';
import { listIssuesSince } from '../../activities/github/intake.js';
import { commentOn, mergePullRequest, revertPullRequest, submitPullRequest } from '../../activities/github/pulls.js';
import { ProviderError } from '../../activities/github/types.js';
import type { RunningFake } from '../fakes/github/server.js';
import { assertHonest, client, fakeGitHub } from './support.js';

describe('GitHub provider layer against the fake', () => {
  let gh: RunningFake;
  let n = 0;
  const newRepo = async (files?: Record<string, string>) => {
    const name = `repo-${++n}`;
    await gh.fake.createRepo('acme', name, files);
    return { owner: 'acme', repo: name };
  };

  before(async () => {
    gh = await fakeGitHub();
  });
  afterEach(() => assertHonest(gh));
  after(() => gh.close());

  it('intake: every page, pull requests left out, labels and assignees kept, a cursor for next time', async () => {
    const ref = await newRepo();
    for (let i = 1; i <= 120; i++) await gh.fake.openIssue(ref.owner, ref.repo, { title: `Issue ${i}`, body: `body ${i}`, labels: i % 2 ? ['bug'] : ['feature', 'p1'], assignees: i === 7 ? ['alice'] : [], user: 'reporter' });
    await gh.fake.pushCommit(ref.owner, ref.repo, 'feat', { 'x.txt': 'x' });
    await submitPullRequest(client(gh), ref, { head: 'feat', base: 'main', title: 'A PR is an issue too' });
    const requests: string[] = [];
    const octokit = client(gh);
    octokit.hook.after('request', (_res, options) => void requests.push(String(options.url)));
    const { candidates, cursor } = await listIssuesSince(octokit, ref);
    assert.ok(requests.length >= 2, `paginated over ${requests.length} requests`);
    assert.equal(candidates.length, 120);
    assert.ok(candidates.every((c) => c.source.title.startsWith('Issue ')));
    const seventh = candidates.find((c) => c.source.number === 7)!;
    assert.equal(seventh.id, `github:acme/${ref.repo}#7`);
    assert.deepEqual(seventh.source.labels, ['bug']);
    assert.deepEqual(seventh.source.assignees, ['alice']);
    assert.equal(seventh.source.author, 'reporter');
    assert.match(seventh.source.url, /\/issues\/7$/);
    assert.ok(cursor);

    await new Promise((r) => setTimeout(r, 5));
    await gh.fake.openIssue(ref.owner, ref.repo, { title: 'Later' });
    const next = await listIssuesSince(octokit, ref, cursor);
    assert.ok(next.candidates.some((c) => c.source.title === 'Later'));
    assert.ok(next.candidates.length < 5, 'only what changed since the cursor');
  });

  it('submit: creates, then reuses; two concurrent submits for one branch end with one PR', async () => {
    const ref = await newRepo();
    const sha = await gh.fake.pushCommit(ref.owner, ref.repo, 'agent/task-1', { 'a.ts': 'export const a = 1;\n' });
    const first = await submitPullRequest(client(gh), ref, { head: 'agent/task-1', base: 'main', title: 'Task 1' });
    assert.equal(first.outcome, 'created');
    assert.equal(first.headSha, sha);
    assert.match(first.prUrl, new RegExp(`/acme/${ref.repo}/pull/${first.prNumber}$`));
    const again = await submitPullRequest(client(gh), ref, { head: 'agent/task-1', base: 'main', title: 'Task 1' });
    assert.deepEqual(again, { ...first, outcome: 'reused' });

    await gh.fake.pushCommit(ref.owner, ref.repo, 'agent/task-2', { 'b.ts': 'export const b = 2;\n' });
    const [x, y] = await Promise.all([
      submitPullRequest(client(gh), ref, { head: 'agent/task-2', base: 'main', title: 'Task 2' }),
      submitPullRequest(client(gh), ref, { head: 'agent/task-2', base: 'main', title: 'Task 2' }),
    ]);
    assert.equal(x.prNumber, y.prNumber);
    assert.deepEqual([x.outcome, y.outcome].sort(), ['created', 'reused']);
    const open = [...gh.fake.repo(ref.owner, ref.repo).pulls.values()].filter((p) => p.head === 'agent/task-2');
    assert.equal(open.length, 1);
  });

  it('CI summary: pending with no checks, pending while mixed, failure naming the failing, success when all green', async () => {
    const ref = await newRepo();
    const sha = await gh.fake.pushCommit(ref.owner, ref.repo, 'ci', { 'c.txt': 'c' });
    const octokit = client(gh);
    const none = await ciSummary(octokit, ref, sha);
    assert.deepEqual(none, { state: 'pending', headSha: sha, checks: [], failing: [] });

    await gh.fake.setCheckRun(ref.owner, ref.repo, { sha, name: 'build', status: 'completed', conclusion: 'success' });
    await gh.fake.setStatus(ref.owner, ref.repo, { sha, state: 'pending', context: 'ci/circleci: lint' });
    const mixed = await ciSummary(octokit, ref, sha);
    assert.equal(mixed.state, 'pending');
    assert.deepEqual(mixed.checks.map((c) => [c.name, c.source, c.status, c.conclusion]), [
      ['build', 'check_run', 'completed', 'success'],
      ['ci/circleci: lint', 'status', 'pending', null],
    ]);

    await gh.fake.setStatus(ref.owner, ref.repo, { sha, state: 'success', context: 'ci/circleci: lint' });
    await gh.fake.setCheckRun(ref.owner, ref.repo, { sha, name: 'test', status: 'completed', conclusion: 'failure' });
    const failing = await ciSummary(octokit, ref, sha);
    assert.equal(failing.state, 'failure');
    assert.deepEqual(failing.failing, ['test']);

    await gh.fake.setCheckRun(ref.owner, ref.repo, { sha, name: 'test', status: 'completed', conclusion: 'success' });
    const green = await ciSummary(octokit, ref, sha);
    assert.equal(green.state, 'success');
    assert.equal(green.checks.length, 3);
    assert.deepEqual(green.failing, []);
  });

  it('review feedback: pending, changes requested, a later approval overriding it, comments with path and line', async () => {
    const ref = await newRepo();
    await gh.fake.pushCommit(ref.owner, ref.repo, 'rev', { 'r.ts': 'let x = 1;\n' });
    const pr = await submitPullRequest(client(gh), ref, { head: 'rev', base: 'main', title: 'Review me' });
    const octokit = client(gh);
    assert.equal((await reviewFeedback(octokit, ref, pr.prNumber)).decision, 'pending');

    await gh.fake.submitReview(ref.owner, ref.repo, pr.prNumber, { user: 'carol', state: 'COMMENTED', body: 'looking' });
    assert.equal((await reviewFeedback(octokit, ref, pr.prNumber)).decision, 'review_required');

    await gh.fake.submitReview(ref.owner, ref.repo, pr.prNumber, { user: 'bob', state: 'CHANGES_REQUESTED', body: 'use const' });
    await gh.fake.addReviewComment(ref.owner, ref.repo, pr.prNumber, { user: 'bob', path: 'r.ts', line: 1, body: 'const, please' });
    const changes = await reviewFeedback(octokit, ref, pr.prNumber);
    assert.equal(changes.decision, 'changes_requested');
    assert.deepEqual(changes.comments.map((c) => [c.author, c.path, c.line, c.body]), [['bob', 'r.ts', 1, 'const, please']]);
    assert.match(changes.comments[0]!.url, /#discussion_r\d+$/);

    await gh.fake.submitReview(ref.owner, ref.repo, pr.prNumber, { user: 'bob', state: 'APPROVED', body: 'thanks' });
    await gh.fake.submitReview(ref.owner, ref.repo, pr.prNumber, { user: 'bob', state: 'COMMENTED', body: 'one more thought' });
    const approved = await reviewFeedback(octokit, ref, pr.prNumber);
    assert.equal(approved.decision, 'approved', "bob's latest verdict is an approval; a later comment does not undo it");
    assert.deepEqual(approved.reviews.map((r) => [r.author, r.state]).sort(), [['bob', 'COMMENTED'], ['carol', 'COMMENTED']]);
  });

  it('merge: right SHA merges (a real merge commit); again is the same success; a moved head is head_sha_mismatch', async () => {
    const ref = await newRepo();
    const sha = await gh.fake.pushCommit(ref.owner, ref.repo, 'm1', { 'feature.txt': 'v1\n' });
    const pr = await submitPullRequest(client(gh), ref, { head: 'm1', base: 'main', title: 'Merge me' });
    const octokit = client(gh);
    const merged = await mergePullRequest(octokit, ref, { prNumber: pr.prNumber, expectedHeadSha: sha, method: 'merge' });
    assert.equal(merged.alreadyMerged, false);
    const git = gh.fake.repo(ref.owner, ref.repo).git;
    assert.equal(await git.head('main'), merged.sha);
    assert.equal((await git.git(['rev-list', '--parents', '-n', '1', merged.sha])).trim().split(' ').length, 3, 'a merge commit has two parents');
    assert.equal(await git.fileAt('main', 'feature.txt'), 'v1\n');
    const again = await mergePullRequest(octokit, ref, { prNumber: pr.prNumber, expectedHeadSha: sha, method: 'merge' });
    assert.deepEqual(again, { merged: true, sha: merged.sha, alreadyMerged: true });

    const old = await gh.fake.pushCommit(ref.owner, ref.repo, 'm2', { 'other.txt': 'a\n' });
    const pr2 = await submitPullRequest(octokit, ref, { head: 'm2', base: 'main', title: 'Moving head' });
    await gh.fake.pushCommit(ref.owner, ref.repo, 'm2', { 'other.txt': 'b\n' });
    await assert.rejects(mergePullRequest(octokit, ref, { prNumber: pr2.prNumber, expectedHeadSha: old }), (err: unknown) => err instanceof ProviderError && err.code === 'head_sha_mismatch');
    assert.equal(gh.fake.repo(ref.owner, ref.repo).pulls.get(pr2.prNumber)!.merged, false);
  });

  it('merge: a conflicting PR is not_mergeable', async () => {
    const ref = await newRepo({ 'shared.txt': 'base\n' });
    const sha = await gh.fake.pushCommit(ref.owner, ref.repo, 'conflict', { 'shared.txt': 'theirs\n' });
    const pr = await submitPullRequest(client(gh), ref, { head: 'conflict', base: 'main', title: 'Conflicts' });
    await gh.fake.pushCommit(ref.owner, ref.repo, 'main', { 'shared.txt': 'ours\n' });
    await assert.rejects(mergePullRequest(client(gh), ref, { prNumber: pr.prNumber, expectedHeadSha: sha }), (err: unknown) => err instanceof ProviderError && err.code === 'not_mergeable');
  });

  it('rollback: GraphQL revertPullRequest opens a PR whose branch undoes the merge', async () => {
    const ref = await newRepo({ 'app.txt': 'before\n' });
    const sha = await gh.fake.pushCommit(ref.owner, ref.repo, 'change', { 'app.txt': 'after\n' });
    const octokit = client(gh);
    const pr = await submitPullRequest(octokit, ref, { head: 'change', base: 'main', title: 'Change app' });
    await mergePullRequest(octokit, ref, { prNumber: pr.prNumber, expectedHeadSha: sha, method: 'merge' });
    const revert = await revertPullRequest(octokit, ref, pr.prNumber);
    assert.ok(revert.prNumber > pr.prNumber);
    assert.match(revert.prUrl, new RegExp(`/pull/${revert.prNumber}$`));
    const revertPull = gh.fake.repo(ref.owner, ref.repo).pulls.get(revert.prNumber)!;
    assert.equal(revertPull.title, 'Revert "Change app"');
    assert.equal(await gh.fake.repo(ref.owner, ref.repo).git.fileAt(revertPull.head, 'app.txt'), 'before\n');
    await assert.rejects(revertPullRequest(octokit, ref, revert.prNumber), (err: unknown) => err instanceof ProviderError && err.code === 'revert_failed');
  });

  it('comments on an issue and on a pull request', async () => {
    const ref = await newRepo();
    const issue = await gh.fake.openIssue(ref.owner, ref.repo, { title: 'Question' });
    const res = await commentOn(client(gh), ref, issue.number, 'Picked up by Switchyard.');
    assert.match(res.url, new RegExp(`/issues/${issue.number}#issuecomment-${res.id}$`));
    assert.deepEqual(gh.fake.repo(ref.owner, ref.repo).comments.map((c) => c.body), ['Picked up by Switchyard.']);
  });

  it('rate limits: a secondary limit and a primary limit are waited out, then the call succeeds', async () => {
    const ref = await newRepo();
    const { injectRateLimit } = await import('../fakes/github/control.js');
    const octokit = client(gh);
    injectRateLimit(gh.fake, { kind: 'secondary', retryAfterSeconds: 1 });
    const t0 = Date.now();
    const secondary = await ciSummary(octokit, { ...ref }, 'deadbeef00');
    assert.equal(secondary.state, 'pending');
    assert.ok(Date.now() - t0 >= 900, 'waited for the retry-after GitHub gave');
    injectRateLimit(gh.fake, { kind: 'primary', retryAfterSeconds: 1 });
    const { candidates } = await listIssuesSince(octokit, ref);
    assert.deepEqual(candidates, []);
    assert.equal(gh.fake.injected.length, 0, 'both injected limits were answered');
  });

  it('an unplanned route is a loud 501, not a silent success', async () => {
    const ref = await newRepo();
    await assert.rejects(client(gh).rest.repos.listBranches(ref), (err: any) => err.status === 501 && /route not implemented: GET \/repos\/acme\/.+\/branches/.test(err.message));
  });
});

describe('GitHub App installation auth', () => {
  it('the layer signs a JWT with the app key, gets an installation token, and uses it', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { githubClient } = await import('../../activities/github/client.js');
    const gh = await fakeGitHub();
    try {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      gh.fake.apps.register(4242, publicKey.export({ type: 'spki', format: 'pem' }).toString());
      await gh.fake.createRepo('acme', 'app-repo');
      await gh.fake.openIssue('acme', 'app-repo', { title: 'via app' });
      const app = githubClient({ kind: 'app', appId: 4242, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), installationId: 7 }, { baseUrl: gh.url });
      const { candidates } = await listIssuesSince(app, { owner: 'acme', repo: 'app-repo' });
      assert.deepEqual(candidates.map((c) => c.source.title), ['via app']);
      const [token, installation] = [...gh.fake.apps.issuedTokens.entries()][0]!;
      assert.equal(installation, 7);
      assert.equal(gh.fake.apps.authorizations.at(-1), `token ${token}`);

      const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const forged = githubClient({ kind: 'app', appId: 4242, privateKey: stranger, installationId: 7 }, { baseUrl: gh.url });
      await assert.rejects(listIssuesSince(forged, { owner: 'acme', repo: 'app-repo' }), (err: any) => err.status === 401);
      assertHonest(gh);
    } finally {
      await gh.close();
    }
  });
});
