/**
 * One task's input costs at most that task (issue 13 §2). A workflow run that was being activated when
 * a worker process died twice (worker/activation-journal.ts) is quarantined for a while: workers started
 * meanwhile fail that run's workflow tasks at once (workflows/quarantine.ts), so the run shows a failing
 * workflow task in the Web UI (with the reason) and in /readyz, and no worker dies for it again. The
 * quarantine lifts after an hour (a fixed worker may then run it), and never applies to a new run (an
 * operator's Reset, a restore).
 */
import type { Pool } from '../db/pool.js';
import { logger } from '../runtime/logger.js';
import { QUARANTINE_GLOBAL } from '../workflows/quarantine.js';
import { ActivationJournal, type InFlight } from './activation-journal.js';

/** Deaths with the same run being activated before it is quarantined. */
export const DEATHS_BEFORE_QUARANTINE = 2;
export const QUARANTINE_MINUTES = 60;

export interface Quarantined {
  runId: string;
  workflowId: string | null;
  deaths: number;
  until: string;
}

/** The run a dead process was most likely stuck in: the oldest activation it had not finished. */
export function culprit(inFlight: InFlight[]): InFlight | undefined {
  return [...inFlight].sort((a, b) => a.since - b.since)[0];
}

/**
 * Reads what dead workers of this task queue were activating, counts a death against each culprit, and
 * quarantines those with enough deaths. Returns the runs quarantined now (older ones included).
 */
export async function reckonDeaths(pool: Pool, journalDir: string, taskQueue: string, alive: (pid: number) => boolean): Promise<Quarantined[]> {
  for (const { pid, inFlight } of ActivationJournal.orphans(journalDir, alive)) {
    const run = culprit(inFlight);
    if (!run) continue;
    const { rows } = await pool.query<{ deaths: number; quarantined: boolean }>(
      `INSERT INTO workflow_task_deaths (run_id, workflow_id, task_queue, deaths, last_death_at) VALUES ($1, $2, $3, 1, now())
       ON CONFLICT (run_id) DO UPDATE SET deaths = workflow_task_deaths.deaths + 1, last_death_at = now(),
         workflow_id = COALESCE(EXCLUDED.workflow_id, workflow_task_deaths.workflow_id),
         quarantined_until = CASE WHEN workflow_task_deaths.deaths + 1 >= $4 THEN now() + make_interval(mins => $5) ELSE workflow_task_deaths.quarantined_until END
       RETURNING deaths, quarantined_until > now() AS quarantined`,
      [run.runId, run.workflowId, taskQueue, DEATHS_BEFORE_QUARANTINE, QUARANTINE_MINUTES],
    );
    const { deaths, quarantined } = rows[0]!;
    logger.error(
      { pid, runId: run.runId, workflowId: run.workflowId, deaths, quarantined },
      quarantined
        ? 'a worker died again while activating this workflow run: it is quarantined (its workflow tasks fail at once; terminate or reset it, or wait for the quarantine to lift)'
        : 'a worker died while activating this workflow run',
    );
  }
  return quarantinedRuns(pool, taskQueue);
}

/**
 * Runs blamed for a death but not quarantined. Blame is a guess (the oldest activation in flight): an
 * innocent busy run is often in flight when a worker is killed for another reason (kill -9, OOM, a
 * deploy). Such a run completes its next activation; then its count is cleared (forgive), so only
 * a run that kills workers time after time, without completing between, is quarantined.
 */
export class Suspects {
  private runs = new Set<string>();

  constructor(private readonly pool: Pick<Pool, 'query'>) {}

  async load(taskQueue: string): Promise<void> {
    const { rows } = await this.pool.query<{ run_id: string }>(
      `SELECT run_id FROM workflow_task_deaths WHERE task_queue = $1 AND (quarantined_until IS NULL OR quarantined_until <= now()) LIMIT 10000`,
      [taskQueue],
    );
    this.runs = new Set(rows.map((r) => r.run_id));
  }

  /** The run completed an activation: it is not the one that kills workers. */
  forgive(runId: string): void {
    if (!this.runs.delete(runId)) return;
    this.pool
      .query('DELETE FROM workflow_task_deaths WHERE run_id = $1 AND (quarantined_until IS NULL OR quarantined_until <= now())', [runId])
      .catch((err) => logger.warn({ err, runId }, 'could not clear a workflow run\'s death count'));
  }
}

export async function quarantinedRuns(pool: Pick<Pool, 'query'>, taskQueue?: string): Promise<Quarantined[]> {
  const { rows } = await pool.query<Quarantined>(
    `SELECT run_id AS "runId", workflow_id AS "workflowId", deaths, quarantined_until AS until FROM workflow_task_deaths
     WHERE quarantined_until > now() AND ($1::text IS NULL OR task_queue = $1) ORDER BY last_death_at DESC LIMIT 100`,
    [taskQueue ?? null],
  );
  return rows;
}

/** The workflow bundle's code with the quarantine list set as its global (read by workflows/quarantine.ts). */
export function withQuarantine(bundleCode: string, runs: Quarantined[]): string {
  const reasons = Object.fromEntries(
    runs.map((r) => [
      r.runId,
      `Quarantined by Switchyard until ${r.until}: a worker process died ${r.deaths} times while activating this run (its workflow code ran past the SDK's isolate timeout). ` +
        'Its workflow tasks fail at once so that other tasks keep running. Terminate or reset it in the Web UI, or wait for the quarantine to lift (README "Blast radius").',
    ]),
  );
  return `globalThis[${JSON.stringify(QUARANTINE_GLOBAL)}] = ${JSON.stringify(reasons)};\n${bundleCode}`;
}
