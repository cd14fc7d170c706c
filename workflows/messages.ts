/** The task workflow's message definitions, shared by the workflow and its callers. */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { CheckoutCmd, CloseCmd, CommentCmd, HeartbeatCmd, ReleaseCmd, UpdateCmd } from '../domain/commands.js';
import type { CloseoutReport } from '../domain/closeout.js';
import type { IssueState, NewComment } from '../domain/task.js';

export interface TaskResult {
  issue: IssueState;
  comment?: NewComment;
  closeout?: CloseoutReport;
}

export const checkoutUpdate = defineUpdate<TaskResult, [CheckoutCmd]>('checkout');
export const patchUpdate = defineUpdate<TaskResult, [UpdateCmd]>('update');
export const commentUpdate = defineUpdate<TaskResult, [CommentCmd]>('comment');
export const releaseUpdate = defineUpdate<TaskResult, [ReleaseCmd]>('release');
export const closeUpdate = defineUpdate<TaskResult, [CloseCmd]>('close');
export const heartbeatUpdate = defineUpdate<TaskResult, [HeartbeatCmd]>('heartbeat');

export const stateQuery = defineQuery<IssueState>('state');

export interface TaskWorkflowInput {
  state: IssueState;
  /** Results of recent updates by update id, so a retry after continue-as-new gets the same answer. */
  processed?: Array<[string, TaskResult]>;
  /** Writes the read model has not taken yet (the database was down); flushed before anything else. */
  outbox?: import('../domain/task.js').IssueWrite[];
  /** Continue-as-new after this many history events (tests set it small); Temporal's suggestion applies too. */
  continueAsNewAfterEvents?: number;
}
