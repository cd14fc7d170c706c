/**
 * What the read model has not confirmed yet. Updates do not wait for it (the API writes the read
 * model from their durable results); the projection activity drains it afterwards, so the read
 * model converges even when the API died before writing. One write carries the latest state and
 * every entry added since the last confirmed write: a burst of heartbeats costs one row write.
 */
import { fingerprintOf, snapshotOf, type ProjectionOutcome, type ProjectionWrite, type WorkflowStatus } from '../../domain/projection.js';
import type { TaskEvent } from '../../domain/events.js';
import type { ActivityEntry, IssueState, IssueWrite, NewComment } from '../../domain/task.js';
import type { PendingProjection } from '../messages.js';

/**
 * Past this much unconfirmed work (Postgres down for a long time) the task refuses new changes with
 * 503 database_unavailable instead of growing without bound: what continue-as-new carries must stay
 * well under Temporal's 2 MiB payload limit.
 */
export const MAX_PENDING_BYTES = 1_000_000;
export const MAX_PENDING_ENTRIES = 1_000;

export interface Taken {
  write: ProjectionWrite;
  comments: number;
  activity: number;
  events: number;
  bytes: number;
}

const sizeOf = (entry: NewComment | ActivityEntry | TaskEvent) => JSON.stringify(entry).length;

export class ProjectionOutbox {
  private comments: NewComment[];
  private activity: ActivityEntry[];
  /** Task events of the decisions not written yet (domain/events.ts), oldest first. */
  private events: TaskEvent[];
  private rowDirty: boolean;
  private descriptionDirty: boolean;
  /** The row was seen to hold a state this workflow does not have: replace it, whatever its version. */
  private repair = false;
  private pendingBytes: number;
  /** Every entry the workflow made after this version is pending; at or before it, confirmed. */
  private projectedVersion: number;

  /** `confirmedUpTo`: what to assume when the input does not say (never more than the state's version). */
  constructor(pending: PendingProjection | undefined, confirmedUpTo: number) {
    this.projectedVersion = pending?.projectedVersion ?? confirmedUpTo;
    this.comments = [...(pending?.comments ?? [])];
    this.activity = [...(pending?.activity ?? [])];
    this.events = [...(pending?.events ?? [])];
    this.rowDirty = pending?.rowDirty ?? false;
    this.descriptionDirty = pending?.descriptionDirty ?? false;
    this.pendingBytes = [...this.comments, ...this.activity, ...this.events].reduce((n, e) => n + sizeOf(e), 0);
  }

  get dirty(): boolean {
    return this.rowDirty || this.repair || this.comments.length > 0 || this.activity.length > 0 || this.events.length > 0;
  }

  /** Whether the task should refuse new changes until the read model catches up. */
  get full(): boolean {
    return this.pendingBytes > MAX_PENDING_BYTES || this.comments.length + this.activity.length > MAX_PENDING_ENTRIES;
  }

  add(write: IssueWrite, descriptionChanged: boolean, events: TaskEvent[] = []): void {
    this.comments.push(...write.comments);
    this.activity.push(...write.activity);
    this.events.push(...events);
    for (const e of [...write.comments, ...write.activity, ...events]) this.pendingBytes += sizeOf(e);
    this.rowDirty = true;
    if (descriptionChanged) this.descriptionDirty = true;
  }

  take(state: IssueState, keep: string[], workflowStatus: WorkflowStatus): Taken {
    const comments = [...this.comments];
    const activity = [...this.activity];
    const events = [...this.events];
    const withDescription = this.descriptionDirty || this.repair;
    const write: ProjectionWrite = {
      issue: snapshotOf(state, withDescription),
      fingerprint: fingerprintOf(state),
      comments,
      activity,
      ...(events.length ? { events } : {}),
      // Only what this run knows for sure: with entries pending from before its own last confirmed write
      // (carried in from elsewhere), it makes no claim below the oldest of them.
      keep: [...keep],
      coversFrom: Math.min(this.projectedVersion, ...comments.map((c) => c.version - 1), ...activity.map((a) => a.version - 1)),
      workflowStatus,
      ...(this.repair ? { force: true } : {}),
    };
    return { write, comments: comments.length, activity: activity.length, events: events.length, bytes: this.pendingBytes };
  }

  /** The write landed (or Postgres refused it for good and it was recorded): forget what it carried. */
  settle(taken: Taken, state: IssueState): void {
    this.comments.splice(0, taken.comments);
    this.activity.splice(0, taken.activity);
    this.events.splice(0, taken.events);
    this.pendingBytes = [...this.comments, ...this.activity, ...this.events].reduce((n, e) => n + sizeOf(e), 0);
    const { issue } = taken.write;
    this.projectedVersion = Math.max(this.projectedVersion, issue.version);
    if (issue.version === state.version) this.rowDirty = false;
    if ('description' in issue && issue.descriptionVersion === state.descriptionVersion) this.descriptionDirty = false;
    if (taken.write.force) this.repair = false;
  }

  /**
   * What the row holds after the write, against the workflow's state now: a row that claims a later
   * version, or this version with another fingerprint, came from history this workflow does not have.
   */
  check(outcome: ProjectionOutcome, state: IssueState): void {
    if (outcome.outcome === 'needs_snapshot') {
      this.rowDirty = true;
      this.descriptionDirty = true;
      return;
    }
    const ahead = outcome.version !== null && outcome.version > state.version;
    const forked = outcome.version === state.version && outcome.fingerprint !== fingerprintOf(state);
    if (ahead || forked) this.repair = true;
  }

  carry(): PendingProjection {
    return {
      comments: [...this.comments],
      activity: [...this.activity],
      ...(this.events.length ? { events: [...this.events] } : {}),
      rowDirty: this.rowDirty || this.repair,
      descriptionDirty: this.descriptionDirty || this.repair,
      projectedVersion: this.projectedVersion,
    };
  }

  pending(): { comments: NewComment[]; activity: ActivityEntry[]; projectedVersion: number } {
    return { comments: [...this.comments], activity: [...this.activity], projectedVersion: this.projectedVersion };
  }
}
