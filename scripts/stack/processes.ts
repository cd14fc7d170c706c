/**
 * Every process `npm start` starts is registered here: with the guardian (which stops them if
 * `npm start` is killed) and in `<state>/stack.json` (from which the next start stops any the guardian
 * could not, checking each pid is still what it was before touching it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface StackProcess {
  name: string;
  pid: number;
  group?: boolean;
  signal?: NodeJS.Signals;
  /** A substring of its command line, to recognise it later. */
  match: string;
}

const GUARDIAN = path.join(path.dirname(new URL(import.meta.url).pathname), 'guardian.ts');

/** Where the running stack answers, for the scripts and the CLI that talk to it. */
export interface StackEndpoints {
  api: string;
  temporal: string;
  database: string;
  /** The Temporal Web UI, when this stack started the dev server. */
  ui?: string;
}

/** How a supervised process is doing, for /readyz (the API reads it from the stack's record). */
export type SupervisedStatus =
  | { state: 'running'; pid: number; since: string; restarts: number }
  | { state: 'restarting'; restarts: number; lastExit: string; restartAt: string };

export class StackProcesses {
  private readonly entries = new Map<number, StackProcess>();
  private readonly statuses = new Map<string, SupervisedStatus>();
  private guardian: ChildProcess | undefined;
  private endpoints: StackEndpoints | undefined;

  constructor(private readonly stateDir: string) {}

  private get file() {
    return path.join(this.stateDir, 'stack.json');
  }

  startGuardian(): void {
    const logFd = openSync(path.join(this.stateDir, 'guardian.log'), 'a', 0o600);
    this.guardian = spawn(process.execPath, ['--import', 'tsx', GUARDIAN], { detached: true, stdio: ['pipe', logFd, logFd] });
    this.guardian.unref();
    this.guardian.stdin!.on('error', () => {});
  }

  add(p: StackProcess): void {
    this.entries.set(p.pid, p);
    this.guardian?.stdin?.write(`${JSON.stringify({ watch: p })}\n`);
    this.save();
  }

  remove(pid: number | undefined): void {
    if (pid === undefined) return;
    this.entries.delete(pid);
    this.guardian?.stdin?.write(`${JSON.stringify({ forget: pid })}\n`);
    this.save();
  }

  setStatus(name: string, status: SupervisedStatus): void {
    this.statuses.set(name, status);
    this.save();
  }

  /** Records where the stack answers (`npm run reconcile` and the CLI read it). */
  announce(endpoints: StackEndpoints): void {
    this.endpoints = endpoints;
    this.save();
  }

  /** Whether this start has taken charge of the stack (and so may record and stop its processes). */
  get inCharge(): boolean {
    return this.guardian !== undefined;
  }

  /** A clean stop: the guardian leaves, and the next start finds nothing to clean up. */
  release(): void {
    if (!this.inCharge) return;
    this.entries.clear();
    this.statuses.clear();
    this.endpoints = undefined;
    this.save();
    this.guardian?.stdin?.end(`${JSON.stringify({ release: true })}\n`);
  }

  private save(): void {
    const record = { startPid: process.pid, ...(this.endpoints ? { endpoints: this.endpoints } : {}), processes: [...this.entries.values()], status: Object.fromEntries(this.statuses) };
    // Written whole or not at all: the CLI, npm run reconcile and the next start read it at any moment.
    const partial = `${this.file}.${process.pid}.tmp`;
    writeFileSync(partial, JSON.stringify(record, null, 2), { mode: 0o600 });
    renameSync(partial, this.file);
  }

  /**
   * What an earlier start left running (it was killed, and so was its guardian): stop each process
   * that is still the one recorded. Returns what it stopped. Throws if that start is still running.
   */
  async reapLeftovers(log: (line: string) => void): Promise<string[]> {
    if (!existsSync(this.file)) return [];
    let recorded: { startPid?: number; processes?: StackProcess[] };
    try {
      recorded = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch {
      return [];
    }
    if (recorded.startPid && recorded.startPid !== process.pid && commandLine(recorded.startPid).includes('scripts/start.ts')) {
      throw new Error(`another npm start (pid ${recorded.startPid}) is running this stack; stop it first (Ctrl-C in its terminal, or kill ${recorded.startPid})`);
    }
    const left = (recorded.processes ?? []).filter((p) => commandLine(p.pid).includes(p.match));
    for (const p of left) log(`stopping ${p.name} (pid ${p.pid}) left running by an earlier npm start`);
    // Checked by command line, not by pid alone: a pid may since belong to another process.
    await stopProcesses(left, (p) => commandLine(p.pid).includes(p.match));
    const stopped = left.map((p) => `${p.name} (pid ${p.pid})`);
    this.save();
    return stopped;
  }
}

/**
 * Asks each process to stop with its signal (its whole group if it leads one), waits while any is
 * still there, and kills what is left after `graceMs`.
 */
export async function stopProcesses<P extends Pick<StackProcess, 'pid' | 'group' | 'signal'>>(
  list: P[],
  stillThere: (p: P) => boolean,
  graceMs = 15_000,
): Promise<void> {
  const signal = (p: P, sig: NodeJS.Signals) => {
    try {
      process.kill(p.group ? -p.pid : p.pid, sig);
    } catch {
      // already gone
    }
  };
  for (const p of list) signal(p, p.signal ?? 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (list.some(stillThere) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  for (const p of list.filter(stillThere)) signal(p, 'SIGKILL');
}

/** Whether a process with this pid exists (signal 0 checks without touching it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The process's command line, or '' if it is gone (Linux /proc; elsewhere nothing is recognised). */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** A supervised process's status as the running `npm start` recorded it (undefined: not under npm start). */
export function supervisedStatus(stateDir: string, name: string): SupervisedStatus | undefined {
  try {
    const record = JSON.parse(readFileSync(path.join(stateDir, 'stack.json'), 'utf8')) as { status?: Record<string, SupervisedStatus> };
    return record.status?.[name];
  } catch {
    return undefined;
  }
}
