/**
 * The task's main loop: a durable lease timer, continue-as-new, and what an operator's "Request
 * Cancellation" in the Temporal Web UI means here: cancel the task, say so in its log, write the read
 * model, and end the workflow cleanly.
 */
import {
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import * as rules from '../../domain/commands.js';
import type { TaskActivities } from '../activity-types.js';
import type { TaskWorkflowInput } from '../messages.js';
import { deliverNotices } from './collab.js';
import { decisionCtx, type TaskRun } from './run.js';

const { describeCancelRequest } = proxyActivities<TaskActivities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 3 } });

const ctx = decisionCtx;

/** Runs until continue-as-new (which ends the run) or cancellation (carried out, then rethrown). */
export async function lifecycle(run: TaskRun, cancelRequested: boolean): Promise<void> {
  if (cancelRequested) return CancellationScope.nonCancellable(() => cancelTask(run));
  try {
    await leasesAndContinuation(run);
  } catch (err) {
    if (!isCancellation(err)) throw err;
    await CancellationScope.nonCancellable(() => cancelTask(run));
    throw err; // the workflow ends as Canceled
  }
}

async function leasesAndContinuation(run: TaskRun): Promise<never> {
  const threshold = run.input.continueAsNewAfterEvents;
  const shouldContinueAsNew = () =>
    workflowInfo().continueAsNewSuggested || (threshold !== undefined && workflowInfo().historyLength >= threshold);
  for (;;) {
    const checkout = run.state.checkout;
    const wake = () => run.changed || shouldContinueAsNew();
    const woken = checkout ? await condition(wake, Math.max(Date.parse(checkout.leaseExpiresAt) - Date.now(), 1)) : (await condition(wake), true);
    run.changed = false;
    if (!woken && rules.leaseExpired(run.state, Date.now())) run.commit(rules.applyLeaseExpiry(run.state, ctx()).write);
    if (shouldContinueAsNew()) {
      // An effect or provider call in flight finishes first: abandoned, its next run would do it again
      // (a second upstream comment, a second agent process).
      run.drainingEffects = true;
      await condition(() => allHandlersFinished() && !run.providerBusy && run.runningEffects.size === 0 && run.deferredUpstream === undefined);
      run.publishSearchAttributes();
      // Unconfirmed read-model work travels with the state; an activity still running is abandoned (its write is idempotent).
      await continueAsNew<(input: TaskWorkflowInput) => Promise<void>>(run.carryOver());
    }
  }
}

async function cancelTask(run: TaskRun): Promise<void> {
  run.closing = true;
  const { workflowId, runId } = workflowInfo();
  const request = await describeCancelRequest(workflowId, runId).catch(() => ({ identity: null, reason: null }));
  const how = { via: 'temporal_cancel_request', requestedBy: request.identity, reason: request.reason };
  run.workflowStatus = 'canceled';
  run.commitApplied(rules.applyWorkflowCancel(run.state, { kind: 'operator', user: request.identity ?? 'temporal' }, how, ctx()));
  // The effects loop is over: the parent and the dependents still hear that this task is cancelled.
  await deliverNotices(run);
  // The workflow ends only once the read model shows the cancellation.
  await condition(() => !run.outbox.dirty);
  run.publishSearchAttributes();
}
