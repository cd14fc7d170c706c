/**
 * AgentRail's Linear routes as an Update of the task's workflow, like every other change: the offer is
 * checked by the validator (nothing is written for a refusal), Linear is called by an activity, and what
 * it answered is committed to the task (a state move by the rules of an upstream change).
 */
import { ActivityFailure, ApplicationFailure, currentUpdateInfo, setHandler } from '@temporalio/workflow';
import { isErrorCode } from '../../domain/errors.js';
import { applyLinearWrite, checkLinearWrite, linearIssueOf } from '../../domain/linear-sync.js';
import * as msg from '../messages.js';
import { linear } from './activities.js';
import { exclusively, providerFailure } from './delivery.js';
import { validate } from './handlers.js';
import { decisionCtx, type TaskRun } from './run.js';

/** Linear's verdict keeps its code; Linear not answering after the retries is a 503 the same key may try again. */
function linearFailure(err: unknown): unknown {
  if (err instanceof ActivityFailure && !(err.cause instanceof ApplicationFailure && isErrorCode(err.cause.type))) {
    return ApplicationFailure.create({ type: 'provider_unavailable', message: `Linear did not answer (${err.cause?.message ?? err.message}); retry with the same Idempotency-Key`, details: [{ final: true }], nonRetryable: true });
  }
  return providerFailure(err);
}

export function registerUpstreamHandlers(run: TaskRun): void {
  setHandler(
    msg.linearWriteUpdate,
    async (cmd) => {
      const updateId = currentUpdateInfo()?.id;
      const prior = run.memo.get(updateId);
      if (prior) return run.replayOf(prior, cmd);
      return exclusively(run, async () => {
        checkLinearWrite(run.state, cmd);
        const source = run.state.lifecycle!.source!;
        let upstream;
        try {
          // An agent may not close its task by moving the issue (the activity refuses it before Linear changes).
          upstream = await linear.linearWrite({ sourceId: source.sourceId, linearIssueId: linearIssueOf(run.state), write: cmd.write, mayClose: cmd.actor.kind !== 'agent' });
        } catch (err) {
          throw linearFailure(err);
        }
        // A comment here is the workflow's own (a move to a closed state cancelling the task): it goes back whole.
        const answer = run.answer(applyLinearWrite(run.state, cmd, upstream, decisionCtx()), cmd, updateId, { commentWrittenHere: true });
        return { ...answer, upstream };
      });
    },
    { validator: (cmd) => validate(run, cmd, () => checkLinearWrite(run.state, cmd)) },
  );
}
