/**
 * The task workflow's contract: its workflow id and type, its messages, what they answer, and its
 * input. Shared by the workflow, the API, the activities and the tests.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { CheckoutCmd, CloseCmd, CommentCmd, HeartbeatCmd, ReleaseCmd, UpdateCmd } from '../domain/commands.js';
import type { IssueSnapshot } from '../domain/projection.js';
import type { ActivityEntry, Actor, IssueState, NewComment } from '../domain/task.js';

/** Every task is the workflow with this id, whatever started it (the API, intake, a restore). */
export const workflowIdFor = (issueId: string) => `issue/${issueId}`;
export const TASK_WORKFLOW_TYPE = 'taskWorkflow';

/** A comment as an update reports it: everything but the body, which the caller sent. */
export type CommentMeta = Omit<NewComment, 'body'>;

/**
 * What every task Update answers: one durable decision, complete enough for the caller to write the
 * read model from it (the caller adds the comment body it sent, and the description it read when the
 * description did not change since). Small by design: the history keeps one per update.
 */
export interface TaskResult {
  /** The state at this decision's version; `description` only if it changed after the caller's copy. */
  issue: IssueSnapshot;
  fingerprint: string;
  comment?: CommentMeta;
  activity: ActivityEntry[];
  /** Ids of every entry made at `issue.version`. */
  keep: string[];
  /** Answered from the workflow's memory of an update id first seen in an earlier run: `issue` is today's state. */
  replayed?: true;
}

/** What the caller already knows, so the answer can leave it out. */
export interface Known {
  /** The description version of the caller's copy of the issue. */
  knownDescriptionVersion?: number;
}

export interface RestoreCmd {
  actor: Actor;
}

export const checkoutUpdate = defineUpdate<TaskResult, [CheckoutCmd & Known]>('checkout');
export const patchUpdate = defineUpdate<TaskResult, [UpdateCmd & Known]>('update');
export const commentUpdate = defineUpdate<TaskResult, [CommentCmd & Known]>('comment');
export const releaseUpdate = defineUpdate<TaskResult, [ReleaseCmd & Known]>('release');
export const closeUpdate = defineUpdate<TaskResult, [CloseCmd & Known]>('close');
export const heartbeatUpdate = defineUpdate<TaskResult, [HeartbeatCmd & Known]>('heartbeat');
/** Only a run started by `admin restore` accepts it, once. */
export const restoreUpdate = defineUpdate<TaskResult, [RestoreCmd & Known]>('restore');

export const stateQuery = defineQuery<IssueState>('state');

/** Everything the read model should hold, for the reconciler and for `admin restore`. */
export interface TaskProjection {
  state: IssueState;
  fingerprint: string;
  keep: string[];
  /** Entries the projection activity has not confirmed yet, and the version up to which it has. */
  pending: { comments: NewComment[]; activity: ActivityEntry[] };
  projectedVersion: number;
}
export const projectionQuery = defineQuery<TaskProjection>('projection');

/** The short form an update id is remembered in across continue-as-new. */
export interface MemoEntry {
  version: number;
  comment?: CommentMeta;
}

/** Read-model work not done yet, carried across continue-as-new. */
export interface PendingProjection {
  comments: NewComment[];
  activity: ActivityEntry[];
  /** The row must be written (the state changed since the last confirmed write). */
  rowDirty: boolean;
  /** The next write must carry the description. */
  descriptionDirty: boolean;
  /** The snapshot version of the last write the projection confirmed (every later entry is pending). */
  projectedVersion?: number;
}

export interface TaskWorkflowInput {
  state: IssueState;
  pending?: PendingProjection;
  memo?: Array<[string, MemoEntry]>;
  /** Ids of the entries made at `state.version`. */
  keep?: string[];
  /** Set by `admin restore`: the run this one carries on from. */
  restoring?: { fromRunId: string; workflowStatus: string };
  /** A v1 run was asked to cancel while it handed over: cancel at once. */
  cancelRequested?: boolean;
  /** Continue-as-new after this many history events (tests set it small); Temporal's suggestion applies too. */
  continueAsNewAfterEvents?: number;
}
