/**
 * AgentRail's Linear routes as an Update of the task's workflow, like every other change: the offer is
 * checked by the validator (nothing is written for a refusal), Linear is called by an activity, and what
 * it answered is committed to the task (a state move by the rules of an upstream change).
 */
import { currentUpdateInfo, setHandler } from '@temporalio/workflow';
import { applyLinearWrite, checkLinearWrite, linearIssueOf } from '../../domain/linear-sync.js';
import * as msg from '../messages.js';
import { linear } from './activities.js';
import { exclusively, providerFailure } from './delivery.js';
import { validate } from './handlers.js';
import { decisionCtx, type TaskRun } from './run.js';

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
          upstream = await linear.linearWrite({ sourceId: source.sourceId, linearIssueId: linearIssueOf(run.state), write: cmd.write });
        } catch (err) {
          throw providerFailure(err);
        }
        const answer = run.answer(applyLinearWrite(run.state, cmd, upstream, decisionCtx()), cmd, updateId);
        return { ...answer, upstream };
      });
    },
    { validator: (cmd) => validate(run, cmd, () => checkLinearWrite(run.state, cmd)) },
  );
}
