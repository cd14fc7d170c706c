/** Builds a worker for the task queue: the workflow bundle plus the activities bound to Postgres and Temporal. */
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createProjectionActivities } from '../activities/projection.js';
import { createDeliveryActivities } from '../activities/delivery.js';
import { createIntakeActivities } from '../activities/intake.js';
import { createReconcileActivities } from '../activities/reconcile.js';
import { createEventDeliveryActivities } from '../activities/event-delivery.js';
import { webhookQueueOf } from '../workflows/event-subscription/contract.js';
import { EventDispatcher } from './event-dispatcher.js';
import { secretBox } from '../runtime/secrets.js';
import type { Pool } from '../db/pool.js';
import type { Config } from '../runtime/config.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
/** Always bundled: fails the workflow tasks of runs the worker quarantined (worker/quarantine.ts). */
const QUARANTINE_INTERCEPTOR = fileURLToPath(new URL('../workflows/quarantine.ts', import.meta.url));

export async function bundleWorkflows(workflowInterceptorModules: string[] = [], workflowsPath = WORKFLOWS_PATH): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: [QUARANTINE_INTERCEPTOR, ...workflowInterceptorModules], logger: quietBundlerLogger });
}

const noop = () => {};
const quietBundlerLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

export interface WorkerDeps {
  config: Config;
  pool: Pool;
  connection: NativeConnection;
  /** For activities that read workflow histories and query workflows. */
  client: Client;
  /** A prebuilt bundle (tests share one); otherwise the worker bundles the workflow code itself. */
  workflowBundle?: WorkflowBundleWithSourceMap | { codePath: string } | { code: string };
  /** Extra worker options (tests add sinks). */
  options?: Partial<WorkerOptions>;
}

/** Where wakes run: `<task queue>-wakes` (the workflow derives the same name), served where the agents live. */
export const wakeQueueOf = (taskQueue: string) => `${taskQueue}-wakes`;

/** Webhook deliveries one worker process makes at once (each bounded by its 10 s timeout). */
const WEBHOOK_CONCURRENCY = 100;

/** What the worker process runs: both queues (default), only the tasks, or only the wakes (a host where agents live). */
export type WorkerRole = 'all' | 'tasks' | 'wakes';

/** The workers of one process, run and stopped together. */
export interface WorkerGroup {
  run(): Promise<void>;
  shutdown(): void;
  getState(): ReturnType<Worker['getState']>;
}

export async function createWorker({ config, pool, connection, client, workflowBundle, options, role = 'all' }: WorkerDeps & { role?: WorkerRole }): Promise<WorkerGroup> {
  // Opened when an activity first needs a secret: a worker without a key still serves tasks without sources.
  const box = () => secretBox(config.secretKey);
  const delivery = createDeliveryActivities(pool, box, config);
  const common = {
    connection,
    namespace: config.temporalNamespace,
    shutdownGraceTime: '30 seconds',
    // If Temporal itself is gone, draining cannot finish: give up rather than hang.
    shutdownForceTime: '45 seconds',
  } as const;
  const workers: Worker[] = [];
  let dispatcher: EventDispatcher | undefined;
  if (role !== 'wakes') {
    const { wakeAgent: _onItsOwnQueue, ...taskActivities } = delivery;
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: config.taskQueue,
        workflowBundle: workflowBundle ?? (await bundleWorkflows()),
        activities: {
          ...createProjectionActivities(pool, client),
          ...createReconcileActivities(pool, client),
          ...taskActivities,
          ...createIntakeActivities(pool, client, box, config),
        },
        maxConcurrentActivityTaskExecutions: 50,
        // Bounded: every open task stays cached otherwise (~0.5 MB each), and most are idle.
        maxCachedWorkflows: config.maxCachedWorkflows,
        ...options,
      }),
    );
    // Webhook deliveries on a queue of their own: a slow receiver holds one of these slots for at most
    // its 10 s timeout, and never one the task workflows' activities need.
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: webhookQueueOf(config.taskQueue),
        activities: createEventDeliveryActivities(pool, box, config),
        maxConcurrentActivityTaskExecutions: WEBHOOK_CONCURRENCY,
      }),
    );
    dispatcher = new EventDispatcher(pool, client, config);
  }
  if (role !== 'tasks') {
    // Process wakes spawn the agent on this host: the wake queue is served where the agents live.
    workers.push(await Worker.create({ ...common, taskQueue: wakeQueueOf(config.taskQueue), activities: { wakeAgent: delivery.wakeAgent }, maxConcurrentActivityTaskExecutions: 20 }));
  }
  return {
    run: () => {
      dispatcher?.start();
      return Promise.all(workers.map((w) => w.run())).then(() => undefined).finally(() => dispatcher?.stop());
    },
    shutdown: () => {
      dispatcher?.stop();
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
    getState: () => workers[0]!.getState(),
  };
}
