/** A throwaway stack for a test or benchmark run: dev server (in memory), Postgres, workflow bundle. */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflows } from '../../worker/create-worker.js';
import { freePort } from './ports.js';
import { startPostgres } from './postgres.js';
import { ensureTemporalCli, ROOT } from './temporal-cli.js';
import { PERSISTENT_SQLITE_PRAGMAS, startDevServer } from './temporal-server.js';

/**
 * How the throwaway dev server keeps its data. `memory`: in memory, SQLite without fsync — tests need
 * speed, not durability (the SDK's own CI does this). `file`: a database file with the settings
 * `npm start` uses (WAL, synchronous=NORMAL). `file-default`: a file with SQLite's own defaults.
 */
export type TemporalStorage = 'memory' | 'file' | 'file-default';

export async function startEphemeralStack(log: (line: string) => void, storage: TemporalStorage = 'memory') {
  const dataDir = path.join(ROOT, '.test-data');
  mkdirSync(dataDir, { recursive: true });
  const cli = await ensureTemporalCli(log);
  const dbFilename = storage === 'memory' ? undefined : path.join(dataDir, `temporal-${process.pid}.db`);
  const temporal = await startDevServer({
    cli,
    port: await freePort(),
    headless: true,
    dbFilename,
    extraArgs: storage === 'memory' ? ['--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=OFF'] : storage === 'file' ? PERSISTENT_SQLITE_PRAGMAS : [],
  });
  const postgres = await startPostgres({ dataDir: path.join(dataDir, 'pgdata'), port: await freePort() });
  log(`temporal ${temporal.address} (${storage}), postgres ${postgres.embedded ? 'embedded' : 'DATABASE_URL'}`);
  const bundlePath = path.join(dataDir, `workflow-bundle-${process.pid}.js`);
  writeFileSync(bundlePath, (await bundleWorkflows()).code);
  return {
    /** What test files and benchmarks read to find this stack. */
    env: {
      TEST_TEMPORAL_ADDRESS: temporal.address,
      TEST_TEMPORAL_CLI: cli,
      TEST_DATABASE_SERVER_URL: postgres.serverUrl,
      SWITCHYARD_WORKFLOW_BUNDLE: bundlePath,
    },
    async stop() {
      await temporal.stop();
      await postgres.stop();
      rmSync(bundlePath, { force: true });
      if (dbFilename) for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(dbFilename + suffix, { force: true });
    },
  };
}
