/** What the provider layer hands the task workflow: small domain objects, never raw GitHub payloads. */

export interface RepoRef {
  owner: string;
  repo: string;
}

export interface TaskCandidate {
  /** Stable across polls and webhooks: `github:<owner>/<repo>#<number>`. */
  id: string;
  source: {
    provider: 'github';
    repo: string;
    number: number;
    url: string;
    title: string;
    body: string | null;
    labels: string[];
    assignees: string[];
    author: string | null;
    state: 'open' | 'closed';
    updatedAt: string;
  };
}

export interface SubmitResult {
  prUrl: string;
  prNumber: number;
  headSha: string;
  outcome: 'created' | 'reused';
}

export interface CiCheck {
  /** The check run's id (an Actions job's id too): what a re-run names. */
  id?: number;
  name: string;
  source: 'check_run' | 'status';
  status: string;
  conclusion: string | null;
  url: string | null;
}

export interface CiSummary {
  state: 'pending' | 'success' | 'failure';
  headSha: string;
  checks: CiCheck[];
  failing: string[];
}

export interface ReviewFeedback {
  /** pending: nobody reviewed yet; review_required: reviews but no approval and no change request. */
  decision: 'approved' | 'changes_requested' | 'review_required' | 'pending';
  reviews: Array<{ author: string | null; state: string; submittedAt: string | null; body: string }>;
  comments: Array<{ author: string | null; path: string; line: number | null; body: string; url: string }>;
}

export interface MergeResult {
  merged: true;
  sha: string;
  /** The PR was merged already (by an earlier attempt): the same success again. */
  alreadyMerged: boolean;
}

export type ProviderErrorCode = 'head_sha_mismatch' | 'not_mergeable' | 'branch_not_found' | 'not_found' | 'revert_failed' | 'signature_missing' | 'signature_invalid' | 'bad_payload' | 'invalid_payload';

/** A refusal the workflow can act on (re-verify, re-submit, surface), with GitHub's own message. */
export class ProviderError extends Error {
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}
