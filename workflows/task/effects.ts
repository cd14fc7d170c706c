/**
 * The effects decisions ask for (domain/effects.ts): wakes, notices to other tasks' workflows and
 * upstream write-backs, carried out in their own loop of the task workflow so that none of them holds
 * up routing, the watcher or the Updates.
 */
import { condition, isCancellation, log, patched } from '@temporalio/workflow';
import { applyRerunStarted } from '../../domain/observation.js';
import { laneOf, type Effect } from '../../domain/effects.js';
import { background, wakes } from './activities.js';
import { tell } from './collab.js';
import { exclusively } from './delivery.js';
import { decisionCtx, type TaskRun } from './run.js';

/** Runs recorded before effect lanes carry out every effect in one queue (`effectsLoop`). */
export const EFFECT_LANES_PATCH = 'effect-lanes-v1';

/**
 * Runs recorded before effect lanes: every effect in order, one at a time, in its own loop (a wake
 * target that is down never held up the watcher or routing, but did hold up the effects behind it).
 */
export async function effectsLoop(run: TaskRun): Promise<void> {
  try {
    for (;;) {
      await condition(() => run.effects.length > 0);
      await carryOutEffect(run, run.effects[0]!, 'all');
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
  }
}

/**
 * Carries out effects in lanes (domain/effects.ts `laneOf`): in order within a lane, lanes side by
 * side, so a wake target retried for hours delays only that agent's wakes, never the notices that free
 * a dependent or the write-back that closes the upstream issue (issue 13 §5).
 */
export async function effectLanes(run: TaskRun): Promise<void> {
  const next = () => (run.drainingEffects ? [] : firstOfEachLane(run).filter(([lane]) => !run.runningEffects.has(lane)));
  try {
    for (;;) {
      await condition(() => next().length > 0);
      for (const [lane, effect] of next()) {
        void carryOutEffect(run, effect, lane).catch((err) => {
          if (!isCancellation(err)) throw err;
        });
      }
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
  }
}

function firstOfEachLane(run: TaskRun): Array<[string, Effect]> {
  const seen = new Map<string, Effect>();
  for (const e of run.effects) if (!seen.has(laneOf(e))) seen.set(laneOf(e), e);
  return [...seen];
}

/** Runs recorded before it re-ran without marking the re-run checks queued (a re-run that failed again unseen woke nobody). */
export const RERUN_STARTED_PATCH = 'ci-rerun-started-v1';

/**
 * A flaky-looking failure re-run once; when nothing could be re-run (only commit statuses, the head
 * moved, the CI system refused), the agent is woken with the failure after all, as it would have been.
 * The re-run is one provider call among the watcher's (so no observation read before it lands after
 * it), and once the CI system took it the re-run checks are queued on the task (applyRerunStarted) and
 * the watcher looks again: their next result, pass or fail, is news.
 */
async function rerunOrWake(run: TaskRun, effect: Extract<Effect, { kind: 'ci_rerun' }>): Promise<void> {
  const s = run.state;
  const source = s.lifecycle?.source;
  const marks = patched(RERUN_STARTED_PATCH);
  let rerun: string[] = [];
  const ask = async () => {
    if (source) rerun = (await background.rerunFailedChecks({ sourceId: source.sourceId, prNumber: effect.prNumber, headSha: effect.headSha })).rerun;
    if (marks && rerun.length > 0) {
      const applied = applyRerunStarted(run.state, effect.headSha, rerun, decisionCtx());
      if (applied) run.commitApplied(applied);
      run.nudged = true;
    }
  };
  try {
    await (marks ? exclusively(run, ask) : ask());
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('the automatic re-run failed; the agent is woken with the failure', { error: String(err) });
  }
  if (rerun.length > 0 || !effect.wake) return;
  await wakes().wakeAgent({ wakeId: effect.wake.wakeId, companyId: s.companyId, issueId: s.id, agentId: effect.wake.agentId, reason: 'ci_failed', summary: effect.wake.summary });
}

/** One effect, its lane marked busy from the first instant (before any await) until it is done or dropped. */
async function carryOutEffect(run: TaskRun, effect: Effect, lane: string): Promise<void> {
  run.runningEffects.set(lane, effect.id);
  const s = run.state;
  try {
    if (effect.kind === 'wake') {
      await wakes().wakeAgent({
        wakeId: effect.id, companyId: s.companyId, issueId: s.id, agentId: effect.agentId, reason: effect.reason, summary: effect.summary,
        ...(effect.commentId ? { commentId: effect.commentId } : {}), ...(effect.details ? { details: effect.details } : {}),
      });
    } else if (effect.kind === 'notify') {
      // Workflow to workflow: durable once sent. A task whose workflow has ended cannot hear it (dropped below).
      await tell(effect);
    } else if (effect.kind === 'ci_rerun') {
      await rerunOrWake(run, effect);
    } else if (s.lifecycle?.source) {
      await background.upstreamEffect({ sourceId: s.lifecycle.source.sourceId, number: s.lifecycle.source.number, ...(s.lifecycle.source.provider === 'linear' ? { key: s.lifecycle.source.key } : {}), effect });
    }
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.error('an effect failed for good and is dropped', { effect: effect.kind, id: effect.id, error: String(err) });
  } finally {
    run.runningEffects.delete(lane);
    run.effects = run.effects.filter((e) => e.id !== effect.id);
  }
}
