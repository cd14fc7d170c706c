/**
 * FROZEN. The task workflow as it was before the projection redesign (issue 6): its read-model write
 * ran inside the Update's workflow task, before that task was durable. Runs started by it replay
 * through this code (see `taskWorkflow`); at their next wake they continue as new into today's
 * workflow (`UPGRADE_PATCH`). Change nothing here but the upgrade: old histories must replay.
 */
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  makeContinueAsNewFunc,
  allHandlersFinished,
  condition,
  continueAsNew,
  currentUpdateInfo,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import * as rules from '../../domain/commands.js';
import { DomainError } from '../../domain/errors.js';
import { searchAttributeValues } from '../../domain/search-attributes.js';
import type { IssueState, IssueWrite } from '../../domain/task.js';
import type { LegacyDbActivities } from '../activity-types.js';
import type { TaskWorkflowInput } from '../messages.js';
import * as msg from './messages-v1.js';

/** Marks the point where a v1 run hands over to today's workflow. */
export const UPGRADE_PATCH = 'upgrade-to-projection-v2';

// Writes go out in order, in batches, through one flusher; it retries until Postgres takes them.
// Update handlers wait for their own write, so a caller's 200 means the read model has it.
// A write is a few rows: 5 s without an answer means the worker died, and another one retries it.
const remote = proxyActivities<LegacyDbActivities>({
  startToCloseTimeout: '5 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '30 seconds' },
});
// Since the `local-persist` patch the write runs as a local activity: in the same workflow task as
// the update, without a round trip through the server (roughly halves an update's latency). Histories
// written before the patch still replay through the remote activity.
// Retries are bounded (about 20 s): past them the flusher waits on a durable timer and tries again,
// so Postgres being down delays writes (callers get 503 at their deadline) but never loses one.
const local = proxyLocalActivities<LegacyDbActivities>({
  startToCloseTimeout: '5 seconds',
  localRetryThreshold: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds', maximumAttempts: 8 },
});
const OUTBOX_RETRY_DELAY = '30 seconds';
const persistIssueWrites = (writes: IssueWrite[]) =>
  patched('local-persist') ? local.persistIssueWrites(writes) : remote.persistIssueWrites(writes);

const PROCESSED_LIMIT = 100;

export async function legacyTaskWorkflow(input: msg.LegacyTaskWorkflowInput): Promise<void> {
  let state: IssueState = input.state;
  const processed = new Map<string, msg.LegacyTaskResult>(input.processed ?? []);
  const outbox: IssueWrite[] = [...(input.outbox ?? [])];
  let changed = false;
  let queued = outbox.length;
  let flushed = 0;

  const enqueue = async (write: IssueWrite, wait: boolean) => {
    outbox.push(write);
    const seq = ++queued;
    if (wait) await condition(() => flushed >= seq);
  };

  let lastPublished = '';
  /** Search attributes and the UI's details line follow every transition. */
  const publish = (s: IssueState) => {
    const values = searchAttributeValues(s);
    const key = JSON.stringify(values.map((v) => v.value));
    if (key !== lastPublished) {
      lastPublished = key;
      upsertSearchAttributes(values);
    }
    const who = s.checkout ? ` · checked out by ${s.checkout.agentId} until ${s.checkout.leaseExpiresAt}` : '';
    setCurrentDetails(`**${s.title}**\n\n${s.status} · ${s.priority}${who} · v${s.version}`);
  };

  const ctx = (): rules.Ctx => ({ now: Date.now(), newId: uuid4 });

  const alreadyProcessed = () => {
    const id = currentUpdateInfo()?.id;
    return id !== undefined && processed.has(id);
  };

  /** Validators: synchronous, no state change; a domain refusal becomes a typed failure. */
  const guard = (check: () => unknown) => {
    if (alreadyProcessed()) return;
    try {
      check();
    } catch (err) {
      throw toFailure(err);
    }
  };

  const run = async (apply: (c: rules.Ctx) => rules.Applied): Promise<msg.LegacyTaskResult> => {
    const updateId = currentUpdateInfo()?.id;
    const prior = updateId ? processed.get(updateId) : undefined;
    if (prior) return prior;
    let applied: rules.Applied;
    try {
      applied = apply(ctx());
    } catch (err) {
      throw toFailure(err);
    }
    // Commit before the first await: the next update's validator already sees this state.
    state = applied.write.issue;
    changed = true;
    publish(state);
    const result: msg.LegacyTaskResult = { issue: state, comment: applied.write.comments[0], closeout: applied.closeout };
    if (updateId) remember(processed, updateId, result);
    await enqueue(applied.write, true);
    return result;
  };

  setHandler(msg.checkoutUpdate, (cmd) => run((c) => rules.applyCheckout(state, cmd, c)), {
    validator: (cmd) => guard(() => rules.checkCheckout(state, cmd)),
  });
  setHandler(msg.patchUpdate, (cmd) => run((c) => rules.applyUpdate(state, cmd, c)), {
    validator: (cmd) => guard(() => rules.checkUpdate(state, cmd)),
  });
  setHandler(msg.commentUpdate, (cmd) => run((c) => rules.applyComment(state, cmd, c)));
  setHandler(msg.releaseUpdate, (cmd) => run((c) => rules.applyRelease(state, cmd, c)), {
    validator: (cmd) => guard(() => rules.checkRelease(state, cmd)),
  });
  setHandler(msg.closeUpdate, (cmd) => run((c) => rules.applyClose(state, cmd, c)), {
    validator: (cmd) => guard(() => rules.checkClose(state, cmd)),
  });
  setHandler(msg.heartbeatUpdate, (cmd) => run((c) => rules.applyHeartbeat(state, cmd, c)), {
    validator: (cmd) => guard(() => rules.checkHeartbeat(state, cmd)),
  });
  setHandler(msg.stateQuery, () => state);

  publish(state);

  const threshold = input.continueAsNewAfterEvents;
  const shouldContinueAsNew = () =>
    workflowInfo().continueAsNewSuggested || (threshold !== undefined && workflowInfo().historyLength >= threshold);

  // Not cancellable: a cancellation request must not kill the flusher (the upgrade below needs it).
  void CancellationScope.nonCancellable(async () => {
    for (;;) {
      await condition(() => outbox.length > 0);
      const batch = outbox.slice();
      try {
        await persistIssueWrites(batch);
      } catch {
        await sleep(OUTBOX_RETRY_DELAY);
        continue;
      }
      outbox.splice(0, batch.length);
      flushed += batch.length;
    }
  });

  /** Hand over to today's workflow once this run's own writes are done. */
  const upgrade = async (cancelRequested: boolean) => {
    await CancellationScope.nonCancellable(() => condition(() => allHandlersFinished() && outbox.length === 0));
    // Into today's workflow by name: the run that continues is a `taskWorkflow` whatever started this one.
    await makeContinueAsNewFunc<(input: TaskWorkflowInput) => Promise<void>>({ workflowType: 'taskWorkflow' })(upgradedInput(state, processed, threshold, cancelRequested));
  };

  for (;;) {
    const lease = state.checkout ? Date.parse(state.checkout.leaseExpiresAt) - Date.now() : undefined;
    const wake = () => changed || shouldContinueAsNew();
    let woken: boolean;
    try {
      woken = lease === undefined ? (await condition(wake), true) : await condition(wake, Math.max(lease, 1));
    } catch (err) {
      if (isCancellation(err) && patched(UPGRADE_PATCH)) await upgrade(true);
      throw err;
    }
    if (patched(UPGRADE_PATCH)) await upgrade(false);
    changed = false;
    if (!woken && rules.leaseExpired(state, Date.now())) {
      const applied = rules.applyLeaseExpiry(state, ctx());
      state = applied.write.issue;
      publish(state);
      await enqueue(applied.write, false);
    }
    if (shouldContinueAsNew()) {
      // Handlers wait for their writes, so once they are done only the outbox can still hold work.
      await condition(() => allHandlersFinished() && outbox.length === 0);
      await continueAsNew<typeof legacyTaskWorkflow>({
        state,
        processed: [...processed.entries()],
        outbox,
        continueAsNewAfterEvents: threshold,
      });
    }
  }
}

/** A v1 run's state in today's input: its description is written again, and its update memory kept in short form. */
function upgradedInput(
  state: IssueState,
  processed: Map<string, msg.LegacyTaskResult>,
  continueAsNewAfterEvents: number | undefined,
  cancelRequested: boolean,
): TaskWorkflowInput {
  return {
    state: { ...state, descriptionVersion: state.version },
    memo: [...processed.entries()].map(([id, r]) => {
      const { body: _body, ...comment } = r.comment ?? ({} as Record<string, unknown>);
      return [id, { version: r.issue.version, ...(r.comment ? { comment: comment as never } : {}) }];
    }),
    pending: { comments: [], activity: [], rowDirty: true, descriptionDirty: true },
    continueAsNewAfterEvents,
    ...(cancelRequested ? { cancelRequested: true } : {}),
  };
}

function remember(processed: Map<string, msg.LegacyTaskResult>, id: string, result: msg.LegacyTaskResult): void {
  processed.set(id, result);
  while (processed.size > PROCESSED_LIMIT) processed.delete(processed.keys().next().value!);
}

function toFailure(err: unknown): unknown {
  if (err instanceof DomainError) {
    return ApplicationFailure.create({ type: err.code, message: err.message, details: [err.details ?? {}], nonRetryable: true });
  }
  return err;
}
