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
