/**
 * Which workflow runs this worker process is activating right now, kept in a small file that outlives
 * the process. Why: workflow code that runs longer than the SDK's 5 s isolate timeout after an `await`
 * does not fail its workflow task — Node aborts the whole process ("async hook stack has become
 * corrupted", nodejs/node#38503, temporalio/sdk-typescript#939). The next start reads what a dead
 * process was activating, so the run that killed it can be named and, if it does it again, quarantined
 * (worker/quarantine.ts) instead of killing every worker that picks it up.
 *
 * The SDK says when it receives an activation and when it has finished with one only in its trace log
 * lines (pinned SDK version; test/workflow/quarantine.test.ts fails if they change), so the journal
 * listens to the runtime's logger and passes every line on unchanged.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';

export interface InFlight {
  runId: string;
  workflowId: string | null;
  /** When the activation arrived (epoch ms): the oldest one unfinished is the one that was running. */
  since: number;
}

export class ActivationJournal {
  private readonly inFlight = new Map<string, InFlight>();
  /** Run id → workflow id, learnt from finished activations (a cached run's later activations name only the run). */
  private readonly workflowIds = new Map<string, string>();
  private readonly fd: number;
  readonly file: string;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = path.join(dir, `${process.pid}.json`);
    this.fd = openSync(this.file, 'w', 0o600);
  }

  begin(runId: string, workflowId: string | null): void {
    const known = workflowId ?? this.workflowIds.get(runId) ?? null;
    this.inFlight.set(runId, { runId, workflowId: known, since: Date.now() });
    this.flush();
  }

  end(runId: string, workflowId?: string): void {
    if (workflowId) this.remember(runId, workflowId);
    if (this.inFlight.delete(runId)) this.flush();
  }

  /** A clean shutdown: nothing was interrupted. */
  close(): void {
    closeSync(this.fd);
    rmSync(this.file, { force: true });
  }

  private remember(runId: string, workflowId: string): void {
    if (this.workflowIds.size >= 10_000) this.workflowIds.clear();
    this.workflowIds.set(runId, workflowId);
  }

  /** Written in place with two system calls: what a process killed at any moment leaves is current. */
  private flush(): void {
    const data = Buffer.from(JSON.stringify([...this.inFlight.values()]));
    writeSync(this.fd, data, 0, data.length, 0);
    ftruncateSync(this.fd, data.length);
  }

  /**
   * What the journals of processes that are gone were activating when they died (their files are
   * removed once read). A process that stopped cleanly left no file.
   */
  static orphans(dir: string, alive: (pid: number) => boolean): Array<{ pid: number; inFlight: InFlight[] }> {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    const out: Array<{ pid: number; inFlight: InFlight[] }> = [];
    for (const name of names) {
      const pid = Number(/^(\d+)\.json$/.exec(name)?.[1]);
      if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
      const file = path.join(dir, name);
      try {
        const parsed = JSON.parse(readFileSync(file, 'utf8') || '[]') as InFlight[];
        out.push({ pid, inFlight: Array.isArray(parsed) ? parsed : [] });
      } catch {
        out.push({ pid, inFlight: [] });
      }
      rmSync(file, { force: true });
    }
    return out;
  }
}

/** The SDK runtime's logger, watched for activations starting and ending; every line still goes to `inner`. */
export class JournalingLogger implements Logger {
  /** Runs whose activation in hand replays history (bounded by the workflow cache: one entry per run in flight). */
  private readonly replaying = new Set<string>();

  constructor(
    private readonly inner: Logger,
    private readonly journal: () => ActivationJournal | undefined,
    /** Told of each activation received (run id), e.g. to say that a quarantined run's task is refused. */
    private readonly onActivation: (runId: string) => void = () => {},
    /** Told of each activation completed (run id): a run that completes one did not kill the last worker. */
    private readonly onCompleted: (runId: string) => void = () => {},
  ) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.observe(message, meta);
    this.inner.log(level, message, meta);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }

  private observe(message: string, meta: LogMetadata | undefined): void {
    const journal = this.journal();
    const runId = typeof meta?.runId === 'string' ? meta.runId : undefined;
    if (!journal || !runId) return;
    if (message === ACTIVATION_RECEIVED) {
      this.onActivation(runId);
      // Only new work shows a run is harmless: a poison run replays its old activations fine, then dies.
      if ((meta as { isReplaying?: boolean }).isReplaying) this.replaying.add(runId);
      else this.replaying.delete(runId);
      const jobs = (meta as { jobs?: Array<{ initializeWorkflow?: { workflowId?: string } }> }).jobs ?? [];
      journal.begin(runId, jobs.find((j) => j.initializeWorkflow)?.initializeWorkflow?.workflowId ?? null);
    } else if (ACTIVATION_FINISHED.includes(message)) {
      journal.end(runId, typeof meta?.workflowId === 'string' ? meta.workflowId : undefined);
      if (message === ACTIVATION_COMPLETED && !this.replaying.has(runId)) this.onCompleted(runId);
    }
  }
}

/** The SDK's own words (@temporalio/worker 1.24.0, lib/worker.js). */
export const ACTIVATION_RECEIVED = 'Got workflow activation';
export const ACTIVATION_COMPLETED = 'Completed activation';
export const ACTIVATION_FINISHED = [ACTIVATION_COMPLETED, 'Failed to process Workflow Activation', 'Disposing workflow'];
