/** GitHub behind the neutral ports: intake (issues) and code host (pull requests, reviews, merges), judged by its CI port (github-actions.ts). */
import { combineCi } from '../../domain/ci.js';
import type { CiState, ReviewState } from '../../domain/lifecycle.js';
import { listIssuesSince, mergePullRequest, reviewFeedback, revertPullRequest, submitPullRequest, commentOn, ProviderError, type GitHub } from '../github/index.js';
import { GitHubActions } from './github-actions.js';
import { ProviderRefusal, type Candidate, type CiHead, type CIPort, type CodeHostPort, type IntakePort, type UpstreamRef, type UpstreamStateChange } from './ports.js';

export interface GitHubRepo {
  gh: GitHub;
  owner: string;
  repo: string;
  labels: { include?: string[]; exclude?: string[] };
  defaultBranch: string | null;
}

/** Label filters: every `include` label must be there (if any are given), no `exclude` label may be. */
export function passesLabels(labels: string[], f: GitHubRepo['labels']): boolean {
  const have = labels.map((l) => l.toLowerCase());
  if (f.include?.length && !f.include.every((l) => have.includes(l.toLowerCase()))) return false;
  if (f.exclude?.some((l) => have.includes(l.toLowerCase()))) return false;
  return true;
}

export class GitHubAdapter implements IntakePort, CodeHostPort {
  /** The CI systems a PR's head is judged by, combined (GitHub's own checks today; CircleCI beside them next). */
  private readonly ci: CIPort[];

  /** `ci`: the CI systems the repository runs besides or instead of GitHub's own checks (default: GitHub Actions alone). */
  constructor(private readonly r: GitHubRepo, ci?: (actions: GitHubActions) => CIPort[]) {
    const actions = new GitHubActions(r.gh, { owner: r.owner, repo: r.repo });
    this.ci = ci ? ci(actions) : [actions];
  }

  /** Every CI system's answer on the head, as one state (any red is red). */
  private async ciOn(head: CiHead): Promise<CiState> {
    return combineCi(head.sha, await Promise.all(this.ci.map((c) => c.summary(head))));
  }

  /** The failed jobs on a PR's head re-run once in every CI system that has some; what was re-run. */
  async rerunFailed(prNumber: number, headSha: string): Promise<{ rerun: string[] }> {
    const { data: pr } = await this.r.gh.rest.pulls.get({ ...this.ref, pull_number: prNumber });
    // The head moved since the decision: the new head has its own CI, nothing to re-run.
    if (pr.head.sha !== headSha) return { rerun: [] };
    const answers = await Promise.all(this.ci.map((c) => c.rerunFailed({ sha: headSha, branch: pr.head.ref })));
    return { rerun: answers.flatMap((a) => a.rerun) };
  }

  private get ref() {
    return { owner: this.r.owner, repo: this.r.repo };
  }

  async listChangedSince(cursor: string | null): Promise<{ candidates: Candidate[]; cursor: string | null }> {
    const { candidates, cursor: next } = await listIssuesSince(this.r.gh, this.ref, cursor ?? undefined);
    return {
      candidates: candidates.map((c) => ({ key: c.id, number: c.source.number, title: c.source.title, body: c.source.body, labels: c.source.labels, state: c.source.state, url: c.source.url, updatedAt: c.source.updatedAt })),
      cursor: next ?? cursor,
    };
  }

  async comment(ref: UpstreamRef, body: string): Promise<void> {
    await commentOn(this.r.gh, this.ref, ref.number, body);
  }

  async setState(ref: UpstreamRef, state: UpstreamStateChange): Promise<void> {
    if (state === 'cancelled') await this.r.gh.rest.issues.update({ ...this.ref, issue_number: ref.number, state: 'closed', state_reason: 'not_planned' });
    else await this.r.gh.rest.issues.update({ ...this.ref, issue_number: ref.number, state });
  }

  /** The repository as GitHub names it: its numeric id (stable across renames and transfers), canonical name and default branch. */
  async repository(signal?: AbortSignal): Promise<{ id: number; owner: string; repo: string; defaultBranch: string }> {
    const { data } = await this.r.gh.rest.repos.get({ ...this.ref, ...(signal ? { request: { signal } } : {}) });
    return { id: data.id, owner: data.owner.login, repo: data.name, defaultBranch: data.default_branch };
  }

  async defaultBranch(): Promise<string> {
    if (this.r.defaultBranch) return this.r.defaultBranch;
    const { data } = await this.r.gh.rest.repos.get(this.ref);
    return data.default_branch;
  }

  async openPullRequest(input: { head: string; base: string; title: string; body: string; draft?: boolean }) {
    const pr = await submitPullRequest(this.r.gh, this.ref, input);
    return { prUrl: pr.prUrl, prNumber: pr.prNumber, headSha: pr.headSha, head: input.head, base: input.base, action: pr.outcome === 'created' ? ('created' as const) : ('existing' as const) };
  }

  /**
   * The PR, CI on its head and its reviews. With the head the task knows, everything is read at once
   * (one round trip); only if the head moved are its checks read again.
   */
  async observe(prNumber: number, reviewPolicy: 'require' | 'never_require', knownHead?: string | null) {
    const [{ data: pr }, guessed, feedback] = await Promise.all([
      this.r.gh.rest.pulls.get({ ...this.ref, pull_number: prNumber }),
      // CircleCI lists pipelines by branch, known once the PR is read: the guess is GitHub's checks alone.
      knownHead && this.ci.every((c) => c.provider === 'github_actions') ? this.ciOn({ sha: knownHead, branch: null }) : Promise.resolve(undefined),
      reviewFeedback(this.r.gh, this.ref, prNumber),
    ]);
    const headSha = pr.head.sha;
    const ci: CiState = guessed && guessed.headSha === headSha ? guessed : await this.ciOn({ sha: headSha, branch: pr.head.ref });
    const latest = feedback.reviews.filter((r) => r.state === 'APPROVED' || r.state === 'CHANGES_REQUESTED').at(-1);
    const outcome = feedback.decision === 'changes_requested' ? 'changes_requested' : reviewPolicy === 'never_require' ? 'not_required' : feedback.decision;
    const review: ReviewState = {
      outcome,
      reviewer: latest?.author ? { id: latest.author, role: 'reviewer' } : null,
      headSha,
      createdAt: latest?.submittedAt ?? null,
      comments: [
        ...feedback.reviews.filter((r) => r.body).map((r, i) => ({ id: `review_${i + 1}`, authorRole: 'reviewer', body: r.body, file: null, line: null })),
        ...feedback.comments.map((c, i) => ({ id: `comment_${i + 1}`, authorRole: 'reviewer', body: c.body, file: c.path, line: c.line })),
      ].slice(0, 100),
    };
    const mergeCommitSha = pr.merged ? (pr.merge_commit_sha ?? null) : null;
    return {
      headSha, ci, review, state: pr.state === 'closed' ? ('closed' as const) : ('open' as const), merged: Boolean(pr.merged),
      mergeCommitSha, mergeCommitUrl: mergeCommitSha ? `${pr.base.repo.html_url}/commit/${mergeCommitSha}` : null,
    };
  }

  async merge(input: { prNumber: number; expectedHeadSha: string; method: 'merge' | 'squash' | 'rebase'; title: string }) {
    try {
      const r = await mergePullRequest(this.r.gh, this.ref, { prNumber: input.prNumber, expectedHeadSha: input.expectedHeadSha, method: input.method, title: input.title });
      const { data: repo } = await this.r.gh.rest.repos.get(this.ref).catch(() => ({ data: { html_url: '' } }));
      return { mergeCommitSha: r.sha, mergeCommitUrl: `${repo.html_url || `https://github.com/${this.r.owner}/${this.r.repo}`}/commit/${r.sha}`, alreadyMerged: r.alreadyMerged };
    } catch (err) {
      if (err instanceof ProviderError && err.code === 'head_sha_mismatch') {
        const { data: pr } = await this.r.gh.rest.pulls.get({ ...this.ref, pull_number: input.prNumber });
        throw new ProviderRefusal('head_sha_mismatch', err.message, { expectedHeadSha: input.expectedHeadSha, currentHeadSha: pr.head.sha });
      }
      if (err instanceof ProviderError && err.code === 'not_mergeable') {
        const { data: pr } = await this.r.gh.rest.pulls.get({ ...this.ref, pull_number: input.prNumber });
        const code = pr.state === 'open' && pr.mergeable === false ? 'merge_conflict' : 'not_mergeable';
        throw new ProviderRefusal(code, err.message, { prNumber: input.prNumber, prUrl: pr.html_url });
      }
      throw err;
    }
  }

  /** Once per PR: a retry (the worker died after GitHub opened the revert) finds the revert PR it made. */
  async revert(prNumber: number) {
    const { data: pr } = await this.r.gh.rest.pulls.get({ ...this.ref, pull_number: prNumber });
    const reverts = await this.r.gh.paginate(this.r.gh.rest.pulls.list, { ...this.ref, state: 'all', per_page: 100 });
    const existing = reverts.find((p) => p.title === `Revert "${pr.title}"` && (p.body ?? '').includes(`#${prNumber}`));
    if (existing) return { prUrl: existing.html_url, prNumber: existing.number };
    return revertPullRequest(this.r.gh, this.ref, prNumber);
  }
}
