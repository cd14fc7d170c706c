/** CI and review, read compactly: what the agent needs instead of raw check logs and review threads. */
import type { GitHub } from './client.js';
import type { CiCheck, CiSummary, RepoRef, ReviewFeedback } from './types.js';

const FAILING_CONCLUSIONS = new Set(['failure', 'timed_out', 'cancelled', 'action_required', 'startup_failure', 'stale']);

/** Check runs (GitHub Actions) and commit statuses for one SHA, merged. No checks at all is pending. */
export async function ciSummary(gh: GitHub, ref: RepoRef, sha: string): Promise<CiSummary> {
  const [runs, combined] = await Promise.all([
    gh.paginate(gh.rest.checks.listForRef, { ...ref, ref: sha, per_page: 100 }),
    gh.rest.repos.getCombinedStatusForRef({ ...ref, ref: sha, per_page: 100 }),
  ]);
  const checks: CiCheck[] = [
    ...runs.map((r) => ({ id: r.id, name: r.name, source: 'check_run' as const, status: r.status, conclusion: r.conclusion ?? null, url: r.html_url ?? null })),
    ...combined.data.statuses.map((s) => ({
      name: s.context,
      source: 'status' as const,
      status: s.state === 'pending' ? 'pending' : 'completed',
      conclusion: s.state === 'pending' ? null : s.state,
      url: s.target_url ?? null,
    })),
  ];
  const failing = checks
    .filter((c) => (c.source === 'check_run' ? c.status === 'completed' && FAILING_CONCLUSIONS.has(c.conclusion ?? '') : c.conclusion === 'failure' || c.conclusion === 'error'))
    .map((c) => c.name);
  const state = checks.length === 0 ? 'pending' : failing.length > 0 ? 'failure' : checks.some((c) => c.status !== 'completed') ? 'pending' : 'success';
  return { state, headSha: sha, checks, failing };
}

/** Each reviewer's latest review decides, as on GitHub: a later approval overrides changes requested. */
export async function reviewFeedback(gh: GitHub, ref: RepoRef, prNumber: number): Promise<ReviewFeedback> {
  const [reviews, comments] = await Promise.all([
    gh.paginate(gh.rest.pulls.listReviews, { ...ref, pull_number: prNumber, per_page: 100 }),
    gh.paginate(gh.rest.pulls.listReviewComments, { ...ref, pull_number: prNumber, per_page: 100 }),
  ]);
  const latest = new Map<string, (typeof reviews)[number]>();
  const deciding = new Map<string, string>();
  for (const r of reviews) {
    const who = r.user?.login ?? `review-${r.id}`;
    latest.set(who, r);
    // Comments do not change a reviewer's verdict; a dismissal withdraws it.
    if (r.state === 'APPROVED' || r.state === 'CHANGES_REQUESTED') deciding.set(who, r.state);
    if (r.state === 'DISMISSED') deciding.delete(who);
  }
  const verdicts = [...deciding.values()];
  const decision = verdicts.includes('CHANGES_REQUESTED') ? 'changes_requested' : verdicts.includes('APPROVED') ? 'approved' : reviews.length === 0 ? 'pending' : 'review_required';
  return {
    decision,
    reviews: [...latest.values()].map((r) => ({ author: r.user?.login ?? null, state: r.state, submittedAt: r.submitted_at ?? null, body: r.body })),
    comments: comments.map((c) => ({ author: c.user?.login ?? null, path: c.path, line: c.line ?? null, body: c.body, url: c.html_url })),
  };
}
