/** Runs child processes, restarts one that dies unexpectedly (with backoff), and stops them all on request. */
import { spawn, type ChildProcess } from 'node:child_process';
import { stopChild } from './temporal-server.js';

export interface ChildSpec {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export class Supervisor {
  private readonly running = new Map<string, ChildProcess>();
  private stopping = false;

  constructor(private readonly log: (line: string) => void) {}

  start(spec: ChildSpec, restarts = 0): void {
    const child = spawn(process.execPath, ['--import', 'tsx', ...spec.args], { env: spec.env, stdio: ['ignore', 'inherit', 'inherit'] });
    this.running.set(spec.name, child);
    const startedAt = Date.now();
    child.once('exit', (code, signal) => {
      this.running.delete(spec.name);
      if (this.stopping) return;
      // A child that ran a while earns a fresh restart budget.
      const attempt = Date.now() - startedAt > 60_000 ? 0 : restarts + 1;
      if (attempt > 5) {
        this.log(`${spec.name} keeps exiting (code ${code ?? signal}); giving up on it`);
        return;
      }
      const delay = Math.min(30_000, 500 * 2 ** attempt);
      this.log(`${spec.name} exited (code ${code ?? signal}); restarting in ${delay} ms`);
      setTimeout(() => !this.stopping && this.start(spec, attempt), delay);
    });
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.running.values()].map((c) => stopChild(c, 35_000)));
  }
}
