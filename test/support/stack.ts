/**
 * A test file's own slice of the real stack: a fresh database on the shared Postgres, a worker on
 * its own task queue of the shared Temporal dev server, and the API on a random port.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { WorkerGroup } from '../../worker/create-worker.js';
import { createApp } from '../../api/app.js';
import { answerClientErrors } from '../../api/client-errors.js';
import { ReadModel } from '../../api/read-model.js';
import { TaskGateway } from '../../api/task-gateway.js';
import { migrate } from '../../db/migrate.js';
import { createPool, type Pool } from '../../db/pool.js';
import { loadConfig, type Config } from '../../runtime/config.js';
import { dropDatabase, ensureDatabase } from '../../scripts/stack/postgres.js';
import { HttpClient } from './http.js';

// Keep test output to what tests say; the SDK's own INFO lines drown it.
Runtime.install({ logger: new DefaultLogger('WARN') });

export interface Stack {
  url: string;
  adminKey: string;
  config: Config;
  pool: Pool;
  client: Client;
  databaseUrl: string;
  worker: WorkerGroup | undefined;
  admin: HttpClient;
  as(key: string, runId?: string): HttpClient;
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Config overrides (small continue-as-new threshold, short leases, …). */
  config?: Partial<Config>;
  /** Run no in-process worker (a test that runs the worker as a child process). */
  withoutWorker?: boolean;
  /** Another Temporal server than the run's shared one (a test that kills its server). */
  temporalAddress?: string;
  /** Another workflow bundle (e.g. with a test-only interceptor) and extra worker options (sinks). */
  workflowBundle?: import('@temporalio/worker').WorkflowBundleWithSourceMap | { codePath: string };
  workerOptions?: Partial<import('@temporalio/worker').WorkerOptions>;
}

export function testEnv() {
  const temporal = process.env.TEST_TEMPORAL_ADDRESS;
  const pg = process.env.TEST_DATABASE_SERVER_URL;
  if (!temporal || !pg) throw new Error('Run the tests with `npm test` (it starts Temporal and Postgres for them)');
  return { temporal, pg, bundle: process.env.SWITCHYARD_WORKFLOW_BUNDLE, cli: process.env.TEST_TEMPORAL_CLI };
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const env = testEnv();
  const suffix = randomBytes(5).toString('hex');
  const dbName = `sy_test_${suffix}`;
  const databaseUrl = await ensureDatabase(env.pg, dbName);
  const pool = createPool(databaseUrl, 20);
  await migrate(pool);

  const adminKey = `test_admin_${suffix}`;
  const temporalAddress = opts.temporalAddress ?? env.temporal;
  const config: Config = {
    ...loadConfig({}),
    temporalAddress,
    taskQueue: `tq-${suffix}`,
    databaseUrl,
    adminKey,
    minLeaseSeconds: 1,
    // A test that wants the reconciler runs it itself.
    reconcileEveryMinutes: 0,
    secretKey: `test-secret-${suffix}`,
    // Test receivers listen on loopback (the private-target test turns this off).
    allowPrivateTargets: true,
    ...opts.config,
  };
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection, namespace: config.temporalNamespace });
  const nativeConnection = await NativeConnection.connect({ address: temporalAddress });

  let worker: WorkerGroup | undefined;
  let running: Promise<void> | undefined;
  const startWorker = async () => {
    const { createWorker } = await import('../../worker/create-worker.js');
    worker = await createWorker({
      config,
      pool,
      connection: nativeConnection,
      client,
      workflowBundle: opts.workflowBundle ?? (env.bundle ? { codePath: env.bundle } : undefined),
      options: opts.workerOptions,
    });
    running = worker.run();
  };
  const stopWorker = async () => {
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    worker = undefined;
  };
  if (!opts.withoutWorker) await startWorker();

  const app = createApp({ config, pool, reads: new ReadModel(pool), tasks: new TaskGateway(client, config), adminKey });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  answerClientErrors(server);
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  return {
    url,
    adminKey,
    config,
    pool,
    client,
    databaseUrl,
    get worker() {
      return worker;
    },
    admin: new HttpClient(url, adminKey),
    as: (key, runId) => new HttpClient(url, key, runId),
    stopWorker,
    startWorker,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await stopWorker();
      await terminateWorkflows(client, config.taskQueue);
      await connection.close();
      await nativeConnection.close();
      await pool.end();
      await dropDatabase(env.pg, dbName);
    },
  };
}

/** Task workflows live forever; end this file's so the shared dev server stays light. */
async function terminateWorkflows(client: Client, taskQueue: string): Promise<void> {
  try {
    for await (const wf of client.workflow.list({ query: `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"` })) {
      await client.workflow.getHandle(wf.workflowId).terminate('test finished').catch(() => {});
    }
  } catch {
    // Visibility can lag; leftovers are ended with the dev server.
  }
}
