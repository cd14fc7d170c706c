/**
 * The roles a provider plays for a task, in neutral terms: where issues come from (intake), where code
 * is reviewed and merged (code host), what CI says of a head (CI). GitHub plays all three today; Linear
 * (intake) and CircleCI (CI) plug in behind the same ports. Adapters throw ProviderRefusal for verdicts; anything else is "try again".
 */
import type { ErrorCode } from '../../domain/errors.js';
import type { OpenedPull, Observation, UpstreamIssue } from '../../domain/delivery.js';
import type { CiState } from '../../domain/lifecycle.js';

export interface Candidate extends UpstreamIssue {
  /** The provider's immutable key: `github:<owner>/<repo>#<number>`, `linear:<issue uuid>`. */
  key: string;
  /** GitHub's issue number; Linear's per-team issue number (the 42 of `ENG-42`). */
  number: number;
  updatedAt: string;
  /** The tracker's display identifier when it has one (`ENG-42`; it changes when the issue moves team). */
  identifier?: string;
  /** 1 urgent … 4 low, as the tracker sets it (Linear; 0 or absent: none). */
  priority?: number;
  /** The tracker's own workflow state, when it has more than open/closed (Linear). */
  workflowState?: { id: string; name: string; type: string };
}

/** An upstream issue as write-back addresses it: its key (Linear's uuid is in it) and number (GitHub's). */
export interface UpstreamRef {
  key: string;
  number: number;
}

/** `cancelled`: the tracker's cancelled state (Linear; GitHub closes as not planned). */
export type UpstreamStateChange = 'open' | 'closed' | 'cancelled';

export interface IntakePort {
  listChangedSince(cursor: string | null): Promise<{ candidates: Candidate[]; cursor: string | null }>;
  comment(ref: UpstreamRef, body: string): Promise<void>;
  setState(ref: UpstreamRef, state: UpstreamStateChange): Promise<void>;
}

/** The head a CI system is asked about: its SHA, and its branch (CircleCI lists pipelines by branch). */
export interface CiHead {
  sha: string;
  branch: string | null;
}

export interface CodeHostPort {
  defaultBranch(): Promise<string>;
  openPullRequest(input: { head: string; base: string; title: string; body: string; draft?: boolean }): Promise<OpenedPull>;
  observe(prNumber: number, reviewPolicy: 'require' | 'never_require', knownHead?: string | null): Promise<Observation>;
  merge(input: { prNumber: number; expectedHeadSha: string; method: 'merge' | 'squash' | 'rebase'; title: string }): Promise<{ mergeCommitSha: string; mergeCommitUrl: string; alreadyMerged: boolean }>;
  revert(prNumber: number): Promise<{ prUrl: string; prNumber: number }>;
}

export interface CIPort {
  readonly provider: 'github_actions' | 'circleci';
  /** Every check CI runs on the head, mapped to our statuses (each check names this provider), with the failures summarised. */
  summary(head: CiHead): Promise<CiState>;
  /** Re-runs the failed jobs on the head once (GitHub: the job's re-run; CircleCI: `rerun` `from_failed`); answers the checks re-run. */
  rerunFailed(head: CiHead): Promise<{ rerun: string[] }>;
}

/** A provider's verdict (never retried), in our error vocabulary. */
export class ProviderRefusal extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ProviderRefusal';
  }
}
