/** Starts `temporal server start-dev` and waits until it answers; registers our search attributes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { SEARCH_ATTRIBUTE_NAMES } from '../../domain/search-attributes.js';
import { ensureSearchAttributes } from '../../runtime/search-attributes.js';

export interface DevServerOptions {
  cli: string;
  ip?: string;
  port: number;
  uiPort?: number;
  headless?: boolean;
  namespace?: string;
  dbFilename?: string;
  /** Where the server's own output goes; 'ignore' keeps test output clean. */
  stdio?: 'inherit' | 'ignore';
  extraArgs?: string[];
}

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const namespace = opts.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(opts.port), '--namespace', namespace, '--log-level', 'error'];
  if (opts.headless) args.push('--headless');
  else if (opts.uiPort) args.push('--ui-port', String(opts.uiPort));
  if (opts.dbFilename) args.push('--db-filename', opts.dbFilename);
  for (const name of SEARCH_ATTRIBUTE_NAMES) args.push('--search-attribute', `${name}=Keyword`);
  args.push(...(opts.extraArgs ?? []));
  // Its own process group: a terminal's Ctrl-C must not stop Temporal before the worker has drained.
  const child = spawn(opts.cli, args, { stdio: ['ignore', opts.stdio ?? 'ignore', opts.stdio ?? 'ignore'], detached: true });
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));

  const address = `${ip}:${opts.port}`;
  const deadline = Date.now() + 60_000;
  while (!(await portOpen(ip, opts.port))) {
    if (exited !== null) throw new Error(`temporal server exited with code ${exited} (is port ${opts.port} taken?)`);
    if (Date.now() > deadline) throw new Error('temporal server did not start within 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  // --search-attribute only applies when the namespace is created; with an existing db file, add them now.
  await ensureSearchAttributes(address, namespace);
  return {
    address,
    uiUrl: opts.headless ? undefined : `http://${ip}:${opts.uiPort ?? 8233}`,
    process: child,
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

export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
