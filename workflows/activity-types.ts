/** The activities the workflows call, as the workflows see them; `activities/` implements them. */
import type { ProjectionOutcome, ProjectionWrite } from '../domain/projection.js';
import type { IssueWrite } from '../domain/task.js';

export interface CancelRequest {
  /** Who asked (the Web UI, `temporal workflow cancel`, an SDK client), as Temporal recorded it. */
  identity: string | null;
  reason: string | null;
}

export interface TaskActivities {
  /** Applies one write to the read model; a refusal Postgres would repeat forever fails as non-retryable `projection_rejected`. */
  projectIssue(write: ProjectionWrite): Promise<ProjectionOutcome>;
  /** Reads who requested this workflow's cancellation from its history. */
  describeCancelRequest(workflowId: string, runId: string): Promise<CancelRequest>;
}

/** The v1 workflow's write activity (frozen name and shape). */
export interface LegacyDbActivities {
  persistIssueWrites(writes: IssueWrite[]): Promise<void>;
}

export const PROJECTION_REJECTED = 'projection_rejected';

export interface ReconcileOptions {
  /** Issues changed within this many minutes are compared (plus every one with a known problem). */
  sinceMinutes: number;
  /** Compare every issue. */
  all?: boolean;
}

export interface Difference {
  issueId: string;
  readModel: { version: number; status: string; workflowStatus: string };
  workflow: { version: number | null; status: string | null; workflowStatus: string };
  action: 'repaired' | 'marked_closed' | 'failed';
  error?: string;
}

export interface ReconcileReport {
  checked: number;
  differences: Difference[];
  /** Writes Postgres refused for good that are still unresolved after this pass. */
  openFailures: Array<{ issueId: string; version: number; code: string | null; message: string }>;
}

export interface ReconcileActivities {
  reconcileIssues(opts: ReconcileOptions): Promise<ReconcileReport>;
}

/** The routing decision's input, read from Postgres (the decision itself is domain/routing.ts). */
export interface RoutingContext {
  rules: import('../domain/routing.js').RoutingRule[];
  openTasks: Record<string, number>;
  assignedByRule: Record<string, number>;
}

/** What the routeTask activity decides on: the task's routing facts, the decision's id and time (from the workflow). */
export interface RouteTaskInput {
  companyId: string;
  taskId: string;
  task: import('../domain/routing.js').RoutedTask;
  decisionId: string;
  now: string;
}

/**
 * The delivery activities: provider calls through the neutral ports, keyed by source id (credentials
 * are loaded inside the activity and never enter the workflow). A provider's verdict fails as a
 * non-retryable ApplicationFailure whose type is our error code; outages are retried.
 */
export interface DeliveryActivities {
  routingContext(companyId: string): Promise<RoutingContext>;
  /** The routing decision taken and recorded under the company's lock (activities/routing.ts); runs since routing-ledger-v1. */
  routeTask(input: RouteTaskInput): Promise<import('../domain/routing.js').RoutingDecision>;
  openPullRequest(input: { sourceId: string; taskId?: string; head: string; base?: string; title: string; body: string; draft?: boolean }): Promise<import('../domain/delivery.js').OpenedPull>;
  observePullRequest(input: { sourceId: string; prNumber: number; reviewPolicy: 'require' | 'never_require'; knownHead?: string | null }): Promise<import('../domain/delivery.js').Observation>;
  mergePullRequest(input: { sourceId: string; prNumber: number; expectedHeadSha: string; method: 'merge' | 'squash' | 'rebase'; title: string }): Promise<{ mergeCommitSha: string; mergeCommitUrl: string; alreadyMerged: boolean }>;
  revertPullRequest(input: { sourceId: string; prNumber: number }): Promise<{ prUrl: string; prNumber: number }>;
  /** `key`: the upstream issue's key (Linear addresses an issue by the uuid in it); absent in runs recorded before issue 14. */
  upstreamEffect(input: { sourceId: string; number: number; key?: string; effect: import('../domain/effects.js').Effect }): Promise<void>;
  /** A comment on, or a state move of, a Linear task's issue (through the task's Linear source). */
  linearWrite(input: { sourceId: string; linearIssueId: string; write: import('../domain/linear-sync.js').LinearWrite; mayClose?: boolean }): Promise<import('../domain/linear-sync.js').LinearWriteResult>;
  /** The failed checks on a PR's head re-run once in each of its CI systems (nothing when the head moved). */
  rerunFailedChecks(input: { sourceId: string; prNumber: number; headSha: string }): Promise<{ rerun: string[] }>;
  wakeAgent(input: { wakeId: string; companyId: string; issueId: string; agentId: string; reason: string; summary: string; commentId?: string; details?: Record<string, unknown> }): Promise<{ delivered: 'http' | 'process' | 'queued' }>;
}

export interface IntakeReport {
  sourceId: string;
  skipped?: 'paused' | 'deleted';
  found: number;
  admitted: Array<{ key: string; issueId: string; identifier: string; created: boolean }>;
  filteredOut: number;
  cursor: string | null;
}

export interface IntakeActivities {
  pollSource(sourceId: string): Promise<IntakeReport>;
}
