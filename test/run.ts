/**
 * `npm test`: one Temporal dev server and one Postgres for the whole run, the workflow code bundled
 * once, then node's test runner over every test file. Each file makes its own database and task queue.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflows } from '../worker/create-worker.js';
import { ensureTemporalCli, ROOT } from '../scripts/stack/temporal-cli.js';
import { startDevServer } from '../scripts/stack/temporal-server.js';
import { startPostgres } from '../scripts/stack/postgres.js';
import { freePort } from './support/ports.js';

const log = (line: string) => console.error(`[test] ${line}`);

function testFiles(filter: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.test.ts')) out.push(full);
    }
  };
  walk(path.join(ROOT, 'test'));
  const picked = filter.length ? out.filter((f) => filter.some((x) => f.includes(x))) : out;
  return picked.sort();
}

const files = testFiles(process.argv.slice(2));
const dataDir = path.join(ROOT, '.test-data');
mkdirSync(dataDir, { recursive: true });

const cli = ensureTemporalCli(log);
const temporal = await startDevServer({
  cli,
  port: await freePort(),
  headless: true,
  extraArgs: ['--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=OFF'],
});
const postgres = await startPostgres({ dataDir: path.join(dataDir, 'pgdata'), port: await freePort() });
log(`temporal ${temporal.address}, postgres ${postgres.embedded ? 'embedded' : 'DATABASE_URL'}`);

const bundle = await bundleWorkflows();
const bundlePath = path.join(dataDir, 'workflow-bundle.js');
writeFileSync(bundlePath, bundle.code);

const env = {
  ...process.env,
  TEST_TEMPORAL_ADDRESS: temporal.address,
  TEST_TEMPORAL_CLI: cli,
  TEST_DATABASE_SERVER_URL: postgres.serverUrl,
  SWITCHYARD_WORKFLOW_BUNDLE: bundlePath,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
};
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], {
  env,
  stdio: 'inherit',
});
const code: number = await new Promise((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
await temporal.stop();
await postgres.stop();
process.exit(code);
