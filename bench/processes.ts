/**
 * The benchmark's system under test, deployed as in production: the worker and the API as their own
 * processes (`worker/main.ts`, `api/main.ts`) on a fresh database, so the measuring client does not
 * share an event loop with them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { migrate } from '../db/migrate.js';
import { createPool, type Pool } from '../db/pool.js';
import { freePort } from '../scripts/stack/ports.js';
import { dropDatabase, ensureDatabase } from '../scripts/stack/postgres.js';
import { stopChild } from '../scripts/stack/temporal-server.js';
import { HttpClient } from '../test/support/http.js';

export interface Deployed {
  url: string;
  admin: HttpClient;
  as(key: string, runId: string): HttpClient;
  pool: Pool;
  client: Client;
  taskQueue: string;
  /** Where the engine's floor (bench/floor/) runs, in a worker process of its own. */
  floorTaskQueue: string;
  /** The worker process's id (its RSS is measured). */
  workerPid: number;
  /** The API process's id (its RSS is measured with many streams open). */
  apiPid: number;
  adminKey: string;
  stop(): Promise<void>;
}

export async function deploy(extraEnv: Record<string, string> = {}): Promise<Deployed> {
  const temporal = process.env.TEST_TEMPORAL_ADDRESS!;
  const pgServer = process.env.TEST_DATABASE_SERVER_URL!;
  const suffix = randomBytes(4).toString('hex');
  const dbName = `sy_bench_${suffix}`;
  const databaseUrl = await ensureDatabase(pgServer, dbName);
  const pool = createPool(databaseUrl, 25);
  await migrate(pool);
  const port = await freePort();
  const adminKey = `bench_admin_${suffix}`;
  const taskQueue = `bench-${suffix}`;
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: temporal,
    DATABASE_URL: databaseUrl,
    SWITCHYARD_TASK_QUEUE: taskQueue,
    BENCH_FLOOR_TASK_QUEUE: `${taskQueue}-floor`,
    SWITCHYARD_SECRET_KEY: `bench-secret-${suffix}`,
    SWITCHYARD_ADMIN_KEY: adminKey,
    SWITCHYARD_TEMPORAL_TIMEOUT_MS: '30000',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const children: ChildProcess[] = ['worker/main.ts', 'api/main.ts', 'bench/floor/worker.ts'].map((file) =>
    spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(`../${file}`, import.meta.url))], { env, stdio: ['ignore', 'ignore', 'inherit'] }),
  );
  const url = `http://127.0.0.1:${port}`;
  const admin = new HttpClient(url, adminKey);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await admin.get('/readyz').catch(() => undefined);
    if (ready?.status === 200) break;
    if (Date.now() > deadline) throw new Error('the API did not become ready');
    await new Promise((r) => setTimeout(r, 200));
  }
  const connection = await Connection.connect({ address: temporal });
  return {
    url,
    admin,
    as: (key, runId) => new HttpClient(url, key, runId),
    pool,
    client: new Client({ connection }),
    taskQueue,
    floorTaskQueue: `${taskQueue}-floor`,
    workerPid: children[0]!.pid!,
    apiPid: children[1]!.pid!,
    adminKey,
    async stop() {
      await Promise.all(children.map((c) => stopChild(c)));
      await connection.close();
      await pool.end();
      await dropDatabase(pgServer, dbName);
    },
  };
}
