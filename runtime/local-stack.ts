/**
 * Where `npm start` puts things, so the scripts and the CLI that talk to a local stack find it
 * without being told: its state folder, its embedded Postgres, its admin key.
 */
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

/** DATABASE_URL, or the database `npm start` runs on its embedded Postgres. */
export function localDatabaseUrl(env = process.env): string {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  const u = new URL(embeddedServerUrl(env));
  u.pathname = `/${LOCAL_DATABASE}`;
  return u.toString();
}

export const adminKeyFile = (env = process.env) => path.join(stateDir(env), 'admin-key');
