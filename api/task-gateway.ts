/**
 * The facade's only door to the task workflows: starts them and sends updates, each call under a
 * deadline, with Temporal's answers mapped to our error codes.
 *
 * Temporal admits 10 in-flight updates per workflow; beyond that it answers RESOURCE_EXHAUSTED. A
 * per-issue queue keeps this process under that limit, so a 50-agent race ends in one 200 and 49
 * clean 409s instead of 429s and retries.
 */
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { searchAttributeValues } from '../domain/search-attributes.js';
import type { IssueState } from '../domain/task.js';
import type { Config } from '../runtime/config.js';
import { TASK_WORKFLOW_TYPE, workflowIdFor } from '../runtime/temporal.js';
import type { TaskResult, TaskWorkflowInput } from '../workflows/messages.js';
import { fromTemporal } from './errors.js';

export const MAX_IN_FLIGHT_PER_ISSUE = 2;

/**
 * At most `max` concurrent runs per key. A caller may pass a `precheck` that can refuse from cheaper
 * state: it runs before each attempt at a slot, and every finished run wakes all waiters to re-check,
 * so once a race is decided its losers are answered together instead of one slot at a time.
 */
export class KeyedLimiter {
  constructor(private readonly max = MAX_IN_FLIGHT_PER_ISSUE) {}

  private readonly slots = new Map<string, { active: number; waiting: Set<() => void> }>();

  async run<T>(key: string, fn: () => Promise<T>, precheck?: () => Promise<void>): Promise<T> {
    let slot = this.slots.get(key);
    if (!slot) this.slots.set(key, (slot = { active: 0, waiting: new Set() }));
    try {
      for (;;) {
        if (precheck) await precheck();
        if (slot.active < this.max) break;
        await new Promise<void>((resolve) => slot!.waiting.add(resolve));
      }
    } catch (err) {
      this.release(key, slot, false);
      throw err;
    }
    slot.active++;
    try {
      return await fn();
    } finally {
      this.release(key, slot, true);
    }
  }

  private release(key: string, slot: { active: number; waiting: Set<() => void> }, held: boolean): void {
    if (held) {
      slot.active--;
      const waiters = [...slot.waiting];
      slot.waiting.clear();
      for (const wake of waiters) wake();
    }
    if (slot.active === 0 && slot.waiting.size === 0) this.slots.delete(key);
  }
}

export class TaskGateway {
  private readonly limiter = new KeyedLimiter();

  constructor(
    private readonly client: Client,
    private readonly config: Config,
  ) {}

  private deadline<T>(fn: () => Promise<T>): Promise<T> {
    return this.client.withDeadline(Date.now() + this.config.temporalCallTimeoutMs, fn);
  }

  async start(state: IssueState): Promise<void> {
    const input: TaskWorkflowInput = { state, continueAsNewAfterEvents: this.config.continueAsNewAfterEvents };
    try {
      await this.deadline(() =>
        this.client.workflow.start(TASK_WORKFLOW_TYPE, {
          workflowId: workflowIdFor(state.id),
          taskQueue: this.config.taskQueue,
          args: [input],
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          typedSearchAttributes: searchAttributeValues(state).flatMap(({ key, value }) => (value === null ? [] : [{ key, value }])),
          staticSummary: state.title,
          staticDetails: `Switchyard task ${state.id} (company ${state.companyId})`,
        }),
      );
    } catch (err) {
      throw fromTemporal(err, state.id);
    }
  }

  /**
   * `precheck` runs before each attempt at the issue's slot: it may refuse from the read model (e.g. a
   * checkout the workflow would certainly refuse) and spare the round trip.
   */
  async update<A>(issueId: string, def: UpdateDefinition<TaskResult, [A]>, cmd: A, updateId?: string, precheck?: () => Promise<void>): Promise<TaskResult> {
    return this.limiter.run(
      issueId,
      async () => {
        try {
          const handle = this.client.workflow.getHandle(workflowIdFor(issueId));
          return await this.deadline(() => handle.executeUpdate(def, { args: [cmd], ...(updateId ? { updateId } : {}) }));
        } catch (err) {
          throw fromTemporal(err, issueId);
        }
      },
      precheck,
    );
  }

  /** Cheap reachability probe for /readyz. */
  async ping(): Promise<void> {
    await this.client.withDeadline(Date.now() + 2_000, () =>
      this.client.workflowService.getSystemInfo({}),
    );
  }
}
