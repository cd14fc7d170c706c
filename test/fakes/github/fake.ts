/**
 * The fake GitHub's behaviour: repositories on real bare git repos, issues and pull requests sharing
 * numbers, check runs, commit statuses, reviews, merges guarded by the head SHA, reverts; each change
 * emits the webhook GitHub would. Used through HTTP (server.ts) or directly as a handle in tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeApps } from './apps.js';
import { GitRepo } from './git.js';
import { WebhookEmitter } from './hooks.js';
import type { FakeCheckRun, FakeIssue, FakePull, FakeRepo, FakeReview, FakeStatus } from './model.js';
import { Presenter } from './present.js';
import { RestSchemas, WebhookSchemas } from './schema.js';

export class FakeError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message));
  }
}

let schemasOnce: { rest: RestSchemas; hooks: WebhookSchemas } | undefined;
/** The schemas take ~1 s to load; every fake in a process shares them. */
export function sharedSchemas() {
  return (schemasOnce ??= { rest: new RestSchemas(), hooks: new WebhookSchemas() });
}

const now = () => new Date().toISOString();

export class FakeGitHub {
  readonly repos = new Map<string, FakeRepo>();
  readonly present: Presenter;
  readonly hooks: WebhookEmitter;
  readonly apps = new FakeApps();
  origin = 'http://127.0.0.1';
  private nextId = 1000;
  private root = '';
  /** Set by a test: merges happen, but their HTTP answers wait until `releaseMerges()` (a client dying mid-merge). */
  holdMergeAnswers = false;
  private heldMergeAnswers: Array<() => void> = [];
  /** Merges performed, whatever became of their answers. */
  mergesDone = 0;
  /** Failures to answer the next REST requests with (rate limits), in order. */
  readonly injected: Array<{ status: number; headers: Record<string, string>; message: string }> = [];

  constructor(readonly schemas = sharedSchemas()) {
    this.present = new Presenter(schemas.rest, () => this.origin);
    this.hooks = new WebhookEmitter(schemas.hooks);
  }

  async init(): Promise<this> {
    this.root = await mkdtemp(path.join(tmpdir(), 'fake-github-'));
    return this;
  }

  async dispose(): Promise<void> {
    if (this.root) await rm(this.root, { recursive: true, force: true });
  }

  id(): number {
    return this.nextId++;
  }

  repo(owner: string, name: string): FakeRepo {
    const repo = this.repos.get(`${owner}/${name}`.toLowerCase());
    if (!repo) throw new FakeError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
    return repo;
  }

  // ------------------------------------------------------------------ control surface

  async createRepo(owner: string, name: string, files: Record<string, string> = { 'README.md': `# ${name}\n` }): Promise<FakeRepo> {
    const git = await GitRepo.create(this.root, `${owner}__${name}`);
    await git.commit('main', files, 'Initial commit');
    const repo: FakeRepo = { id: this.id(), owner, name, git, defaultBranch: 'main', nextNumber: 1, issues: new Map(), pulls: new Map(), checkRuns: [], statuses: [], reviews: [], reviewComments: [], comments: [] };
    this.repos.set(`${owner}/${name}`.toLowerCase(), repo);
    return repo;
  }

  /** A commit on `branch` (created from `from`, default the default branch); an open PR on it gets `synchronize`. */
  async pushCommit(owner: string, name: string, branch: string, files: Record<string, string>, message = `Update ${Object.keys(files).join(', ')}`, from?: string): Promise<string> {
    const repo = this.repo(owner, name);
    const before = (await repo.git.head(branch)) ?? '0000000000000000000000000000000000000000';
    const sha = await repo.git.commit(branch, files, message, from ?? repo.defaultBranch);
    const commit = { id: sha, tree_id: sha, distinct: true, message, timestamp: now(), url: `${this.origin}/${repo.owner}/${repo.name}/commit/${sha}`, author: { name: 'fake-github', email: 'fake@fake-github.invalid' }, committer: { name: 'fake-github', email: 'fake@fake-github.invalid' }, added: [], removed: [], modified: Object.keys(files) };
    await this.hooks.emit('push', undefined, {
      ref: `refs/heads/${branch}`, before, after: sha, created: before.startsWith('0000000'), deleted: false, forced: false, base_ref: null,
      compare: `${this.origin}/${repo.owner}/${repo.name}/compare/${before.slice(0, 12)}...${sha.slice(0, 12)}`, commits: [commit], head_commit: commit,
      pusher: { name: repo.owner, email: null }, ...this.envelope(repo, repo.owner),
    });
    for (const pull of repo.pulls.values()) {
      if (pull.state === 'open' && pull.head === branch) {
        pull.updatedAt = now();
        await this.hooks.emit('pull_request', 'synchronize', { number: pull.number, pull_request: await this.pullBody(repo, pull), ...this.envelope(repo, pull.user) });
      }
    }
    return sha;
  }

  async openIssue(owner: string, name: string, input: { title: string; body?: string; labels?: string[]; user?: string; assignees?: string[] }): Promise<FakeIssue> {
    const repo = this.repo(owner, name);
    const issue: FakeIssue = { number: repo.nextNumber++, title: input.title, body: input.body ?? null, state: 'open', labels: input.labels ?? [], assignees: input.assignees ?? [], user: input.user ?? 'octocat', createdAt: now(), updatedAt: now(), isPull: false };
    repo.issues.set(issue.number, issue);
    await this.hooks.emit('issues', 'opened', { issue: this.present.issue(repo, issue), ...this.envelope(repo, issue.user) });
    return issue;
  }

  /** An edit, close or reopen of an issue (the REST PATCH and the control surface both land here). */
  async editIssue(owner: string, name: string, number: number, input: { title?: string; body?: string | null; labels?: string[]; state?: 'open' | 'closed'; user?: string }): Promise<FakeIssue> {
    const repo = this.repo(owner, name);
    const issue = repo.issues.get(number);
    if (!issue || issue.isPull) throw new FakeError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/issues/issues#update-an-issue', status: '404' });
    const edited = (input.title !== undefined && input.title !== issue.title) || (input.body !== undefined && input.body !== issue.body);
    const relabelled = input.labels !== undefined && JSON.stringify(input.labels) !== JSON.stringify(issue.labels);
    const stateChange = input.state !== undefined && input.state !== issue.state ? input.state : undefined;
    Object.assign(issue, {
      ...(input.title !== undefined ? { title: input.title } : {}),
      ...(input.body !== undefined ? { body: input.body } : {}),
      ...(input.labels !== undefined ? { labels: input.labels } : {}),
      ...(stateChange ? { state: stateChange } : {}),
      updatedAt: now(),
    });
    const user = input.user ?? repo.owner;
    if (edited) await this.hooks.emit('issues', 'edited', { issue: this.present.issue(repo, issue), changes: {}, ...this.envelope(repo, user) });
    if (relabelled) await this.hooks.emit('issues', 'labeled', { issue: this.present.issue(repo, issue), ...this.envelope(repo, user) });
    if (stateChange) await this.hooks.emit('issues', stateChange === 'closed' ? 'closed' : 'reopened', { issue: this.present.issue(repo, issue), ...this.envelope(repo, user) });
    return issue;
  }

  async setCheckRun(owner: string, name: string, input: { sha: string; name: string; status: FakeCheckRun['status']; conclusion?: FakeCheckRun['conclusion'] }): Promise<FakeCheckRun> {
    const repo = this.repo(owner, name);
    let run = repo.checkRuns.find((r) => r.sha === input.sha && r.name === input.name);
    const created = !run;
    if (!run) repo.checkRuns.push((run = { id: this.id(), sha: input.sha, name: input.name, status: input.status, conclusion: null, startedAt: now(), completedAt: null }));
    run.status = input.status;
    run.conclusion = input.status === 'completed' ? (input.conclusion ?? 'success') : null;
    run.completedAt = input.status === 'completed' ? now() : null;
    const action = created ? 'created' : input.status === 'completed' ? 'completed' : 'created';
    await this.hooks.emit('check_run', action, { check_run: this.checkRunHookBody(repo, run), ...this.envelope(repo, 'github-actions[bot]') });
    const suite = repo.checkRuns.filter((r) => r.sha === run!.sha);
    if (run.status === 'completed' && suite.every((r) => r.status === 'completed')) {
      const conclusion = suite.some((r) => r.conclusion === 'failure' || r.conclusion === 'timed_out' || r.conclusion === 'cancelled') ? 'failure' : 'success';
      await this.hooks.emit('check_suite', 'completed', { check_suite: this.checkSuiteHookBody(repo, run.sha, conclusion), ...this.envelope(repo, 'github-actions[bot]') });
    }
    return run;
  }

  /** Re-runs recorded by `POST …/actions/jobs/{id}/rerun`, and what a re-run job ends as (unset: it stays queued until setCheckRun). */
  readonly reruns: Array<{ owner: string; repo: string; checkRunId: number; name: string; sha: string }> = [];
  rerunOutcome: FakeCheckRun['conclusion'] | undefined;

  /** A job re-run (Actions' job id is its check run id): the check run is queued again, as a new attempt. */
  async rerunJob(owner: string, name: string, jobId: number): Promise<FakeCheckRun | undefined> {
    const repo = this.repo(owner, name);
    const run = repo.checkRuns.find((r) => r.id === jobId);
    if (!run) return undefined;
    this.reruns.push({ owner, repo: name, checkRunId: run.id, name: run.name, sha: run.sha });
    run.attempt = (run.attempt ?? 1) + 1;
    await this.setCheckRun(owner, name, { sha: run.sha, name: run.name, status: 'queued' });
    if (this.rerunOutcome) await this.setCheckRun(owner, name, { sha: run.sha, name: run.name, status: 'completed', conclusion: this.rerunOutcome });
    return run;
  }

  async setStatus(owner: string, name: string, input: { sha: string; state: FakeStatus['state']; context: string; description?: string; targetUrl?: string }): Promise<FakeStatus> {
    const repo = this.repo(owner, name);
    const status: FakeStatus = { id: this.id(), sha: input.sha, state: input.state, context: input.context, description: input.description ?? null, targetUrl: input.targetUrl ?? null, createdAt: now() };
    repo.statuses.push(status);
    await this.hooks.emit('status', undefined, {
      id: status.id, sha: status.sha, name: `${repo.owner}/${repo.name}`, state: status.state, context: status.context, description: status.description, target_url: status.targetUrl,
      created_at: status.createdAt, updated_at: status.createdAt, branches: [], commit: { sha: status.sha, node_id: `C_${status.sha}`, url: `${this.origin}/repos/${repo.owner}/${repo.name}/commits/${status.sha}`, html_url: `${this.origin}/${repo.owner}/${repo.name}/commit/${status.sha}`, comments_url: `${this.origin}/repos/${repo.owner}/${repo.name}/commits/${status.sha}/comments`, author: null, committer: null, parents: [], commit: { message: 'commit', url: `${this.origin}/repos/${repo.owner}/${repo.name}/git/commits/${status.sha}`, comment_count: 0, tree: { sha: status.sha, url: `${this.origin}/repos/${repo.owner}/${repo.name}/git/trees/${status.sha}` }, author: { name: 'fake', email: 'fake@fake-github.invalid', date: status.createdAt }, committer: { name: 'fake', email: 'fake@fake-github.invalid', date: status.createdAt }, verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null } } },
      ...this.envelope(repo, 'ci-bot'),
    });
    return status;
  }

  async submitReview(owner: string, name: string, number: number, input: { user: string; state: FakeReview['state']; body?: string }): Promise<FakeReview> {
    const repo = this.repo(owner, name);
    const pull = this.pull(repo, number);
    const review: FakeReview = { id: this.id(), pullNumber: number, user: input.user, state: input.state, body: input.body ?? '', commitId: await this.headSha(repo, pull), submittedAt: now() };
    repo.reviews.push(review);
    await this.hooks.emit('pull_request_review', 'submitted', {
      review: { ...this.present.review(repo, review), state: review.state.toLowerCase() },
      pull_request: await this.pullBody(repo, pull),
      ...this.envelope(repo, input.user),
    });
    return review;
  }

  async addReviewComment(owner: string, name: string, number: number, input: { user: string; path: string; line: number; body: string }) {
    const repo = this.repo(owner, name);
    const pull = this.pull(repo, number);
    const comment = { id: this.id(), pullNumber: number, user: input.user, path: input.path, line: input.line, body: input.body, commitId: await this.headSha(repo, pull), createdAt: now() };
    repo.reviewComments.push(comment);
    await this.hooks.emit('pull_request_review_comment', 'created', { comment: this.present.reviewComment(repo, comment), pull_request: await this.pullBody(repo, pull), ...this.envelope(repo, input.user) });
    return comment;
  }

  /** Waits here when merge answers are held. */
  async mergeAnswerGate(): Promise<void> {
    if (this.holdMergeAnswers) await new Promise<void>((r) => this.heldMergeAnswers.push(r));
  }

  releaseMerges(): void {
    this.holdMergeAnswers = false;
    for (const release of this.heldMergeAnswers.splice(0)) release();
  }

  // ------------------------------------------------------------------ behaviour behind the REST routes

  pull(repo: FakeRepo, number: number): FakePull {
    const pull = repo.pulls.get(number);
    if (!pull) throw new FakeError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/pulls/pulls', status: '404' });
    return pull;
  }

  async headSha(repo: FakeRepo, pull: FakePull): Promise<string> {
    return pull.frozenHeadSha ?? (await repo.git.head(pull.head)) ?? '';
  }

  async pullBody(repo: FakeRepo, pull: FakePull, simple = false) {
    const head = await this.headSha(repo, pull);
    const base = (await repo.git.head(pull.base)) ?? '';
    const mergeable = pull.state === 'open' ? (await repo.git.mergeTree(base, head)) !== undefined : null;
    return this.present.pull(repo, pull, head, base, mergeable, simple);
  }

  async createPull(repo: FakeRepo, input: { head: string; base: string; title: string; body?: string; user: string }): Promise<FakePull> {
    const branch = input.head.includes(':') ? input.head.split(':')[1]! : input.head;
    if (!(await repo.git.head(branch))) throw validationFailed('PullRequest', 'head', 'invalid');
    if (!(await repo.git.head(input.base))) throw validationFailed('PullRequest', 'base', 'invalid');
    if ([...repo.pulls.values()].some((p) => p.state === 'open' && p.head === branch && p.base === input.base)) {
      throw new FakeError(422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${repo.owner}:${branch}.` }], documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request', status: '422' });
    }
    const number = repo.nextNumber++;
    const pull: FakePull = { number, id: this.id(), nodeId: `PR_${repo.id}_${number}`, head: branch, base: input.base, title: input.title, body: input.body ?? null, user: input.user, state: 'open', merged: false, mergeCommitSha: null, frozenHeadSha: null, createdAt: now(), updatedAt: now() };
    repo.pulls.set(number, pull);
    repo.issues.set(number, { number, title: pull.title, body: pull.body, state: 'open', labels: [], assignees: [], user: pull.user, createdAt: pull.createdAt, updatedAt: pull.updatedAt, isPull: true });
    await this.hooks.emit('pull_request', 'opened', { number, pull_request: await this.pullBody(repo, pull), ...this.envelope(repo, pull.user) });
    return pull;
  }

  async mergePull(repo: FakeRepo, number: number, input: { sha?: string; method: 'merge' | 'squash' | 'rebase'; title?: string; message?: string }) {
    const pull = this.pull(repo, number);
    if (pull.state !== 'open') throw new FakeError(405, { message: 'Pull Request is not mergeable', documentation_url: 'https://docs.github.com/rest/pulls/pulls#merge-a-pull-request', status: '405' });
    const head = await this.headSha(repo, pull);
    if (input.sha && input.sha !== head) throw new FakeError(409, { message: 'Head branch was modified. Review and try the merge again.', documentation_url: 'https://docs.github.com/rest/pulls/pulls#merge-a-pull-request', status: '409' });
    const title = input.title ?? `Merge pull request #${number} from ${repo.owner}/${pull.head}`;
    const sha = await repo.git.merge(pull.base, head, input.message ? `${title}\n\n${input.message}` : title, input.method);
    if (!sha) throw new FakeError(405, { message: 'Pull Request is not mergeable', documentation_url: 'https://docs.github.com/rest/pulls/pulls#merge-a-pull-request', status: '405' });
    Object.assign(pull, { state: 'closed', merged: true, mergeCommitSha: sha, frozenHeadSha: head, updatedAt: now() });
    const issue = repo.issues.get(number)!;
    Object.assign(issue, { state: 'closed', updatedAt: pull.updatedAt });
    this.mergesDone++;
    await this.hooks.emit('pull_request', 'closed', { number, pull_request: await this.pullBody(repo, pull), ...this.envelope(repo, pull.user) });
    return { sha, merged: true, message: 'Pull Request successfully merged' };
  }

  /** GraphQL revertPullRequest: a branch with the revert commit and a PR for it. */
  async revertPull(repo: FakeRepo, number: number, user: string): Promise<FakePull> {
    const pull = this.pull(repo, number);
    if (!pull.merged || !pull.mergeCommitSha) throw new FakeError(422, { message: 'Pull request is not merged' });
    const branch = `revert-${number}-${pull.head}`;
    const sha = await repo.git.revert(pull.base, pull.mergeCommitSha, branch, `Revert "${pull.title}"\n\nThis reverts commit ${pull.mergeCommitSha}.`);
    if (!sha) throw new FakeError(422, { message: 'The revert has conflicts' });
    return this.createPull(repo, { head: branch, base: pull.base, title: `Revert "${pull.title}"`, body: `Reverts ${repo.owner}/${repo.name}#${number}`, user });
  }

  envelope(repo: FakeRepo, sender: string) {
    return { repository: this.present.repository(repo), sender: this.present.user(sender) };
  }

  private checkSuiteHookBody(repo: FakeRepo, sha: string, conclusion: 'success' | 'failure') {
    const o = this.origin;
    const at = now();
    return {
      id: this.id(), node_id: `CS_${sha}`, head_sha: sha, head_branch: null, status: 'completed', conclusion, before: null, after: sha, pull_requests: [],
      url: `${o}/repos/${repo.owner}/${repo.name}/check-suites/${sha}`, check_runs_url: `${o}/repos/${repo.owner}/${repo.name}/check-suites/${sha}/check-runs`,
      created_at: at, updated_at: at, latest_check_runs_count: repo.checkRuns.filter((r) => r.sha === sha).length, rerequestable: true, runs_rerequestable: true,
      head_commit: { id: sha, tree_id: sha, message: 'commit', timestamp: at, author: { name: 'fake', email: 'fake@fake-github.invalid' }, committer: { name: 'fake', email: 'fake@fake-github.invalid' } },
    };
  }

  private checkRunHookBody(repo: FakeRepo, run: FakeCheckRun) {
    const body = this.present.checkRun(repo, run);
    return { ...body, check_suite: { id: run.id, node_id: `CS_${run.id}`, head_sha: run.sha, head_branch: null, status: run.status, conclusion: run.conclusion, url: `${this.origin}/repos/${repo.owner}/${repo.name}/check-suites/${run.id}`, before: null, after: null, pull_requests: [], app: null, created_at: run.startedAt, updated_at: run.completedAt ?? run.startedAt } };
  }
}

function validationFailed(resource: string, field: string, code: string): FakeError {
  return new FakeError(422, { message: 'Validation Failed', errors: [{ resource, field, code }], documentation_url: 'https://docs.github.com/rest', status: '422' });
}
