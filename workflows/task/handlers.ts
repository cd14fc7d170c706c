/**
 * The task's Updates and Queries. Each Update's validator runs the domain's check (a refusal writes
 * no history); its handler applies the same rule and commits synchronously, so racing updates see
 * each other's effect, and answers at once: nothing in an update waits on Postgres. The caller gets
 * the answer only after the workflow task holding it is durable, and writes the read model from it.
 */
import type { UpdateDefinition } from '@temporalio/common';
import { ApplicationFailure, currentUpdateInfo, patched, setHandler } from '@temporalio/workflow';
import { applyThreadComment, checkThreadComment } from '../../domain/comments.js';
import { assertNotAnothers, assertOffered, SAME_SUCCESS_AGAIN } from '../../domain/permissions.js';
import * as rules from '../../domain/commands.js';
import { DomainError } from '../../domain/errors.js';
import { findUnstorableText } from '../../domain/text.js';
import { handedOver, releasedForRouting } from '../../domain/intake.js';
import * as msg from '../messages.js';
import { decisionCtx, type TaskRun } from './run.js';

type Actor = import('../../domain/task.js').Actor;
type IssueState = import('../../domain/task.js').IssueState;
type Command = msg.Known & { actor: Actor };

const ctx = decisionCtx;

/** Comments wake the assignee and the agents they mention (issue 8); runs recorded before keep quiet comments. */
export const COMMENT_WAKES_PATCH = 'comment-wakes-v1';
/** A tracker task released or unassigned is routed again (issue 13, newcomer and hostile passes). */
export const RELEASE_REROUTES_PATCH = 'release-reroutes-v1';

export function registerHandlers(run: TaskRun): void {
  const update = <C extends Command>(
    def: UpdateDefinition<msg.TaskResult, [C]>,
    check: (cmd: C) => unknown,
    apply: (cmd: C, c: rules.Ctx) => rules.Applied,
  ) => {
    setHandler(def, (cmd) => handle(run, cmd, (c) => apply(cmd, c)), { validator: (cmd) => validate(run, cmd, () => check(cmd)) });
  };

  update(msg.checkoutUpdate, (cmd) => rules.checkCheckout(run.state, cmd), (cmd, c) => rules.applyCheckout(run.state, cmd, c));
  update(msg.patchUpdate, (cmd) => rules.checkUpdate(run.state, cmd), (cmd, c) => routedAgainIfLeft(recordHandOver(run.state, cmd.actor, rules.applyUpdate(run.state, cmd, c), c.now)));
  // Runs recorded before comment wakes (no marker) keep the plain comment; new ones wake whom a comment concerns.
  update(msg.commentUpdate, (cmd) => checkThreadComment(run.state, cmd), (cmd, c) => (patched(COMMENT_WAKES_PATCH) ? applyThreadComment(run.state, cmd, c) : rules.applyComment(run.state, cmd, c)));
  update(msg.releaseUpdate, (cmd) => rules.checkRelease(run.state, cmd), (cmd, c) => routedAgainIfLeft(rules.applyRelease(run.state, cmd, c)));
  update(msg.closeUpdate, (cmd) => rules.checkClose(run.state, cmd), (cmd, c) => rules.applyClose(run.state, cmd, c));
  update(msg.heartbeatUpdate, (cmd) => rules.checkHeartbeat(run.state, cmd), (cmd, c) => rules.applyHeartbeat(run.state, cmd, c));
  update(
    msg.restoreUpdate,
    () => {
      if (!run.restoring || run.restored) throw new DomainError('status_conflict', 'This task workflow is running: there is nothing to restore');
    },
    (cmd, c) => {
      run.restored = true;
      return rules.applyRestore(run.state, cmd.actor, { fromRunId: run.restoring!.fromRunId, workflowStatus: run.restoring!.workflowStatus }, c);
    },
  );

  setHandler(msg.stateQuery, () => run.state);
  setHandler(msg.projectionQuery, () => run.projection());
}

/**
 * A tracker task left without an assignee (released, or unassigned by a PATCH) is routing's again: no
 * agent may take it by itself. Runs recorded before left it waiting for an operator.
 */
function routedAgainIfLeft(applied: rules.Applied): rules.Applied {
  const left = applied.write.issue;
  const waiting = left.lifecycle?.routing?.state === 'pending' || left.lifecycle?.routing?.state === 'unroutable';
  const issue = waiting ? left : releasedForRouting(left);
  if (issue === left || !patched(RELEASE_REROUTES_PATCH)) return applied;
  return { ...applied, write: { ...applied.write, issue } };
}

/** An agent handing its tracker task to another is recorded as such (runs recorded before kept the rule's record). */
function recordHandOver(prev: IssueState, actor: Actor, applied: rules.Applied, now: number): rules.Applied {
  const issue = handedOver(prev, applied.write.issue, actor, now);
  if (issue === applied.write.issue || !patched(RELEASE_REROUTES_PATCH)) return applied;
  return { ...applied, write: { ...applied.write, issue } };
}

/** Validators: synchronous, no state change; a refusal becomes a typed failure and writes no history. */
export function validate(run: TaskRun, cmd: Command, check: () => unknown): void {
  if (run.memo.get(currentUpdateInfo()?.id)) return;
  try {
    if (run.closing) {
      throw new DomainError('task_unavailable', 'This task is being cancelled and takes no more changes', { issueId: run.state.id, workflowStatus: 'canceled' });
    }
    const bad = findUnstorableText(cmd);
    if (bad) throw new DomainError('validation_error', `${bad.path} ${bad.problem}`, { field: bad.path });
    if (run.outbox.full) {
      throw new DomainError('database_unavailable', 'The read model has not taken this task\'s last changes yet; try again shortly', { issueId: run.state.id });
    }
    if (cmd.offered) assertNotAnothers(run.state, cmd.actor, cmd.offered);
    const verdict = check();
    // Offered ⇔ accepted: the action the request is must be among the caller's availableActions (domain/permissions.ts).
    if (cmd.offered && verdict !== SAME_SUCCESS_AGAIN) assertOffered(run.state, cmd.actor, cmd.offered);
  } catch (err) {
    throw toFailure(err);
  }
}

export function handle(run: TaskRun, cmd: Command, apply: (c: rules.Ctx) => rules.Applied): msg.TaskResult {
  const updateId = currentUpdateInfo()?.id;
  const prior = run.memo.get(updateId);
  if (prior) return run.replayOf(prior, cmd);
  let applied: rules.Applied;
  try {
    applied = apply(ctx());
  } catch (err) {
    throw toFailure(err);
  }
  return run.answer(applied, cmd, updateId);
}

export function toFailure(err: unknown): unknown {
  if (err instanceof DomainError) {
    return ApplicationFailure.create({ type: err.code, message: err.message, details: [err.details ?? {}], nonRetryable: true });
  }
  return err;
}
