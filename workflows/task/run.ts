/** One run of a task workflow: its state, and the one place every change to it is committed. */
import { withTrackerWriteBack } from '../../domain/tracker-writeback.js';
import { fingerprintOf, snapshotOf, type WorkflowStatus } from '../../domain/projection.js';
import type { Applied, Ctx } from '../../domain/commands.js';
import { withCollabConsequences } from '../../domain/dependencies.js';
import { uuid4 } from '@temporalio/workflow';
import { enqueueEffects, type Effect } from '../../domain/effects.js';
import { eventsOf } from '../../domain/events.js';
import type { IssueState, IssueWrite } from '../../domain/task.js';
import type { Known, TaskProjection, TaskResult, TaskWorkflowInput } from '../messages.js';
import { UpdateMemo } from './memo.js';
import { ProjectionOutbox } from './outbox.js';
import { Publisher } from './publish.js';

/** The clock and ids of a decision in workflow code: Temporal's deterministic ones. */
export const decisionCtx = (): Ctx => ({ now: Date.now(), newId: uuid4 });

export class TaskRun {
  state: IssueState;
  /** Ids of the entries made at `state.version` (the read model keeps exactly these at that version). */
  keep: string[];
  readonly memo: UpdateMemo;
  readonly outbox: ProjectionOutbox;
  /** How the read model should describe this workflow; `canceled` once a cancellation is carried out. */
  workflowStatus: WorkflowStatus = 'running';
  /** Cancellation under way: no more changes are accepted. */
  closing = false;
  /** Set by a change; the main loop wakes on it to re-arm the lease timer. */
  changed = false;
  readonly restoring: TaskWorkflowInput['restoring'];
  restored = false;
  /** Effects decided and not carried out yet (domain/effects.ts), oldest first. */
  effects: Effect[];
  /** The effects being carried out now, one per lane (a wake merging into the queue leaves these alone). */
  readonly runningEffects = new Map<string, string>();
  /** Continue-as-new is waiting: lanes start nothing new, so the running effects can finish. */
  drainingEffects = false;
  /** Look at the code host now (a webhook arrived, or a submit just happened). */
  nudged = false;
  /** The company's routing rules changed: route again if the task is unroutable. */
  rerouteRequested = false;
  /** Children admitted (admitChild) that have not told this task they exist yet: child id → when (workflow time). */
  admitted = new Map<string, number>();
  /** One provider operation at a time (submit, ship, rollback, routing, observing): each sees the last one's result. */
  providerBusy = false;
  /** An upstream change that arrived while a provider operation ran (a close caused by our own merge): applied after it. */
  deferredUpstream: import('../../domain/delivery.js').UpstreamIssue | undefined;
  private readonly publisher = new Publisher();

  readonly input: TaskWorkflowInput;

  constructor(given: TaskWorkflowInput) {
    const input = fromEarlierShape(given);
    this.input = input;
    this.state = input.state;
    this.keep = input.keep ?? [];
    this.memo = new UpdateMemo(input.memo);
    this.outbox = new ProjectionOutbox(input.pending, input.state.version);
    this.restoring = input.restoring;
    this.effects = input.effects ?? [];
    this.publisher.publish(this.state);
    // A new run (a start, a continue-as-new, a restore) states its search attributes at once.
    this.publisher.flush();
  }

  /** Search attributes catch up with the state (called once its projection is written, and on the way out). */
  publishSearchAttributes(): void {
    this.publisher.flush();
  }

  /** Commits a change before anything awaits: the next message's validator already sees it. */
  commit(write: IssueWrite): void {
    const descriptionChanged = write.issue.descriptionVersion !== this.state.descriptionVersion;
    const events = eventsOf(this.state, write);
    this.state = write.issue;
    this.keep = [...write.comments, ...write.activity].map((e) => e.id);
    this.outbox.add(write, descriptionChanged, events);
    this.changed = true;
    this.publisher.publish(this.state);
  }

  /**
   * Commits a decision with what it means for the task's collaborators (domain/dependencies.ts), and
   * queues its effects; answers the decision as committed.
   */
  commitApplied(given: Applied): Applied {
    const applied = withTrackerWriteBack(this.state, withCollabConsequences(this.state, given, decisionCtx()), decisionCtx());
    this.commit(applied.write);
    this.queueEffects(applied.effects);
    return applied;
  }

  queueEffects(effects: Effect[] | undefined): void {
    if (effects?.length) this.effects = enqueueEffects(this.effects, effects, (id) => [...this.runningEffects.values()].includes(id));
  }

  /** An Update's decision made: committed, answered, and remembered under its update id. */
  answer(given: Applied, known: Known, updateId: string | undefined, opts: { commentWrittenHere?: boolean } = {}): TaskResult {
    const applied = this.commitApplied(given);
    const result = this.resultOf(applied.write, known, opts);
    this.memo.remember(updateId, result);
    return result;
  }

  /** The answer to the update that made `write`. */
  resultOf(write: IssueWrite, known: Known, opts: { commentWrittenHere?: boolean } = {}): TaskResult {
    const comment = write.comments[0];
    return {
      issue: snapshotOf(write.issue, write.issue.descriptionVersion !== known.knownDescriptionVersion),
      fingerprint: fingerprintOf(write.issue),
      // The caller has the body of a comment it sent; one the workflow wrote comes back whole.
      ...(comment ? { comment: opts.commentWrittenHere ? comment : withoutBody(comment) } : {}),
      activity: write.activity,
      keep: this.keep,
    };
  }

  /** The answer to an update id this task handled in an earlier run: today's state, and the comment it made. */
  replayOf(memo: { comment?: TaskResult['comment'] }, known: Known): TaskResult {
    return {
      issue: snapshotOf(this.state, this.state.descriptionVersion !== known.knownDescriptionVersion),
      fingerprint: fingerprintOf(this.state),
      ...(memo.comment ? { comment: memo.comment } : {}),
      activity: [],
      keep: this.keep,
      replayed: true,
    };
  }

  projection(): TaskProjection {
    const { projectedVersion, ...pending } = this.outbox.pending();
    return { state: this.state, fingerprint: fingerprintOf(this.state), keep: this.keep, pending, projectedVersion };
  }

  /** What the next run starts from: small whatever the task's history (no update results, no bodies but unwritten ones). */
  carryOver(): TaskWorkflowInput {
    return {
      state: this.state,
      keep: this.keep,
      memo: this.memo.toJSON(),
      pending: this.outbox.carry(),
      continueAsNewAfterEvents: this.input.continueAsNewAfterEvents,
      ...(this.effects.length ? { effects: this.effects } : {}),
    };
  }
}

/**
 * An input written by the v1 workflow (a run continued as new by an older worker): its update
 * results become memo entries, its unwritten writes pending entries, and its description is written again.
 */
function fromEarlierShape(input: TaskWorkflowInput): TaskWorkflowInput {
  const v1 = input as TaskWorkflowInput & { processed?: Array<[string, { issue: { version: number }; comment?: { body: string } }]>; outbox?: IssueWrite[] };
  if (input.state.descriptionVersion !== undefined && !v1.processed && !v1.outbox) return input;
  const { processed, outbox, ...rest } = v1;
  return {
    ...rest,
    state: { ...input.state, descriptionVersion: input.state.descriptionVersion ?? input.state.version },
    memo: input.memo ?? (processed ?? []).map(([id, r]) => [id, { version: r.issue.version, ...(r.comment ? { comment: withoutBody(r.comment) as never } : {}) }]),
    pending: {
      comments: [...(input.pending?.comments ?? []), ...(outbox ?? []).flatMap((w) => w.comments.map((c) => ({ ...c, version: c.version ?? w.issue.version })))],
      activity: [...(input.pending?.activity ?? []), ...(outbox ?? []).flatMap((w) => w.activity.map((a) => ({ ...a, version: a.version ?? w.issue.version })))],
      rowDirty: true,
      descriptionDirty: true,
    },
  };
}

function withoutBody<T extends { body: string }>(comment: T): Omit<T, 'body'> {
  const { body: _body, ...meta } = comment;
  return meta;
}
