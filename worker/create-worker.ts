/** Builds a worker for the task queue: the workflow bundle plus the activities bound to Postgres and Temporal. */
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createProjectionActivities } from '../activities/projection.js';
import { createDeliveryActivities } from '../activities/delivery.js';
import { createIntakeActivities } from '../activities/intake.js';
import { createReconcileActivities } from '../activities/reconcile.js';
import { secretBox } from '../runtime/secrets.js';
import type { Pool } from '../db/pool.js';
import type { Config } from '../runtime/config.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export async function bundleWorkflows(workflowInterceptorModules?: string[]): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules, logger: quietBundlerLogger });
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
  workflowBundle?: WorkflowBundleWithSourceMap | { codePath: string };
  /** Extra worker options (tests add sinks). */
  options?: Partial<WorkerOptions>;
}

export async function createWorker({ config, pool, connection, client, workflowBundle, options }: WorkerDeps): Promise<Worker> {
  // Opened when an activity first needs a secret: a worker without a key still serves tasks without sources.
  const box = () => secretBox(config.secretKey);
  return Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    workflowBundle: workflowBundle ?? (await bundleWorkflows()),
    activities: {
      ...createProjectionActivities(pool, client),
      ...createReconcileActivities(pool, client),
      ...createDeliveryActivities(pool, box, config),
      ...createIntakeActivities(pool, client, box, config),
    },
    shutdownGraceTime: '30 seconds',
    // If Temporal itself is gone, draining cannot finish: give up rather than hang.
    shutdownForceTime: '45 seconds',
    maxConcurrentActivityTaskExecutions: 50,
    // Bounded: every open task stays cached otherwise (~130 MB per 1,000), and most are idle.
    maxCachedWorkflows: config.maxCachedWorkflows,
    ...options,
  });
}
