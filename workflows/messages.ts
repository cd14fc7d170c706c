/**
 * The task workflow's contract: its workflow id and type, its messages, what they answer, and its
 * input. Shared by the workflow, the API, the activities and the tests.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RollbackCmd, ShipCmd, SubmitCmd, UpstreamIssue } from '../domain/delivery.js';
import type { ThreadCommentCmd } from '../domain/comments.js';
import type { LinearWriteCmd, LinearWriteResult } from '../domain/linear-sync.js';
import type { CollabMessage } from '../domain/collab.js';
import type { TaskEvent } from '../domain/events.js';
import type { PutDocumentCmd } from '../domain/documents.js';
import type { AdmitChildCmd } from '../domain/delegation.js';
import type { CreateInteractionCmd, ResolveInteractionCmd } from '../domain/interactions.js';
import type { Effect } from '../domain/effects.js';
import type { CheckoutCmd, CloseCmd, HeartbeatCmd, ReleaseCmd, UpdateCmd } from '../domain/commands.js';
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
  /** The comment the update made; `body` only when the workflow wrote it (submit, ship, rollback), not the caller. */
  comment?: CommentMeta & { body?: string };
  activity: ActivityEntry[];
  /** Ids of every entry made at `issue.version`. */
  keep: string[];
  /** Answered from the workflow's memory of an update id first seen in an earlier run: `issue` is today's state. */
  replayed?: true;
}

/** What the caller already knows, so the answer can leave it out. */
import type { OfferedAction } from '../domain/permissions.js';

export interface Known {
  /** The description version of the caller's copy of the issue. */
  knownDescriptionVersion?: number;
  /** The action of availableActions this request is: refused unless offered to the caller (domain/permissions.ts). */
  offered?: OfferedAction;
}

export interface RestoreCmd {
  actor: Actor;
}

export const checkoutUpdate = defineUpdate<TaskResult, [CheckoutCmd & Known]>('checkout');
export const patchUpdate = defineUpdate<TaskResult, [UpdateCmd & Known]>('update');
export const commentUpdate = defineUpdate<TaskResult, [ThreadCommentCmd & Known]>('comment');
export const releaseUpdate = defineUpdate<TaskResult, [ReleaseCmd & Known]>('release');
export const closeUpdate = defineUpdate<TaskResult, [CloseCmd & Known]>('close');
export const heartbeatUpdate = defineUpdate<TaskResult, [HeartbeatCmd & Known]>('heartbeat');
/** Only a run started by `admin restore` accepts it, once. */
export const restoreUpdate = defineUpdate<TaskResult, [RestoreCmd & Known]>('restore');

// ---- the delivery half (issue 7)
// Updates where the caller needs the answer (and a validator refuses without writing history);
// signals where nobody waits: an upstream edit, a provider event, "route again".

/** Submit: opens or reuses the PR (adapter_managed) or records artifacts; answers once it is recorded. */
export const submitUpdate = defineUpdate<TaskResult, [SubmitCmd & Known]>('submit');
/** Ship: merges with the head-SHA guard; the same key (update id) is one merge whatever the retries. */
export const shipUpdate = defineUpdate<TaskResult, [ShipCmd & Known]>('ship');
export const rollbackUpdate = defineUpdate<TaskResult, [RollbackCmd & Known]>('rollback');
/** AgentRail's Linear routes: a comment on, or a state move of, the task's Linear issue; `upstream` is Linear's answer (absent on a replay). */
export const linearWriteUpdate = defineUpdate<TaskResult & { upstream?: LinearWriteResult }, [LinearWriteCmd & Known]>('linearWrite');
/** Operator: decide routing again now (a manual assignment is never overridden). */
export const routeUpdate = defineUpdate<TaskResult, [{ actor: Actor } & Known]>('route');
/** Artifact mode: checks reported by any CI system for the current submission. */
export const reportChecksUpdate = defineUpdate<TaskResult, [{ actor: Actor; headSha?: string; checks: NonNullable<SubmitCmd['checks']> } & Known]>('reportChecks');
/** Artifact mode (or any operator): a review verdict on the current submission. */
export const reviewUpdate = defineUpdate<TaskResult, [{ actor: Actor; outcome: 'approved' | 'changes_requested'; comments: string[] } & Known]>('review');

/** The upstream issue changed (or intake saw it again): edits, close, reopen. */
export const upstreamSignal = defineSignal<[UpstreamIssue]>('upstream');
/** Something happened on the task's PR or head (webhook): look at the code host now. */
export const providerEventSignal = defineSignal<[{ kind: string; headSha?: string | null; deliveryId?: string }]>('providerEvent');
/** The company's routing rules changed: an unroutable task tries again. */
export const rerouteSignal = defineSignal<[]>('reroute');

// ---- collaboration (issue 8): documents, confirmations, and messages between task workflows

/** A document's new revision (its body already in Postgres, unpublished) becomes the latest, by the base the writer read. */
export const putDocumentUpdate = defineUpdate<TaskResult, [PutDocumentCmd & Known]>('putDocument');
/** A confirmation asked; the same idempotency key with the same body answers the existing one. */
export const createInteractionUpdate = defineUpdate<TaskResult, [CreateInteractionCmd & Known]>('createInteraction');
/** Accept, reject or withdraw: exactly one resolution wins. */
export const resolveInteractionUpdate = defineUpdate<TaskResult, [ResolveInteractionCmd & Known]>('resolveInteraction');
/** From another task's workflow: a child closed or reopened, a blocker done or not, a dependent came or went. */
/** Whether the parent takes one more child now (its plan gate and delegate offer, decided by its workflow). */
export const admitChildUpdate = defineUpdate<{ planRevisionId: string | null }, [AdmitChildCmd & Known]>('admitChild');
export const collabSignal = defineSignal<[CollabMessage]>('collab');

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
  /** Task events not written yet (absent in inputs recorded before events existed). */
  events?: TaskEvent[];
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
  /** Effects decided but not carried out yet (wakes, upstream comments), carried across continue-as-new. */
  effects?: Effect[];
}
