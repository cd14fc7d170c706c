/**
 * The collaboration messages (issue 8): documents and confirmations as Updates (validators refuse
 * without writing history; the workflow alone picks the one winner of racing resolutions), and the
 * signal other task workflows send about blockers and children.
 */
import { getExternalWorkflowHandle, log, setHandler } from '@temporalio/workflow';
import { checkAdmitChild, pendingAdmissions } from '../../domain/delegation.js';
import { applyCollabMessage } from '../../domain/dependencies.js';
import type { Effect } from '../../domain/effects.js';
import { applyPutDocument, checkPutDocument } from '../../domain/documents.js';
import { applyCreateInteraction, applyResolveInteraction, checkCreateInteraction, checkResolveInteraction, replayOfCreate } from '../../domain/interactions.js';
import * as msg from '../messages.js';
import { handle, toFailure, validate } from './handlers.js';
import { decisionCtx, type TaskRun } from './run.js';

export function registerCollabHandlers(run: TaskRun): void {
  setHandler(msg.putDocumentUpdate, (cmd) => handle(run, cmd, (c) => applyPutDocument(run.state, cmd, c)), {
    validator: (cmd) => validate(run, cmd, () => checkPutDocument(run.state, cmd)),
  });
  setHandler(
    msg.createInteractionUpdate,
    (cmd) => {
      // The same key and body again: the interaction exists; answer with today's state, changing nothing.
      let replay;
      try {
        replay = replayOfCreate(run.state, cmd);
      } catch (err) {
        throw toFailure(err);
      }
      if (replay) return run.replayOf({}, cmd);
      return handle(run, cmd, (c) => applyCreateInteraction(run.state, cmd, c));
    },
    { validator: (cmd) => validate(run, cmd, () => checkCreateInteraction(run.state, cmd)) },
  );
  setHandler(msg.resolveInteractionUpdate, (cmd) => handle(run, cmd, (c) => applyResolveInteraction(run.state, cmd, c)), {
    validator: (cmd) => validate(run, cmd, () => checkResolveInteraction(run.state, cmd)),
  });
  // Decided in the validator (a refusal writes no history); the handler changes nothing and answers.
  setHandler(
    msg.admitChildUpdate,
    (cmd) => {
      let answer;
      try {
        answer = checkAdmitChild(run.state, cmd, admissionsPending(run));
      } catch (err) {
        throw toFailure(err);
      }
      if (cmd.childId) run.admitted.set(cmd.childId, Date.now());
      return answer;
    },
    {
      validator: (cmd) => validate(run, cmd, () => checkAdmitChild(run.state, cmd, admissionsPending(run))),
    },
  );
  setHandler(msg.collabSignal, (m) => {
    if (run.closing) return;
    const applied = applyCollabMessage(run.state, m, decisionCtx());
    if (!applied) return;
    if ('effectsOnly' in applied) run.queueEffects(applied.effectsOnly);
    else run.commitApplied(applied);
  });
}

/** Admitted children still on their way (the bound counts them). */
const admissionsPending = (run: TaskRun): number => pendingAdmissions(run.state, run.admitted, Date.now());

/** Sends the queued messages to other task workflows now (on the way out, when the effects loop has stopped). */
export async function deliverNotices(run: TaskRun): Promise<void> {
  const notices = run.effects.filter((e) => e.kind === 'notify');
  for (const e of notices) {
    try {
      await tell(e);
    } catch (err) {
      log.warn('a task could not be told (its workflow has ended)', { issueId: e.issueId, error: String(err) });
    }
  }
  run.effects = run.effects.filter((e) => e.kind !== 'notify');
}

/** One message to another task's workflow: durable once sent; a workflow that has ended cannot hear it (this throws). */
export function tell(notice: Extract<Effect, { kind: 'notify' }>): Promise<void> {
  return getExternalWorkflowHandle(msg.workflowIdFor(notice.issueId)).signal(msg.collabSignal, notice.message);
}
