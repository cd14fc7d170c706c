/**
 * Managed local mode: how an agent process is started on the worker's host. The agent is untrusted (a
 * language model does what the text in front of it says), so it gets only what it needs: an
 * allowlisted environment (never the worker's secrets), a working directory of its own, and — when the
 * operator names one — another OS user, so it cannot read what the worker can.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** What of the worker's own environment an agent may see: where programs are, its home, language and time zone. */
const INHERITED = ['PATH', 'HOME', 'LANG', 'TZ'];
const inherited = (name: string) => INHERITED.includes(name) || name.startsWith('LC_');

/** Names the wake itself sets: a target's own variables may not override them. */
export const RESERVED_ENV_PREFIXES = ['SWITCHYARD_', 'PAPERCLIP_'];

/**
 * The agent's environment: the allowlisted part of the worker's, then the variables the operator put on
 * the wake target, then the wake's own (which nothing overrides).
 */
export function agentEnvironment(worker: NodeJS.ProcessEnv, targetEnv: Record<string, string> | undefined, wake: Record<string, string>, home?: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(worker)) if (value !== undefined && inherited(name)) env[name] = value;
  if (home) env.HOME = home;
  for (const [name, value] of Object.entries(targetEnv ?? {})) {
    if (!RESERVED_ENV_PREFIXES.some((p) => name.startsWith(p))) env[name] = value;
  }
  return { ...env, ...wake };
}

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** A user of this host by name or uid (NSS first, so LDAP users work; /etc/passwd if getent is missing). */
export function lookupUser(user: string): OsUser | undefined {
  const fields = (line: string) => {
    const [name, , uid, gid, , home] = line.split(':');
    return name && uid && gid ? { name, uid: Number(uid), gid: Number(gid), home: home || '/' } : undefined;
  };
  const r = spawnSync('getent', ['passwd', user], { encoding: 'utf8' });
  if (r.status === 0 && r.stdout.trim()) return fields(r.stdout.trim().split('\n')[0]!);
  if (r.error === undefined) return undefined;
  try {
    const lines = readFileSync('/etc/passwd', 'utf8').split('\n');
    return lines.map(fields).find((u) => u && (u.name === user || String(u.uid) === user));
  } catch {
    return undefined;
  }
}

export type RunAs = { uid: number; gid: number; home: string; name: string } | undefined;

/** Why the worker cannot run an agent as `user`, or the ids to run it with. */
export function resolveRunAs(user: string | undefined): { ok: true; runAs: RunAs } | { ok: false; why: string } {
  if (user === undefined) return { ok: true, runAs: undefined };
  const found = lookupUser(user);
  if (!found) return { ok: false, why: `the wake target's user "${user}" does not exist on this host` };
  const self = process.getuid?.();
  if (self !== 0 && self !== found.uid) {
    return { ok: false, why: `the wakes worker runs as uid ${self} and cannot start agents as "${user}": run it as root, or as that user (README "Trust model")` };
  }
  return { ok: true, runAs: found };
}

/**
 * A working directory of the agent's own, for one run (never the worker's checkout or its
 * `.switchyard/`): private to the user the agent runs as. `remove` deletes it after the run.
 */
export function freshRunDirectory(runAs: RunAs): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-run-'));
  if (runAs) chownSync(dir, runAs.uid, runAs.gid);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** util-linux's setpriv, when this host has it (Linux): it sets the parent-death signal, then execs the agent. */
let setpriv: string | null | undefined;
function setprivPath(): string | null {
  if (setpriv === undefined) {
    const found = process.platform === 'linux' ? spawnSync('setpriv', ['--version'], { stdio: 'ignore' }) : undefined;
    setpriv = found && found.status === 0 ? 'setpriv' : null;
  }
  return setpriv;
}

/**
 * Starts the agent so that it dies with the worker: a worker killed mid-run (kill -9, OOM) would
 * otherwise leave the agent working with a live run token while the retried wake starts a second one.
 * On Linux the kernel sends it SIGKILL when the worker dies (setpriv --pdeathsig); elsewhere it is a
 * plain spawn (README: "Process wakes").
 */
export function spawnAgent(command: string, args: string[], opts: SpawnOptions): ChildProcess {
  const wrapper = setprivPath();
  // A command that is not there fails as it always did (spawn's ENOENT), not as setpriv's exit 127.
  const found = findExecutable(command, opts.env?.PATH ?? process.env.PATH ?? '', String(opts.cwd ?? process.cwd()));
  return wrapper && found ? spawn(wrapper, ['--pdeathsig', 'KILL', '--', found, ...args], opts) : spawn(command, args, opts);
}

/** The file `command` names: a path (relative to `cwd`), or the first match on PATH; executable. */
function findExecutable(command: string, pathVar: string, cwd: string): string | undefined {
  const candidates = command.includes('/') ? [path.resolve(cwd, command)] : pathVar.split(':').filter(Boolean).map((d) => path.join(d, command));
  return candidates.find((c) => {
    try {
      accessSync(c, constants.X_OK);
      return statSync(c).isFile();
    } catch {
      return false;
    }
  });
}
