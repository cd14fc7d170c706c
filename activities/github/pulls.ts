/** Submit (create or reuse the PR for a branch), merge with GitHub's head-SHA guard, and revert. */
import type { GitHub } from './client.js';
import { ProviderError, type MergeResult, type RepoRef, type SubmitResult } from './types.js';

const statusOf = (err: unknown) => (err as { status?: number })?.status;

async function openPullFor(gh: GitHub, ref: RepoRef, branch: string, base: string) {
  const { data } = await gh.rest.pulls.list({ ...ref, state: 'open', head: `${ref.owner}:${branch}`, base, per_page: 1 });
  return data[0];
}

/**
 * The open PR for `head`, created if there is none. Two submits racing for one branch end with one PR:
 * the loser's create is refused by GitHub (422 "already exists") and it reuses the winner's.
 */
export async function submitPullRequest(gh: GitHub, ref: RepoRef, input: { head: string; base: string; title: string; body?: string }): Promise<SubmitResult> {
  const existing = await openPullFor(gh, ref, input.head, input.base);
  if (existing) return { prUrl: existing.html_url, prNumber: existing.number, headSha: existing.head.sha, outcome: 'reused' };
  try {
    const { data } = await gh.rest.pulls.create({ ...ref, head: input.head, base: input.base, title: input.title, body: input.body });
    return { prUrl: data.html_url, prNumber: data.number, headSha: data.head.sha, outcome: 'created' };
  } catch (err) {
    if (statusOf(err) === 422) {
      const raced = await openPullFor(gh, ref, input.head, input.base);
      if (raced) return { prUrl: raced.html_url, prNumber: raced.number, headSha: raced.head.sha, outcome: 'reused' };
      // GitHub's "Validation Failed" {field: head|base, code: invalid}: a branch that is not there (yet).
      const missing = invalidFields(err).find((f) => f === 'head' || f === 'base');
      if (missing) {
        const branch = missing === 'head' ? input.head : input.base;
        throw new ProviderError('branch_not_found', `The ${missing === 'head' ? 'branch' : 'base branch'} "${branch}" is not in ${ref.owner}/${ref.repo}: push it, then submit again`, 422);
      }
    }
    throw err;
  }
}

/**
 * Merges only if the head is still `expectedHeadSha` (GitHub checks `sha` itself): 409 → head_sha_mismatch,
 * 405 → not_mergeable, and a PR already merged at that head → the same success again.
 */
export async function mergePullRequest(gh: GitHub, ref: RepoRef, input: { prNumber: number; expectedHeadSha: string; method?: 'merge' | 'squash' | 'rebase'; title?: string }): Promise<MergeResult> {
  try {
    const { data } = await gh.rest.pulls.merge({ ...ref, pull_number: input.prNumber, sha: input.expectedHeadSha, merge_method: input.method ?? 'squash', commit_title: input.title });
    return { merged: true, sha: data.sha, alreadyMerged: false };
  } catch (err) {
    const status = statusOf(err);
    if (status === 409) throw new ProviderError('head_sha_mismatch', `PR #${input.prNumber}: the head moved from ${input.expectedHeadSha}; re-verify before merging`, 409);
    if (status === 405) {
      const { data: pr } = await gh.rest.pulls.get({ ...ref, pull_number: input.prNumber });
      if (pr.merged && pr.merge_commit_sha) {
        if (pr.head.sha !== input.expectedHeadSha) throw new ProviderError('head_sha_mismatch', `PR #${input.prNumber} was merged at ${pr.head.sha}, not ${input.expectedHeadSha}`, 409);
        return { merged: true, sha: pr.merge_commit_sha, alreadyMerged: true };
      }
      throw new ProviderError('not_mergeable', `PR #${input.prNumber} is not mergeable (${(err as Error).message})`, 405);
    }
    if (status === 404) throw new ProviderError('not_found', `PR #${input.prNumber} not found`, 404);
    throw err;
  }
}

const REVERT = `mutation($pullRequestId: ID!) {
  revertPullRequest(input: { pullRequestId: $pullRequestId }) { revertPullRequest { number url } }
}`;

/** GitHub has no REST revert: GraphQL `revertPullRequest` opens a PR that undoes a merged one. */
export async function revertPullRequest(gh: GitHub, ref: RepoRef, prNumber: number): Promise<{ prUrl: string; prNumber: number }> {
  const { data: pr } = await gh.rest.pulls.get({ ...ref, pull_number: prNumber });
  try {
    const res = await gh.graphql<{ revertPullRequest: { revertPullRequest: { number: number; url: string } } | null }>(REVERT, { pullRequestId: pr.node_id });
    const revert = res.revertPullRequest?.revertPullRequest;
    if (!revert) throw new ProviderError('revert_failed', `GitHub did not revert PR #${prNumber}`);
    return { prUrl: revert.url, prNumber: revert.number };
  } catch (err) {
    if (err instanceof ProviderError) throw err;
    throw new ProviderError('revert_failed', `revert of PR #${prNumber} failed: ${(err as Error).message}`);
  }
}

/** A comment on an issue or a pull request (same numbering on GitHub). */
export async function commentOn(gh: GitHub, ref: RepoRef, number: number, body: string): Promise<{ id: number; url: string }> {
  const { data } = await gh.rest.issues.createComment({ ...ref, issue_number: number, body });
  return { id: data.id, url: data.html_url };
}

/** The fields a 422 "Validation Failed" names as invalid. */
function invalidFields(err: unknown): string[] {
  const errors = (err as { response?: { data?: { errors?: unknown } } })?.response?.data?.errors;
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((e) => (e && typeof e === 'object' && (e as { code?: unknown }).code === 'invalid' && typeof (e as { field?: unknown }).field === 'string' ? [(e as { field: string }).field] : []));
}
