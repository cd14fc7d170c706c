/**
 * The task workflow's first contract (frozen): kept only so runs started before the projection
 * redesign replay, and so the API understands the one answer such a run gives before it upgrades.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { CloseoutReport } from '../../domain/closeout.js';
import type { IssueState, IssueWrite, NewComment } from '../../domain/task.js';

export interface LegacyTaskResult {
  issue: IssueState;
  comment?: NewComment;
  closeout?: CloseoutReport;
}

export interface LegacyTaskWorkflowInput {
  state: IssueState;
  processed?: Array<[string, LegacyTaskResult]>;
  outbox?: IssueWrite[];
  continueAsNewAfterEvents?: number;
}

// The same message names as today's contract: only the shapes of the answers differ.
export const checkoutUpdate = defineUpdate<LegacyTaskResult, [never]>('checkout');
export const patchUpdate = defineUpdate<LegacyTaskResult, [never]>('update');
export const commentUpdate = defineUpdate<LegacyTaskResult, [never]>('comment');
export const releaseUpdate = defineUpdate<LegacyTaskResult, [never]>('release');
export const closeUpdate = defineUpdate<LegacyTaskResult, [never]>('close');
export const heartbeatUpdate = defineUpdate<LegacyTaskResult, [never]>('heartbeat');
export const stateQuery = defineQuery<IssueState>('state');
