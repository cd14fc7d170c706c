/**
 * One long-lived workflow per task: the source of truth for its state. Every change arrives as an
 * Update whose validator runs the domain's check (a refusal writes no history) and whose handler
 * commits the new state before its first await, so racing updates see each other's effect.
 */
import {
  ApplicationFailure,
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
import * as rules from '../domain/commands.js';
import { DomainError } from '../domain/errors.js';
import { searchAttributeValues } from '../domain/search-attributes.js';
import type { IssueState, IssueWrite } from '../domain/task.js';
import type { DbActivities } from '../activities/db.js';
import * as msg from './messages.js';

// Writes go out in order, in batches, through one flusher; it retries until Postgres takes them.
// Update handlers wait for their own write, so a caller's 200 means the read model has it.
// A write is a few rows: 5 s without an answer means the worker died, and another one retries it.
const remote = proxyActivities<DbActivities>({
  startToCloseTimeout: '5 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '30 seconds' },
});
// Since the `local-persist` patch the write runs as a local activity: in the same workflow task as
// the update, without a round trip through the server (roughly halves an update's latency). Histories
// written before the patch still replay through the remote activity.
// Retries are bounded (about 20 s): past them the flusher waits on a durable timer and tries again,
// so Postgres being down delays writes (callers get 503 at their deadline) but never loses one.
const local = proxyLocalActivities<DbActivities>({
  startToCloseTimeout: '5 seconds',
  localRetryThreshold: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds', maximumAttempts: 8 },
});
const OUTBOX_RETRY_DELAY = '30 seconds';
const persistIssueWrites = (writes: IssueWrite[]) =>
  patched('local-persist') ? local.persistIssueWrites(writes) : remote.persistIssueWrites(writes);

const PROCESSED_LIMIT = 100;

export async function taskWorkflow(input: msg.TaskWorkflowInput): Promise<void> {
  let state: IssueState = input.state;
  const processed = new Map<string, msg.TaskResult>(input.processed ?? []);
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

  const run = async (apply: (c: rules.Ctx) => rules.Applied): Promise<msg.TaskResult> => {
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
    const result: msg.TaskResult = { issue: state, comment: applied.write.comments[0], closeout: applied.closeout };
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

  void (async () => {
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
  })();

  for (;;) {
    const lease = state.checkout ? Date.parse(state.checkout.leaseExpiresAt) - Date.now() : undefined;
    const wake = () => changed || shouldContinueAsNew();
    const woken = lease === undefined ? (await condition(wake), true) : await condition(wake, Math.max(lease, 1));
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
      await continueAsNew<typeof taskWorkflow>({
        state,
        processed: [...processed.entries()],
        outbox,
        continueAsNewAfterEvents: threshold,
      });
    }
  }
}

function remember(processed: Map<string, msg.TaskResult>, id: string, result: msg.TaskResult): void {
  processed.set(id, result);
  while (processed.size > PROCESSED_LIMIT) processed.delete(processed.keys().next().value!);
}

function toFailure(err: unknown): unknown {
  if (err instanceof DomainError) {
    return ApplicationFailure.create({ type: err.code, message: err.message, details: [err.details ?? {}], nonRetryable: true });
  }
  return err;
}
