/** Starts `temporal server start-dev` and waits until it answers; registers our search attributes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { SEARCH_ATTRIBUTE_NAMES } from '../../domain/search-attributes.js';
import { ensureSearchAttributes } from '../../runtime/search-attributes.js';
import { OutputTail } from './output-tail.js';

export interface DevServerOptions {
  cli: string;
  ip?: string;
  port: number;
  uiPort?: number;
  headless?: boolean;
  namespace?: string;
  dbFilename?: string;
  extraArgs?: string[];
}

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  process: ChildProcess;
  /** The server's last lines of output, for saying why it failed. */
  tail: OutputTail;
  stop(): Promise<void>;
}

/**
 * SQLite settings for a persistent dev server: WAL with synchronous=NORMAL survives a killed process
 * (every committed transaction is in the WAL); only an operating-system crash or power loss can lose
 * the last commits. Roughly 30 % faster per update than SQLite's defaults (rollback journal, FULL).
 */
export const PERSISTENT_SQLITE_PRAGMAS = ['--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=NORMAL'];

export function devServerArgs(opts: DevServerOptions): string[] {
  const ip = opts.ip ?? '127.0.0.1';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(opts.port), '--namespace', opts.namespace ?? 'default', '--log-level', 'error'];
  if (opts.headless) args.push('--headless');
  else if (opts.uiPort) args.push('--ui-port', String(opts.uiPort));
  if (opts.dbFilename) args.push('--db-filename', opts.dbFilename);
  for (const name of SEARCH_ATTRIBUTE_NAMES) args.push('--search-attribute', `${name}=Keyword`);
  // The projection activity an Update schedules comes back with the workflow task's answer.
  args.push('--dynamic-config-value', 'system.enableActivityEagerExecution=true');
  args.push(...(opts.extraArgs ?? []));
  return args;
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const namespace = opts.namespace ?? 'default';
  // Its own process group: a terminal's Ctrl-C must not stop Temporal before the worker has drained.
  const child = spawn(opts.cli, devServerArgs(opts), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const tail = new OutputTail();
  tail.follow(child);
  let exited: string | null = null;
  child.once('exit', (code, signal) => (exited = signal ?? `code ${code}`));

  const address = `${ip}:${opts.port}`;
  const deadline = Date.now() + 60_000;
  while (!(await portOpen(ip, opts.port))) {
    if (exited !== null) throw new Error(`the Temporal dev server exited (${exited}) before answering on ${address}:\n${tail.text()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the Temporal dev server did not answer on ${address} within 60 s:\n${tail.text()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  // --search-attribute only applies when the namespace is created; with an existing db file, add them now.
  await ensureSearchAttributes(address, namespace);
  return {
    address,
    uiUrl: opts.headless ? undefined : `http://${ip}:${opts.uiPort ?? 8233}`,
    process: child,
    tail,
    stop: () => stopChild(child),
  };
}

export function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function stopChild(child: ChildProcess, graceMs = 10_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}
