/** Builds a worker for the task queue: the workflow bundle plus the activities bound to a Postgres pool. */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createDbActivities } from '../activities/db.js';
import type { Pool } from '../db/pool.js';
import type { Config } from '../runtime/config.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export async function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
}

const noop = () => {};
const quietBundlerLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

export interface WorkerDeps {
  config: Config;
  pool: Pool;
  connection: NativeConnection;
  /** A prebuilt bundle (tests share one); otherwise the worker bundles the workflow code itself. */
  workflowBundle?: WorkflowBundleWithSourceMap | { codePath: string };
}

export async function createWorker({ config, pool, connection, workflowBundle }: WorkerDeps): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    workflowBundle: workflowBundle ?? (await bundleWorkflows()),
    activities: createDbActivities(pool, { persistDelayMs: config.faultPersistDelayMs }),
    shutdownGraceTime: '30 seconds',
    // If Temporal itself is gone, draining cannot finish: give up rather than hang.
    shutdownForceTime: '45 seconds',
    maxConcurrentActivityTaskExecutions: 50,
  });
}
