/**
 * Where `npm start` puts things, so the scripts and the CLI that talk to a local stack find it
 * without being told: its state folder, its embedded Postgres, its admin key.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Secrets and Temporal's database (0700; override with SWITCHYARD_STATE_DIR). */
export const stateDir = (env = process.env) => path.resolve(env.SWITCHYARD_STATE_DIR || path.join(ROOT, '.switchyard'));

export const DEFAULT_PG_PORT = 54329;
export const LOCAL_DATABASE = 'switchyard';

export function embeddedServerUrl(env = process.env): string {
  return `postgres://postgres:postgres@127.0.0.1:${Number(env.SWITCHYARD_PG_PORT || DEFAULT_PG_PORT)}/postgres`;
}

/** Where a running `npm start` said its stack answers (`<state>/stack.json`), if one is running. */
export function runningStack(env = process.env): { api?: string; temporal?: string; database?: string; ui?: string } {
  try {
    return JSON.parse(readFileSync(path.join(stateDir(env), 'stack.json'), 'utf8')).endpoints ?? {};
  } catch {
    return {};
  }
}

/** DATABASE_URL, or the database of the running `npm start`, or where `npm start` would put it. */
export function localDatabaseUrl(env = process.env): string {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  const running = runningStack(env).database;
  if (running) return running;
  const u = new URL(embeddedServerUrl(env));
  u.pathname = `/${LOCAL_DATABASE}`;
  return u.toString();
}

/** TEMPORAL_ADDRESS, or the running `npm start`'s Temporal, or the default. */
export function localTemporalAddress(env = process.env): string {
  return env.TEMPORAL_ADDRESS || runningStack(env).temporal || '127.0.0.1:7233';
}

/** SWITCHYARD_URL, or the running `npm start`'s API, or the default. */
export function localApiUrl(env = process.env): string {
  return env.SWITCHYARD_URL || runningStack(env).api || 'http://127.0.0.1:3000';
}

export const adminKeyFile = (env = process.env) => path.join(stateDir(env), 'admin-key');
