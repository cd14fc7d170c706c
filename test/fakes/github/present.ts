/** GitHub-shaped bodies from the fake's state; the schema builder fills what the state does not model. */
import type { FakeCheckRun, FakeComment, FakeIssue, FakePull, FakeRepo, FakeReview, FakeReviewComment, FakeStatus } from './model.js';
import type { RestSchemas } from './schema.js';

export class Presenter {
  constructor(
    private readonly schemas: RestSchemas,
    /** e.g. http://127.0.0.1:PORT — the fake serves the API and the "web" URLs from one origin. */
    private readonly origin: () => string,
  ) {}

  userId(login: string): number {
    let h = 0;
    for (const c of login) h = (h * 31 + c.charCodeAt(0)) % 1_000_000;
    return h + 1;
  }

  user(login: string) {
    const o = this.origin();
    return this.schemas.build('simple-user', {
      login,
      id: this.userId(login),
      node_id: `U_${login}`,
      gravatar_id: '',
      type: login.endsWith('[bot]') ? 'Bot' : 'User',
      site_admin: false,
      url: `${o}/users/${encodeURIComponent(login)}`,
      html_url: `${o}/${encodeURIComponent(login)}`,
      avatar_url: `${o}/avatars/${encodeURIComponent(login)}`,
    });
  }

  repository(repo: FakeRepo) {
    const o = this.origin();
    return this.schemas.build('repository', {
      id: repo.id,
      node_id: `R_${repo.id}`,
      name: repo.name,
      full_name: `${repo.owner}/${repo.name}`,
      owner: this.user(repo.owner),
      private: false,
      default_branch: repo.defaultBranch,
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
      pushed_at: '2026-01-01T00:00:00Z',
      url: `${o}/repos/${repo.owner}/${repo.name}`,
      html_url: `${o}/${repo.owner}/${repo.name}`,
    });
  }

  /** GET /repos/{owner}/{repo} answers the full repository (default branch included). */
  fullRepository(repo: FakeRepo) {
    return this.schemas.build('full-repository', { ...(this.repository(repo) as object), network_count: 0, subscribers_count: 0 });
  }

  issue(repo: FakeRepo, issue: FakeIssue) {
    const o = this.origin();
    const base = `${o}/repos/${repo.owner}/${repo.name}`;
    return this.schemas.build('issue', {
      id: repo.id * 100_000 + issue.number,
      node_id: `I_${repo.id}_${issue.number}`,
      number: issue.number,
      title: issue.title,
      body: issue.body,
      state: issue.state,
      user: this.user(issue.user),
      labels: issue.labels.map((name, i) => ({ id: i + 1, node_id: `L_${name}`, name, color: 'ededed', default: false, description: null, url: `${base}/labels/${encodeURIComponent(name)}` })),
      assignees: issue.assignees.map((a) => this.user(a)),
      assignee: issue.assignees[0] ? this.user(issue.assignees[0]) : null,
      url: `${base}/issues/${issue.number}`,
      html_url: `${o}/${repo.owner}/${repo.name}/${issue.isPull ? 'pull' : 'issues'}/${issue.number}`,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      closed_at: issue.state === 'closed' ? issue.updatedAt : null,
      ...(issue.isPull ? { pull_request: { url: `${base}/pulls/${issue.number}`, html_url: `${o}/${repo.owner}/${repo.name}/pull/${issue.number}`, diff_url: null, patch_url: null } } : {}),
    });
  }

  private branchRef(repo: FakeRepo, ref: string, sha: string) {
    return { label: `${repo.owner}:${ref}`, ref, sha, user: this.user(repo.owner), repo: this.repository(repo) };
  }

  /** `pull-request` (one) or `pull-request-simple` (lists). */
  pull(repo: FakeRepo, pull: FakePull, headSha: string, baseSha: string, mergeable: boolean | null, simple = false) {
    const o = this.origin();
    const api = `${o}/repos/${repo.owner}/${repo.name}`;
    const values: Record<string, unknown> = {
      id: pull.id,
      node_id: pull.nodeId,
      number: pull.number,
      title: pull.title,
      body: pull.body,
      state: pull.state,
      user: this.user(pull.user),
      head: this.branchRef(repo, pull.head, headSha),
      base: this.branchRef(repo, pull.base, baseSha),
      merge_commit_sha: pull.mergeCommitSha,
      url: `${api}/pulls/${pull.number}`,
      html_url: `${o}/${repo.owner}/${repo.name}/pull/${pull.number}`,
      created_at: pull.createdAt,
      updated_at: pull.updatedAt,
      closed_at: pull.state === 'closed' ? pull.updatedAt : null,
      merged_at: pull.merged ? pull.updatedAt : null,
      draft: false,
      labels: [],
    };
    if (!simple) Object.assign(values, { merged: pull.merged, mergeable, mergeable_state: mergeable === false ? 'dirty' : 'clean', comments: 0, review_comments: 0, commits: 1, additions: 0, deletions: 0, changed_files: 0 });
    return this.schemas.build(simple ? 'pull-request-simple' : 'pull-request', values);
  }

  checkRun(repo: FakeRepo, run: FakeCheckRun) {
    const o = this.origin();
    return this.schemas.build('check-run', {
      id: run.id,
      node_id: `CR_${run.id}`,
      head_sha: run.sha,
      name: run.name,
      status: run.status,
      conclusion: run.conclusion,
      started_at: run.startedAt,
      completed_at: run.completedAt,
      url: `${o}/repos/${repo.owner}/${repo.name}/check-runs/${run.id}`,
      html_url: `${o}/${repo.owner}/${repo.name}/runs/${run.id}`,
      details_url: `${o}/${repo.owner}/${repo.name}/runs/${run.id}`,
      external_id: String(run.id),
      output: { title: run.name, summary: run.conclusion ?? run.status, text: null, annotations_count: 0, annotations_url: `${o}/repos/${repo.owner}/${repo.name}/check-runs/${run.id}/annotations` },
      pull_requests: [],
    });
  }

  /** GitHub's combined status: latest per context; pending when there is none. */
  combinedStatus(repo: FakeRepo, sha: string, statuses: FakeStatus[]) {
    const o = this.origin();
    const latest = new Map<string, FakeStatus>();
    for (const s of statuses) latest.set(s.context, s);
    const list = [...latest.values()];
    const state = list.length === 0 ? 'pending' : list.some((s) => s.state === 'error' || s.state === 'failure') ? 'failure' : list.some((s) => s.state === 'pending') ? 'pending' : 'success';
    return this.schemas.build('combined-commit-status', {
      state,
      sha,
      total_count: list.length,
      statuses: list.map((s) => ({
        id: s.id,
        node_id: `S_${s.id}`,
        state: s.state,
        context: s.context,
        description: s.description,
        target_url: s.targetUrl,
        created_at: s.createdAt,
        updated_at: s.createdAt,
        url: `${o}/repos/${repo.owner}/${repo.name}/statuses/${sha}`,
        avatar_url: null,
        required: false,
      })),
      repository: this.schemas.build('minimal-repository', { id: repo.id, node_id: `R_${repo.id}`, name: repo.name, full_name: `${repo.owner}/${repo.name}`, owner: this.user(repo.owner), private: false, html_url: `${o}/${repo.owner}/${repo.name}`, url: `${o}/repos/${repo.owner}/${repo.name}` }),
      commit_url: `${o}/repos/${repo.owner}/${repo.name}/commits/${sha}`,
      url: `${o}/repos/${repo.owner}/${repo.name}/commits/${sha}/status`,
    });
  }

  status(repo: FakeRepo, s: FakeStatus) {
    const o = this.origin();
    return this.schemas.build('status', {
      id: s.id, node_id: `S_${s.id}`, state: s.state, context: s.context, description: s.description, target_url: s.targetUrl,
      created_at: s.createdAt, updated_at: s.createdAt, url: `${o}/repos/${repo.owner}/${repo.name}/statuses/${s.sha}`, avatar_url: null, creator: this.user(repo.owner),
    });
  }

  review(repo: FakeRepo, r: FakeReview) {
    const o = this.origin();
    return this.schemas.build('pull-request-review', {
      id: r.id, node_id: `PRR_${r.id}`, user: this.user(r.user), body: r.body, state: r.state, commit_id: r.commitId, submitted_at: r.submittedAt,
      html_url: `${o}/${repo.owner}/${repo.name}/pull/${r.pullNumber}#pullrequestreview-${r.id}`, pull_request_url: `${o}/repos/${repo.owner}/${repo.name}/pulls/${r.pullNumber}`,
      author_association: 'CONTRIBUTOR', _links: { html: { href: `${o}/${repo.owner}/${repo.name}/pull/${r.pullNumber}` }, pull_request: { href: `${o}/repos/${repo.owner}/${repo.name}/pulls/${r.pullNumber}` } },
    });
  }

  reviewComment(repo: FakeRepo, c: FakeReviewComment) {
    const o = this.origin();
    const html = `${o}/${repo.owner}/${repo.name}/pull/${c.pullNumber}#discussion_r${c.id}`;
    return this.schemas.build('pull-request-review-comment', {
      id: c.id, node_id: `PRRC_${c.id}`, user: this.user(c.user), path: c.path, line: c.line, body: c.body, commit_id: c.commitId, original_commit_id: c.commitId,
      diff_hunk: '@@', created_at: c.createdAt, updated_at: c.createdAt, html_url: html, url: `${o}/repos/${repo.owner}/${repo.name}/pulls/comments/${c.id}`,
      pull_request_url: `${o}/repos/${repo.owner}/${repo.name}/pulls/${c.pullNumber}`, author_association: 'CONTRIBUTOR',
      _links: { self: { href: html }, html: { href: html }, pull_request: { href: `${o}/repos/${repo.owner}/${repo.name}/pulls/${c.pullNumber}` } },
    });
  }

  comment(repo: FakeRepo, c: FakeComment) {
    const o = this.origin();
    return this.schemas.build('issue-comment', {
      id: c.id, node_id: `IC_${c.id}`, user: this.user(c.user), body: c.body, created_at: c.createdAt, updated_at: c.createdAt,
      html_url: `${o}/${repo.owner}/${repo.name}/issues/${c.issueNumber}#issuecomment-${c.id}`, issue_url: `${o}/repos/${repo.owner}/${repo.name}/issues/${c.issueNumber}`,
      url: `${o}/repos/${repo.owner}/${repo.name}/issues/comments/${c.id}`, author_association: 'CONTRIBUTOR',
    });
  }
}
