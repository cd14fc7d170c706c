/**
 * The delivery half of the task workflow: routing, submit, CI and review, ship, rollback and the upstream
 * issue (the effects decisions ask for are workflows/task/effects.ts). Phases of the same workflow,
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
  patched,
  setHandler,
  sleep,
  uuid4,
} from '@temporalio/workflow';
import type { Applied } from '../../domain/commands.js';
import * as delivery from '../../domain/delivery.js';
import * as observed from '../../domain/observation.js';
import { DomainError, isErrorCode } from '../../domain/errors.js';
import { TERMINAL_STATUSES } from '../../domain/statuses.js';
import { applyRouting, markForRouting, wantsRouting } from '../../domain/intake.js';
import { decideRoute, type RoutingDecision } from '../../domain/routing.js';
import * as msg from '../messages.js';
import { background, provider } from './activities.js';
import { toFailure, validate, handle } from './handlers.js';
import { decisionCtx, type TaskRun } from './run.js';

/** The polling fallback: how soon to look at the PR again when no webhook arrives. */
export const POLL_MIN_MS = 10_000;
export const POLL_MAX_MS = 5 * 60_000;

const ctx = decisionCtx;

/** A provider's verdict keeps its code; retries exhausted is provider_unavailable (retry with the same key). */
export function providerFailure(err: unknown): unknown {
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

export async function exclusively<T>(run: TaskRun, fn: () => Promise<T>): Promise<T> {
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

/** Routing decisions taken under the company's lock by the routeTask activity; runs recorded before decide here from counts. */
export const ROUTING_LEDGER_PATCH = 'routing-ledger-v1';
/** A routing decision is applied to the state after its activity, not the one read before it (runs recorded before used that one). */
export const ROUTING_CURRENT_STATE_PATCH = 'routing-current-state-v1';

async function routeNow(run: TaskRun, activities = background): Promise<Applied> {
  const s = run.state;
  const source = s.lifecycle?.source ?? null;
  const task = { provider: source?.provider ?? null, repo: source ? `${source.owner}/${source.repo}` : null, labels: source?.labels ?? [], title: s.title, priority: s.priority };
  const decisionId = () => `rdec_${uuid4().replace(/-/g, '').slice(0, 20)}`;
  const now = () => new Date(Date.now()).toISOString();
  let decision: RoutingDecision;
  if (patched(ROUTING_LEDGER_PATCH)) {
    decision = await activities.routeTask({ companyId: s.companyId, taskId: s.id, task, decisionId: decisionId(), now: now() });
  } else {
    // Runs recorded before: the id is drawn after the activity, as then (the random sequence is part of the history).
    const context = await activities.routingContext(s.companyId);
    decision = decideRoute({ task, rules: context.rules, openTasks: context.openTasks, assignedByRule: context.assignedByRule, decisionId: decisionId(), now: now() });
  }
  // The decision applies to the task as it is now: a comment or any other decision committed while the
  // activity ran is part of it. Runs recorded before applied it to the state read before the activity,
  // which dropped those decisions from the state after they were answered (and from the read model).
  const current = patched(ROUTING_CURRENT_STATE_PATCH) ? run.state : s;
  return applyRouting(markForRouting(current) ?? current, decision, ctx());
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
          // A Linear task's issue is not the repository's #number: name it as Linear's GitHub integration links it.
          const closes = source.provider === 'linear' ? `Closes ${source.identifier ?? source.url}` : `Closes #${source.number}`;
          const body = (pr.body ?? cmd.summary).includes(closes) ? (pr.body ?? cmd.summary) : `${pr.body ?? cmd.summary}\n\n${closes}`;
          pull = await provider.openPullRequest({
            sourceId: source.sourceId,
            taskId: run.state.id,
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

  setHandler(msg.reportChecksUpdate, (cmd) => handle(run, cmd, (c) => observed.applyChecksReported(run.state, cmd.checks, cmd.headSha ?? null, cmd.actor, c)), {
    validator: (cmd) => validate(run, cmd, () => observed.applyChecksReported(run.state, cmd.checks, cmd.headSha ?? null, cmd.actor, ctx())),
  });
  setHandler(
    msg.reviewUpdate,
    (cmd) => handle(run, cmd, (c) => observed.applyReviewRecorded(run.state, reviewOf(cmd), cmd.actor, c)),
    { validator: (cmd) => validate(run, cmd, () => observed.applyReviewRecorded(run.state, reviewOf(cmd), cmd.actor, ctx())) },
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
      const applied = observed.applyObservation(run.state, o, ctx());
      if (applied) run.commitApplied(applied);
      return !!applied;
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('could not read the pull request; the watcher tries again later', { error: String(err) });
      return false;
    }
  });
}
