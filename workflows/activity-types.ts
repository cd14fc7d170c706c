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
