/**
 * Starting, nudging and stopping event-subscription workflows from outside them (the API and the
 * worker's dispatcher). Every start is signal-with-start or start-if-absent on the subscription's
 * fixed workflow id, so any of them also brings back a workflow that is missing (terminated by hand,
 * or a create whose start Temporal did not confirm).
 */
import { WorkflowIdConflictPolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  deactivateSignal,
  eventsAvailableSignal,
  subscriptionWorkflowId,
  SUBSCRIPTION_WORKFLOW_TYPE,
  type SubscriptionWorkflowInput,
} from '../workflows/event-subscription/contract.js';
import type { Config } from './config.js';

function startOptions(config: Config, subscriptionId: string) {
  const input: SubscriptionWorkflowInput = {
    subscriptionId,
    ...(config.webhookRetry ? { retry: config.webhookRetry } : {}),
    ...(config.continueAsNewAfterEvents ? { continueAsNewAfterEvents: config.continueAsNewAfterEvents } : {}),
  };
  return { workflowId: subscriptionWorkflowId(subscriptionId), taskQueue: config.taskQueue, args: [input] as [SubscriptionWorkflowInput], staticSummary: `Event subscription ${subscriptionId}` };
}

/** Starts its workflow unless one is running (no history event is written when it is). */
export async function ensureSubscriptionWorkflow(client: Client, config: Config, subscriptionId: string): Promise<void> {
  await client.workflow.start(SUBSCRIPTION_WORKFLOW_TYPE, { ...startOptions(config, subscriptionId), workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING });
}

/** New events may match: wake it, starting it if it is not running. */
export async function nudgeSubscription(client: Client, config: Config, subscriptionId: string): Promise<void> {
  await client.workflow.signalWithStart(SUBSCRIPTION_WORKFLOW_TYPE, { ...startOptions(config, subscriptionId), signal: eventsAvailableSignal });
}

/** Stops it now (the row says disabled already; a workflow that is not running has nothing to stop). */
export async function stopSubscriptionWorkflow(client: Client, subscriptionId: string): Promise<void> {
  try {
    await client.workflow.getHandle(subscriptionWorkflowId(subscriptionId)).signal(deactivateSignal);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}
