/**
 * The delivery half of a task's life: where it came from (its upstream source), how it was routed,
 * what was submitted, what CI and review said about the current head, and whether it shipped. Plain
 * JSON inside IssueState (field `lifecycle`), so it crosses Temporal and continue-as-new intact.
 * Tasks created before this existed have no `lifecycle`; every rule treats that as "no source".
 */
import type { Priority } from './statuses.js';
import type { IssueState } from './task.js';

/** Explicit stage of the whole life; `status` stays the seed's vocabulary. */
export const STAGES = [
  'intake', 'routing', 'assigned', 'working', 'submitted', 'ci', 'review', 'ready_to_ship', 'shipped', 'rolled_back',
  'blocked', 'paused', 'done', 'cancelled',
] as const;
export type Stage = (typeof STAGES)[number];

export type ReviewPolicy = 'require' | 'never_require';

/** The upstream issue a task was taken in from (never a credential: those stay in Postgres, by source id). */
export interface TaskSource {
  sourceId: string;
  provider: 'github' | 'linear';
  /** `github:<owner>/<repo>#<number>` or `linear:<issue uuid>`: one task per key. */
  key: string;
  /** Linear: the GitHub source the work is delivered through (owner/repo below are its repository). */
  deliverySourceId?: string;
  /** Linear: the issue's identifier as shown (`ENG-42`; it changes when the issue moves team) and its own workflow state. */
  identifier?: string;
  workflowState?: { id: string; name: string; type: string };
  /** Linear: the issue's priority (in ours) as last seen; the task follows it when it changes there. */
  trackerPriority?: Priority | null;
  owner: string;
  repo: string;
  number: number;
  url: string;
  labels: string[];
  state: 'open' | 'closed';
  reviewPolicy: ReviewPolicy;
  defaultBranch: string | null;
  /** The upstream issue's `updated_at` as last applied: an older event arriving late changes nothing. */
  updatedAt?: string;
}

export interface RoutingRecord {
  state: 'pending' | 'routed' | 'unroutable' | 'manual';
  decisionId: string | null;
  assignmentSource: 'deterministic_rule' | 'manual' | null;
  reason: {
    summary: string;
    matchedRules: Array<{ id: string; name: string }>;
    strategy: 'single' | 'round_robin' | 'least_loaded' | null;
    candidates: string[];
  } | null;
  decidedAt: string | null;
}

export type CiOverall = 'queued' | 'running' | 'passed' | 'failed' | 'cancelled';
export type CheckStatus = 'queued' | 'running' | 'passed' | 'failed' | 'cancelled' | 'skipped';

export interface CheckView {
  name: string;
  workflow: string | null;
  status: CheckStatus;
  url: string | null;
  durationSeconds: number | null;
  /** The CI system that ran it (absent on checks recorded before issue 14, and on checks an agent reported). */
  provider?: 'github_actions' | 'circleci';
  /** 2 and up for a re-run attempt of the same job on the same head. */
  attempt?: number;
}

export interface FlakyHint {
  checkName: string;
  confidence: 'low' | 'medium' | 'high';
  reason: string;
}

export interface CiState {
  headSha: string | null;
  overallStatus: CiOverall;
  checks: CheckView[];
  failureSummaries: Array<{ checkName: string; message: string; testName?: string; file?: string | null; line?: number | null }>;
  /** Failing checks that look flaky, and why (README "Flaky CI"); absent on states recorded before issue 14. */
  flakyHints?: FlakyHint[];
  updatedAt: string;
}

export type ReviewOutcome = 'approved' | 'changes_requested' | 'review_required' | 'not_required' | 'pending';

export interface ReviewState {
  outcome: ReviewOutcome;
  reviewer: { id: string; role: string } | null;
  headSha: string | null;
  createdAt: string | null;
  comments: Array<{ id: string; authorRole: string; body: string; file: string | null; line: number | null }>;
}

export interface Artifact {
  type: 'pull_request' | 'commit' | 'doc' | 'ci_run' | 'other';
  url: string;
}

export interface Delivery {
  submissionId: string;
  /** How many submits this task has had (the fix loop submits again). */
  submissions: number;
  mode: 'adapter_managed' | 'artifact';
  summary: string;
  notes: string | null;
  submittedAt: string;
  prUrl: string | null;
  prNumber: number | null;
  head: string | null;
  base: string | null;
  headSha: string | null;
  /** The head when it was submitted: a later head (a fix pushed) may be submitted again. */
  submittedHeadSha?: string | null;
  /** What the submit did on the code host: opened a PR, found the open one, or (artifact mode) recorded what it was told. */
  action: 'created' | 'existing' | 'accepted';
  artifacts: Artifact[];
  ci: CiState;
  review: ReviewState;
  ship: {
    operationId: string; mergeCommitSha: string | null; mergeCommitUrl: string | null; method: string; shippedAt: string;
    /** What an AgentRail client asked for (absent: not said). Nothing is deployed either way. */
    mode?: 'merge_only' | 'merge_and_deploy'; targetEnvironment?: 'staging' | 'production';
  } | null;
  rollback: { prUrl: string | null; prNumber: number | null; reason: string; at: string } | null;
  /** The automatic re-run of a flaky-looking failure (domain/flaky.ts): at most one per head SHA. */
  autoRerun?: { headSha: string; checks: string[]; reason: string; at: string; /** Its outcome not yet seen. */ pending?: boolean } | null;
}

export interface Lifecycle {
  stage: Stage;
  source: TaskSource | null;
  routing: RoutingRecord | null;
  delivery: Delivery | null;
  /** A routing rule may set the task's priority; kept so re-routing does not forget who set it. */
  routedPriority?: Priority | null;
}

/** CI failed or changes were requested on the current head: the agent has fixing to do. */
export function needsFix(d: Delivery | null): boolean {
  return !!d && !d.ship && (d.ci.overallStatus === 'failed' || d.ci.overallStatus === 'cancelled' || d.review.outcome === 'changes_requested');
}

/** In review, a new submission is for a fix: CI or review asked for one, or a new head was pushed since the last submit. */
export function resubmittable(d: Delivery | null): boolean {
  if (!d || d.ship) return false;
  return needsFix(d) || (d.submittedHeadSha !== undefined && d.headSha !== d.submittedHeadSha);
}

/** Every ship condition of seed 004 but the caller's: CI passed on the current head, review approved or not required. */
export function shipReady(d: Delivery | null): boolean {
  if (!d || d.ship) return false;
  const ciOk = d.ci.overallStatus === 'passed' && d.ci.headSha === d.headSha;
  const reviewOk = d.review.outcome === 'not_required' || (d.review.outcome === 'approved' && (d.review.headSha === null || d.review.headSha === d.headSha));
  return ciOk && reviewOk;
}

/** The stage follows from the rest of the state; the workflow stores it so the Web UI and the API can filter on it. */
export function stageOf(s: Pick<IssueState, 'status' | 'assigneeAgentId' | 'lifecycle'>): Stage {
  const l = s.lifecycle;
  const d = l?.delivery ?? null;
  switch (s.status) {
    case 'done':
      return d?.ship ? 'shipped' : 'done';
    case 'cancelled':
    case 'blocked':
    case 'paused':
      return s.status;
    case 'in_progress':
      return 'working';
    case 'in_review':
      if (!d) return 'submitted';
      if (needsFix(d)) return 'working';
      if (shipReady(d)) return 'ready_to_ship';
      if (d.ci.overallStatus === 'passed') return 'review';
      return d.ci.updatedAt === d.submittedAt && d.ci.checks.length === 0 ? 'submitted' : 'ci';
    default:
      if (d?.rollback) return 'rolled_back';
      if (s.assigneeAgentId) return 'assigned';
      if (l?.routing && l.routing.state !== 'routed') return 'routing';
      return l?.source ? 'intake' : 'routing';
  }
}
