/**
 * The facade's only door to the task workflows: starts them, sends updates, restores closed ones.
 * Every call ends by the request's deadline (time spent queueing included), and Temporal's answers
 * come back in our error vocabulary.
 */
import { eventsOf } from '../domain/events.js';
import {
  ServiceError,
  WithStartWorkflowOperation,
  isGrpcServiceError,
  WorkflowIdConflictPolicy,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { DomainError } from '../domain/errors.js';
import type { WorkflowStatus } from '../domain/projection.js';
import { searchAttributeValues } from '../domain/search-attributes.js';
import type { Effect } from '../domain/effects.js';
import { startNotices } from '../domain/dependencies.js';
import type { IssueState } from '../domain/task.js';
import { uuidFromSeed } from '../runtime/ids.js';
import type { Config } from '../runtime/config.js';
import { queryTaskProjection } from '../runtime/task-projection.js';
import { TASK_WORKFLOW_TYPE, workflowIdFor, type RestoreCmd, type TaskProjection, type TaskResult, type TaskWorkflowInput, restoreUpdate } from '../workflows/messages.js';
import { fromTemporal, temporalUnavailable } from './errors.js';
import { KeyedLimiter } from './limiter.js';

export interface UpdateOptions {
  updateId?: string;
  /** Epoch ms by which the caller must have its answer. */
  deadline: number;
  /** Runs before each attempt at the issue's slot: may refuse from the read model and spare the round trip. */
  precheck?: () => Promise<void>;
  /**
   * What to answer when the deadline passes with the update still running (instead of
   * temporal_unavailable): an update that waits on a provider is most likely waiting for it.
   */
  whenSlow?: () => DomainError;
}

export class TaskGateway {
  private readonly limiter = new KeyedLimiter();

  constructor(
    readonly client: Client,
    private readonly config: Config,
  ) {}

  /** Any other Temporal call (Schedules, intake, signals) under the same hard deadline. */
  withTemporal<T>(deadline: number, fn: () => Promise<T>): Promise<T> {
    return this.call(deadline, fn);
  }

  /**
   * One Temporal call under a hard deadline: the SDK's own deadline covers the RPC, the abort covers
   * a connection that never comes up, and the race guarantees the caller hears back in time.
   */
  private async call<T>(deadline: number, fn: () => Promise<T>): Promise<T> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw temporalUnavailable();
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(temporalUnavailable());
      }, remaining);
    });
    const work = this.client.withAbortSignal(abort.signal, () => this.client.withDeadline(deadline, fn));
    work.catch(() => {}); // settled after the race is lost: nothing waits for it
    try {
      return await Promise.race([work, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  async start(state: IssueState, deadline: number): Promise<void> {
    // Created with an assignee: that agent is woken (the id is derived, so a retried create wakes once).
    const effects: Effect[] = state.assigneeAgentId
      ? [{ kind: 'wake', id: uuidFromSeed(`${state.id}:assigned`), agentId: state.assigneeAgentId, reason: 'issue_assigned', summary: `Assigned ${state.identifier ?? state.id}: ${state.title}` }]
      : [];
    // Its parent learns it exists, its blockers that it waits on them (ids derived: a retry sends each once).
    effects.push(...startNotices(state, (what) => uuidFromSeed(`${state.id}:${what}`)));
    // Its creation is an event of its own (task.updated, previousStatus null), written by the projection.
    const pending = { comments: [], activity: [], rowDirty: false, descriptionDirty: false, events: eventsOf(null, { issue: state, comments: [], activity: [] }) };
    const input: TaskWorkflowInput = { state, pending, continueAsNewAfterEvents: this.config.continueAsNewAfterEvents, ...(effects.length ? { effects } : {}) };
    try {
      await this.call(deadline, () => this.client.workflow.start(TASK_WORKFLOW_TYPE, { ...this.startOptions(state), args: [input], workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING }));
    } catch (err) {
      throw fromTemporal(err, state.id);
    }
  }

  private startOptions(state: IssueState) {
    return {
      workflowId: workflowIdFor(state.id),
      taskQueue: this.config.taskQueue,
      typedSearchAttributes: searchAttributeValues(state).flatMap(({ key, value }) => (value === null ? [] : [{ key, value }])),
      staticSummary: state.title,
      staticDetails: `Switchyard task ${state.id} (company ${state.companyId})`,
    };
  }

  async update<A, R = TaskResult>(issueId: string, def: UpdateDefinition<R, [A]>, cmd: A, opts: UpdateOptions): Promise<R> {
    try {
      return await this.sendUpdate(issueId, def, cmd, opts);
    } catch (err) {
      const timedOut = err instanceof DomainError && err.code === 'temporal_unavailable' && Date.now() >= opts.deadline - 50;
      if (timedOut && opts.whenSlow) throw opts.whenSlow();
      throw err;
    }
  }

  private async sendUpdate<A, R>(issueId: string, def: UpdateDefinition<R, [A]>, cmd: A, opts: UpdateOptions): Promise<R> {
    const handle = this.client.workflow.getHandle(workflowIdFor(issueId));
    const send = () => this.call(opts.deadline, () => handle.executeUpdate(def, { args: [cmd], ...(opts.updateId ? { updateId: opts.updateId } : {}) }));
    return this.limiter.run(
      issueId,
      async () => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await send();
          } catch (err) {
            if (err instanceof WorkflowNotFoundError) throw await this.unavailable(issueId, opts.deadline);
            // The workflow task that carried the update failed before accepting it (e.g. the server
            // refused a continue-as-new because new events had arrived): it never happened, send it again.
            if (notAccepted(err) && Date.now() + RETRY_NOT_ACCEPTED_MS * (attempt + 1) < opts.deadline) {
              await new Promise((r) => setTimeout(r, RETRY_NOT_ACCEPTED_MS * (attempt + 1)));
              continue;
            }
            throw fromTemporal(err, issueId);
          }
        }
      },
      { precheck: opts.precheck, deadline: opts.deadline, onTimeout: temporalUnavailable },
    );
  }

  /** How the task's workflow ended, as the read model spells it (null: it is running). */
  async closedStatus(issueId: string, deadline: number): Promise<{ status: WorkflowStatus | null; runId?: string } | undefined> {
    try {
      const d = await this.call(deadline, () => this.client.workflow.getHandle(workflowIdFor(issueId)).describe());
      const name = d.status.name.toLowerCase();
      return { status: name === 'running' ? null : (name as WorkflowStatus), runId: d.runId };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw fromTemporal(err, issueId);
    }
  }

  /** An update found no running workflow: say how it ended (an operator can restore it). */
  private async unavailable(issueId: string, deadline: number): Promise<DomainError> {
    const closed = await this.closedStatus(issueId, deadline);
    // Running after all (a continue-as-new at that very moment): the caller may simply retry.
    if (closed && closed.status === null) return temporalUnavailable();
    return taskUnavailable(issueId, closed?.status ?? 'terminated');
  }

  /** The last state a closed run held, straight from its history (the worker replays it to answer). */
  lastProjection(issueId: string, runId: string, deadline: number): Promise<TaskProjection | undefined> {
    return queryTaskProjection(this.client, issueId, runId, (call) => this.call(deadline, call));
  }

  /** Starts the task again from `from` and records who did it, in one Update-with-Start. */
  async restore(from: TaskProjection, closed: { runId: string; status: string }, cmd: RestoreCmd, deadline: number): Promise<TaskResult> {
    const state = from.state;
    const input: TaskWorkflowInput = {
      state,
      keep: from.keep,
      pending: { ...from.pending, rowDirty: true, descriptionDirty: true, projectedVersion: from.projectedVersion },
      restoring: { fromRunId: closed.runId, workflowStatus: closed.status },
      continueAsNewAfterEvents: this.config.continueAsNewAfterEvents,
    };
    const start = new WithStartWorkflowOperation(TASK_WORKFLOW_TYPE, {
      ...this.startOptions(state),
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });
    try {
      // Named after the run it restores: two operators restoring at once get the same answer.
      return await this.call(deadline, () =>
        this.client.workflow.executeUpdateWithStart(restoreUpdate, { args: [cmd], updateId: `restore:${closed.runId}`, startWorkflowOperation: start }),
      );
    } catch (err) {
      throw fromTemporal(err, state.id);
    }
  }

  /** Cheap reachability probe for /readyz. */
  async ping(): Promise<void> {
    await this.call(Date.now() + 2_000, () => this.client.workflowService.getSystemInfo({}));
  }

  /** Whether some worker polled the task queue lately (workflow and activity tasks both). */
  async workerPolling(maxAgeMs = 75_000): Promise<boolean> {
    const { namespace } = this.client.options;
    const since = Date.now() - maxAgeMs;
    for (const taskQueueType of [1, 2]) {
      const { pollers } = await this.call(Date.now() + 2_000, () =>
        this.client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: this.config.taskQueue }, taskQueueType }),
      );
      const recent = (pollers ?? []).some((p) => p.lastAccessTime && Number(p.lastAccessTime.seconds ?? 0) * 1000 >= since);
      if (!recent) return false;
    }
    return true;
  }
}

const RETRY_NOT_ACCEPTED_MS = 50;

/** FAILED_PRECONDITION from UpdateWorkflowExecution: the workflow task carrying the update failed first. */
function notAccepted(err: unknown): boolean {
  const cause = err instanceof ServiceError ? err.cause : err;
  return isGrpcServiceError(cause) && cause.code === 9;
}

export function taskUnavailable(issueId: string, workflowStatus: WorkflowStatus): DomainError {
  return new DomainError(
    'task_unavailable',
    `This task's workflow is ${workflowStatus}: it takes no changes until an operator restores it (npm run cli -- admin restore ${issueId})`,
    { issueId, workflowStatus },
  );
}
