/**
 * The delivery half of the task workflow: routing, submit, CI and review, ship, rollback, the upstream
 * issue, and the effects decisions ask for (wakes, upstream comments). Phases of the same workflow,
 * not a child: the task has one writer of its state and one history to read (README "Why one workflow").
 * Provider calls are activities; one runs at a time (`providerBusy`), so each sees the last one's result.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  currentUpdateInfo,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  sleep,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Applied } from '../../domain/commands.js';
import * as delivery from '../../domain/delivery.js';
import { DomainError, isErrorCode } from '../../domain/errors.js';
import { laneOf, type Effect } from '../../domain/effects.js';
import { TERMINAL_STATUSES } from '../../domain/statuses.js';
import { applyRouting, markForRouting, wantsRouting } from '../../domain/intake.js';
import { decideRoute } from '../../domain/routing.js';
import type { DeliveryActivities } from '../activity-types.js';
import * as msg from '../messages.js';
import { tell } from './collab.js';
import { toFailure, validate, handle } from './handlers.js';
import { decisionCtx, type TaskRun } from './run.js';

/**
 * Calls a caller waits on (submit, ship, rollback, route). An outage is retried for up to an hour: the
 * caller hears 503 provider_unavailable at its deadline, and the same Idempotency-Key (the same update
 * id) attaches to the operation still running, so it completes once, never twice. A verdict fails at once.
 */
const provider = proxyActivities<DeliveryActivities>({
  // Writes queue behind GitHub's spacing per credential (3 s between PR creations): allow for a queue;
  // the heartbeat notices a dead worker long before that.
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});
/** Work nobody waits on: observing the PR, routing, upstream comments. */
const background = proxyActivities<DeliveryActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});
/**
 * Wakes: retried with backoff for hours; a process wake runs as long as the agent does (heartbeating).
 * They run on `<task queue>-wakes`, served by workers where the agents live (worker/create-worker.ts).
 */
const wakes = () =>
  proxyActivities<DeliveryActivities>({
    taskQueue: `${workflowInfo().taskQueue}-wakes`,
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '1 minute',
    scheduleToCloseTimeout: '24 hours',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
  });

/** The polling fallback: how soon to look at the PR again when no webhook arrives. */
export const POLL_MIN_MS = 10_000;
export const POLL_MAX_MS = 5 * 60_000;

const ctx = decisionCtx;

/** A provider's verdict keeps its code; retries exhausted is provider_unavailable (retry with the same key). */
function providerFailure(err: unknown): unknown {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure && isErrorCode(cause.type)) {
      return ApplicationFailure.create({ type: cause.type, message: cause.message, details: cause.details ?? [], nonRetryable: true });
    }
    // Retried for an hour already: this answer is final for this key (Temporal keeps it under the update id).
    return ApplicationFailure.create({
      type: 'provider_unavailable',
      message: `The provider did not answer for an hour (${cause?.message ?? err.message}); try again with a new Idempotency-Key`,
      details: [{ final: true }],
      nonRetryable: true,
    });
  }
  return toFailure(err);
}

async function exclusively<T>(run: TaskRun, fn: () => Promise<T>): Promise<T> {
  // Several waiters can see the flag clear in the same activation: each checks again when it resumes.
  while (run.providerBusy) await condition(() => !run.providerBusy);
  run.providerBusy = true;
  try {
    return await fn();
  } finally {
    run.providerBusy = false;
  }
}

type Cmd = msg.Known & { actor: import('../../domain/task.js').Actor };

/**
 * An Update whose decision needs a provider call first: the same memo, commit and answer as the
 * synchronous ones (handlers.ts), run one at a time. `decide` answers 'current' when the change is
 * already made (a ship at a head that is merged already): the answer is today's state.
 */
async function handleWithProvider(run: TaskRun, cmd: Cmd, decide: () => Promise<Applied | 'current'>): Promise<msg.TaskResult> {
  const updateId = currentUpdateInfo()?.id;
  const prior = run.memo.get(updateId);
  if (prior) return run.replayOf(prior, cmd);
  return exclusively(run, async () => {
    let applied: Applied | 'current';
    try {
      applied = await decide();
    } catch (err) {
      throw providerFailure(err);
    }
    if (applied === 'current') return run.replayOf({}, cmd);
    return run.answer(applied, cmd, updateId, { commentWrittenHere: true });
  });
}

async function routeNow(run: TaskRun, activities = background): Promise<Applied> {
  const s = run.state;
  const context = await activities.routingContext(s.companyId);
  const source = s.lifecycle?.source ?? null;
  const decision = decideRoute({
    task: { provider: source?.provider ?? null, repo: source ? `${source.owner}/${source.repo}` : null, labels: source?.labels ?? [], title: s.title, priority: s.priority },
    rules: context.rules,
    openTasks: context.openTasks,
    assignedByRule: context.assignedByRule,
    decisionId: `rdec_${uuid4().replace(/-/g, '').slice(0, 20)}`,
    now: new Date(Date.now()).toISOString(),
  });
  return applyRouting(markForRouting(s) ?? s, decision, ctx());
}

export function registerDeliveryHandlers(run: TaskRun): void {
  setHandler(
    msg.submitUpdate,
    (cmd) =>
      handleWithProvider(run, cmd, async () => {
        delivery.checkSubmit(run.state, cmd);
        let pull: delivery.OpenedPull | null = null;
        const source = run.state.lifecycle?.source;
        if (cmd.mode === 'adapter_managed' && source) {
          const pr = cmd.pullRequest ?? {};
          const closes = `Closes #${source.number}`;
          const body = (pr.body ?? cmd.summary).includes(closes) ? (pr.body ?? cmd.summary) : `${pr.body ?? cmd.summary}\n\n${closes}`;
          pull = await provider.openPullRequest({
            sourceId: source.sourceId,
            head: pr.head!,
            ...(pr.base ?? source.defaultBranch ? { base: (pr.base ?? source.defaultBranch)! } : {}),
            title: pr.title ?? `${run.state.identifier ?? ''} ${run.state.title}`.trim(),
            body,
            draft: pr.draft,
          });
        }
        run.nudged = true;
        return delivery.applySubmitted(run.state, cmd, pull, ctx());
      }),
    { validator: (cmd) => validate(run, cmd, () => delivery.checkSubmit(run.state, cmd)) },
  );

  setHandler(
    msg.shipUpdate,
    (cmd) =>
      handleWithProvider(run, cmd, async () => {
        if (delivery.checkShip(run.state, cmd) === 'shipped') return 'current';
        const d = run.state.lifecycle!.delivery!;
        const source = run.state.lifecycle!.source;
        const operationId = `shp_${uuid4().replace(/-/g, '').slice(0, 20)}`;
        let merge: delivery.MergeDone = { operationId, mergeCommitSha: null, mergeCommitUrl: null, alreadyMerged: false };
        if (d.mode === 'adapter_managed' && source && d.prNumber) {
          try {
            const m = await provider.mergePullRequest({
              sourceId: source.sourceId, prNumber: d.prNumber, expectedHeadSha: cmd.expectedHeadSha, method: cmd.mergeMethod ?? 'squash',
              title: `${run.state.identifier ?? ''} ${run.state.title} (#${d.prNumber})`.trim(),
            });
            merge = { operationId, ...m };
          } catch (err) {
            // The head moved under us (a push the watcher has not seen yet): look again at once.
            run.nudged = true;
            throw err;
          }
        }
        return delivery.applyShipped(run.state, cmd, merge, ctx());
      }),
    { validator: (cmd) => validate(run, cmd, () => delivery.checkShip(run.state, cmd)) },
  );

  setHandler(
    msg.rollbackUpdate,
    (cmd) =>
      handleWithProvider(run, cmd, async () => {
        delivery.checkRollback(run.state, cmd);
        const d = run.state.lifecycle!.delivery!;
        const source = run.state.lifecycle!.source;
        const revert = d.mode === 'adapter_managed' && source && d.prNumber ? await provider.revertPullRequest({ sourceId: source.sourceId, prNumber: d.prNumber }) : null;
        return delivery.applyRolledBack(run.state, cmd, revert, ctx());
      }),
    { validator: (cmd) => validate(run, cmd, () => delivery.checkRollback(run.state, cmd)) },
  );

  const checkRoute = (cmd: Cmd) => {
    if (cmd.actor.kind !== 'operator') throw new DomainError('forbidden', 'Routing a task needs the operator key');
    if (run.state.assigneeAgentId) throw new DomainError('status_conflict', 'The task is assigned already: unassign it first to route it again', { taskId: run.state.id, assigneeAgentId: run.state.assigneeAgentId });
    if (TERMINAL_STATUSES.includes(run.state.status)) throw new DomainError('status_conflict', `The task is ${run.state.status}`, { taskId: run.state.id });
  };
  setHandler(
    msg.routeUpdate,
    (cmd) =>
      handleWithProvider(run, cmd, async () => {
        checkRoute(cmd);
        return routeNow(run, provider);
      }),
    { validator: (cmd) => validate(run, cmd, () => checkRoute(cmd)) },
  );

  setHandler(msg.reportChecksUpdate, (cmd) => handle(run, cmd, (c) => delivery.applyChecksReported(run.state, cmd.checks, cmd.headSha ?? null, cmd.actor, c)), {
    validator: (cmd) => validate(run, cmd, () => delivery.applyChecksReported(run.state, cmd.checks, cmd.headSha ?? null, cmd.actor, ctx())),
  });
  setHandler(
    msg.reviewUpdate,
    (cmd) => handle(run, cmd, (c) => delivery.applyReviewRecorded(run.state, reviewOf(cmd), cmd.actor, c)),
    { validator: (cmd) => validate(run, cmd, () => delivery.applyReviewRecorded(run.state, reviewOf(cmd), cmd.actor, ctx())) },
  );

  setHandler(msg.upstreamSignal, (up) => {
    if (run.closing) return;
    // A close that arrives while a ship is merging is most likely that merge's own `Closes #n`: decide it after.
    if (run.providerBusy) {
      run.deferredUpstream = up;
      return;
    }
    applyUpstreamNow(run, up);
  });
  setHandler(msg.providerEventSignal, (event) => {
    const head = run.state.lifecycle?.delivery?.headSha;
    // A check or status for an older head says nothing about the current one.
    if (event.headSha && head && event.headSha !== head && event.kind !== 'pull_request') return;
    run.nudged = true;
  });
  setHandler(msg.rerouteSignal, () => {
    run.rerouteRequested = true;
  });
}

const reviewOf = (cmd: { actor: { user?: string }; outcome: 'approved' | 'changes_requested'; comments: string[] }) => ({
  outcome: cmd.outcome,
  comments: cmd.comments,
  reviewer: cmd.actor.user ?? 'operator',
});

function applyUpstreamNow(run: TaskRun, up: import('../../domain/delivery.js').UpstreamIssue): void {
  const applied = delivery.applyUpstream(run.state, up, ctx());
  if (applied) run.commitApplied(applied);
}

/** Waiting on CI or review for a PR on a code host: the watcher looks at it (on events, and by polling). */
function watching(run: TaskRun): boolean {
  const l = run.state.lifecycle;
  const d = l?.delivery;
  return run.state.status === 'in_review' && !!d && !d.ship && d.mode === 'adapter_managed' && !!d.prNumber && !!l?.source;
}

function routingDue(run: TaskRun): boolean {
  if (wantsRouting(run.state)) return true;
  if (run.rerouteRequested && !markForRouting(run.state)) run.rerouteRequested = false;
  return run.rerouteRequested;
}

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
        run.runningEffects.set(lane, effect.id);
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

/** Runs for the life of the run: routes, applies deferred upstream changes, watches the PR. */
export async function deliveryLoop(run: TaskRun): Promise<void> {
  let wait = POLL_MIN_MS;
  try {
    for (;;) {
      const work = () => !run.closing && (run.nudged || routingDue(run) || (run.deferredUpstream !== undefined && !run.providerBusy));
      if (watching(run)) {
        if (!(await condition(work, wait))) run.nudged = true;
      } else {
        await condition(work);
      }
      if (routingDue(run)) {
        await exclusively(run, async () => {
          try {
            if (routingDue(run)) run.commitApplied(await routeNow(run));
            run.rerouteRequested = false;
          } catch (err) {
            log.warn('routing failed; trying again shortly', { error: String(err) });
            await sleep('30 seconds');
          }
        });
        continue;
      }
      if (run.deferredUpstream !== undefined && !run.providerBusy) {
        const up = run.deferredUpstream;
        run.deferredUpstream = undefined;
        applyUpstreamNow(run, up);
        continue;
      }
      if (run.nudged) {
        run.nudged = false;
        const changed = await observe(run);
        wait = changed ? POLL_MIN_MS : Math.min(wait * 2, POLL_MAX_MS);
      }
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
  }
}

async function observe(run: TaskRun): Promise<boolean> {
  return exclusively(run, async () => {
    if (!watching(run)) return false;
    const l = run.state.lifecycle!;
    const d = l.delivery!;
    try {
      const o = await background.observePullRequest({ sourceId: l.source!.sourceId, prNumber: d.prNumber!, reviewPolicy: l.source!.reviewPolicy, knownHead: d.headSha });
      // A new submission while this call ran: what it saw belongs to the old one.
      if (run.state.lifecycle?.delivery?.submissionId !== d.submissionId) return true;
      const applied = delivery.applyObservation(run.state, o, ctx());
      if (applied) run.commitApplied(applied);
      return !!applied;
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('could not read the pull request; the watcher tries again later', { error: String(err) });
      return false;
    }
  });
}

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
    } else if (s.lifecycle?.source) {
      await background.upstreamEffect({ sourceId: s.lifecycle.source.sourceId, number: s.lifecycle.source.number, effect });
    }
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.error('an effect failed for good and is dropped', { effect: effect.kind, id: effect.id, error: String(err) });
  } finally {
    run.runningEffects.delete(lane);
    run.effects = run.effects.filter((e) => e.id !== effect.id);
  }
}
