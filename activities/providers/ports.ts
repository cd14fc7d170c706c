/**
 * The roles a provider plays for a task, in neutral terms: where issues come from (intake), where code
 * is reviewed and merged (code host), what CI says of a head (CI). GitHub plays all three today; Linear
 * (intake) and CircleCI (CI) plug in behind the same ports. Adapters throw ProviderRefusal for verdicts; anything else is "try again".
 */
import type { ErrorCode } from '../../domain/errors.js';
import type { OpenedPull, Observation, UpstreamIssue } from '../../domain/delivery.js';
import type { CiState } from '../../domain/lifecycle.js';

export interface Candidate extends UpstreamIssue {
  /** `github:<owner>/<repo>#<number>`. */
  key: string;
  number: number;
  updatedAt: string;
}

export interface IntakePort {
  listChangedSince(cursor: string | null): Promise<{ candidates: Candidate[]; cursor: string | null }>;
  comment(number: number, body: string): Promise<void>;
  setState(number: number, state: 'open' | 'closed'): Promise<void>;
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
  /** Every check CI runs on `headSha`, mapped to our statuses, with the failures summarised. */
  summary(headSha: string): Promise<CiState>;
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
