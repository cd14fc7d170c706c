/**
 * Runs the stack's processes, restarts one that dies unexpectedly (with backoff), and gives up loudly:
 * it says which process, how it ended and what it last printed, then lets `npm start` stop the stack.
 */
import type { ChildProcess } from 'node:child_process';
import { OutputTail } from './output-tail.js';
import type { StackProcesses } from './processes.js';
import { stopChild } from './temporal-server.js';

import { EXIT_CONFIG } from '../../runtime/exit-codes.js';

export interface SupervisedSpec {
  name: string;
  /** Starts it; resolves once it is up. */
  start(): Promise<{ child: ChildProcess; tail: OutputTail }>;
  /** How the pid is recorded for the guardian. */
  group?: boolean;
  signal?: NodeJS.Signals;
  match: string;
  /** How long a graceful stop may take before SIGKILL, and the signal that asks for it. */
  stopGraceMs?: number;
  stopSignal?: NodeJS.Signals;
  /**
   * Restart it however often it dies (capped backoff) instead of stopping the stack: the worker, whose
   * death (a workflow's code, a dependency) should never take the API and its reads down with it.
   */
  keepTrying?: boolean;
}

interface Running {
  spec: SupervisedSpec;
  child: ChildProcess;
  tail: OutputTail;
}

const RESTARTS_BEFORE_GIVING_UP = 5;
/** The longest wait between restarts of a process that keeps dying. */
const MAX_BACKOFF_MS = 30_000;

export class Supervisor {
  private readonly running = new Map<string, Running>();
  private stopping = false;

  constructor(
    private readonly log: (line: string) => void,
    private readonly processes: StackProcesses,
    /** Called once a process cannot be kept up; `npm start` stops the stack and exits non-zero. */
    private readonly onGiveUp: (name: string, why: string) => void,
  ) {}

  /** Starts a process and keeps it up; rejects if the first start fails. */
  async start(spec: SupervisedSpec, restarts = 0): Promise<void> {
    const { child, tail } = await spec.start();
    if (this.stopping) {
      await stopChild(child);
      return;
    }
    this.running.set(spec.name, { spec, child, tail });
    this.processes.add({ name: spec.name, pid: child.pid!, group: spec.group, signal: spec.signal, match: spec.match });
    this.processes.setStatus(spec.name, { state: 'running', pid: child.pid!, since: new Date().toISOString(), restarts });
    const startedAt = Date.now();
    child.once('exit', (code, signal) => {
      this.running.delete(spec.name);
      this.processes.remove(child.pid);
      if (this.stopping) return;
      const how = signal ? `killed by ${signal}` : `exit code ${code}`;
      if (code === EXIT_CONFIG) return this.giveUp(spec.name, `${how}; restarting it will not help`, tail);
      // A process that ran a while earns a fresh restart budget.
      const attempt = Date.now() - startedAt > 60_000 ? 0 : restarts + 1;
      if (attempt > RESTARTS_BEFORE_GIVING_UP && !spec.keepTrying) return this.giveUp(spec.name, `${how}, ${RESTARTS_BEFORE_GIVING_UP} times in a row`, tail);
      this.log(`${spec.name} stopped (${how})`);
      this.restartLater(spec, attempt, tail, how);
    });
  }

  /** Restarts with backoff; a restart that fails counts as one more death. */
  private restartLater(spec: SupervisedSpec, attempt: number, tail: OutputTail, how: string): void {
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(attempt, 16));
    this.log(`restarting ${spec.name} in ${delay} ms`);
    // Where /readyz finds why the process is not there (the API reads the stack's record).
    this.processes.setStatus(spec.name, {
      state: 'restarting', restarts: attempt, lastExit: how,
      restartAt: new Date(Date.now() + delay).toISOString(),
    });
    setTimeout(() => {
      if (this.stopping) return;
      this.start(spec, attempt).then(
        () => this.log(`${spec.name} is back`),
        (err) => {
          const why = `it could not be restarted: ${(err as Error).message}`;
          if (attempt + 1 > RESTARTS_BEFORE_GIVING_UP && !spec.keepTrying) return this.giveUp(spec.name, why, tail);
          this.log(`${spec.name}: ${why}`);
          this.restartLater(spec, attempt + 1, tail, why);
        },
      );
    }, delay);
  }

  private giveUp(name: string, why: string, tail: OutputTail): void {
    if (this.stopping) return;
    this.onGiveUp(name, `${name} cannot be kept running (${why}). Its last output:\n${tail.text()}`);
  }

  /** Stops the processes group by group (a group together, e.g. the app processes draining at once), then any others. */
  async stop(groups: string[][]): Promise<void> {
    this.stopping = true;
    const rest = [...this.running.keys()].filter((n) => !groups.flat().includes(n));
    for (const group of [...groups, rest]) {
      await Promise.all(
        group.map(async (name) => {
          const r = this.running.get(name);
          if (!r) return;
          await stopChild(r.child, r.spec.stopGraceMs ?? 10_000, r.spec.stopSignal);
          this.processes.remove(r.child.pid);
        }),
      );
    }
  }
}
