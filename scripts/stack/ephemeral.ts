/** A throwaway stack for a test or benchmark run: dev server (in memory), Postgres, workflow bundle. */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflows } from '../../worker/create-worker.js';
import { freePort } from './ports.js';
import { startPostgres } from './postgres.js';
import { ensureTemporalCli, ROOT } from './temporal-cli.js';
import { startDevServer } from './temporal-server.js';

export async function startEphemeralStack(log: (line: string) => void) {
  const dataDir = path.join(ROOT, '.test-data');
  mkdirSync(dataDir, { recursive: true });
  const cli = await ensureTemporalCli(log);
  // In memory, and SQLite without fsync: tests need speed, not durability (the SDK's own CI does this).
  const temporal = await startDevServer({
    cli,
    port: await freePort(),
    headless: true,
    extraArgs: ['--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=OFF'],
  });
  const postgres = await startPostgres({ dataDir: path.join(dataDir, 'pgdata'), port: await freePort() });
  log(`temporal ${temporal.address}, postgres ${postgres.embedded ? 'embedded' : 'DATABASE_URL'}`);
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
    },
  };
}
