/** `npm run worker`: serves the task queue until SIGINT/SIGTERM, then drains and exits. */
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { createPool } from '../db/pool.js';
import { createTemporalClient } from '../runtime/temporal.js';
import { loadConfig, requireDatabaseUrl } from '../runtime/config.js';
import { logger } from '../runtime/logger.js';
import { ensureReconcileSchedule } from '../runtime/reconcile-schedule.js';
import { syncIntakeSchedule } from '../runtime/intake-schedules.js';
import { listPolledSources } from '../db/sources.js';
import { ensureSearchAttributes } from '../runtime/search-attributes.js';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isAlive } from '../scripts/stack/processes.js';
import { ActivationJournal, JournalingLogger } from './activation-journal.js';
import { bundleWorkflows, createWorker, type WorkerRole } from './create-worker.js';
import { reckonDeaths, Suspects, withQuarantine, type Quarantined } from './quarantine.js';

const config = loadConfig();
const role = (process.env.SWITCHYARD_WORKER_ROLE || 'all') as WorkerRole;
if (!['all', 'tasks', 'wakes'].includes(role)) throw new Error(`SWITCHYARD_WORKER_ROLE must be all, tasks or wakes, got "${role}"`);
// What this process is activating, on disk (worker/activation-journal.ts): a process that dies in a
// workflow's code leaves the run's name for the next one. Opened once the dead ones' journals are read.
const journalDir = process.env.SWITCHYARD_JOURNAL_DIR || path.join(tmpdir(), 'switchyard-journals', config.taskQueue.replace(/[^\w.-]/g, '_'));
let journal: ActivationJournal | undefined;
// The SDK's own INFO lines (worker state changes, multi-line objects) drown ours: it speaks from WARN
// up unless LOG_LEVEL asks for debug or trace.
const sdkLevel = config.logLevel.toUpperCase() as LogLevel;
const sdkLogger = new DefaultLogger(['TRACE', 'DEBUG'].includes(sdkLevel) ? sdkLevel : sdkLevel === 'ERROR' ? 'ERROR' : 'WARN');
let quarantinedRuns = new Map<string, Quarantined>();
const refusedAt = new Map<string, number>();
/** The quarantine's refusals are said in our log (the server keeps a retried task's failures out of the history), once a minute per run. */
function sayRefused(runId: string): void {
  const run = quarantinedRuns.get(runId);
  if (!run || Date.now() - (refusedAt.get(runId) ?? 0) < 60_000) return;
  refusedAt.set(runId, Date.now());
  logger.warn({ runId, workflowId: run.workflowId, until: run.until, deaths: run.deaths }, 'Quarantined by Switchyard: this run\'s workflow task fails at once (terminate or reset it in the Web UI)');
}
let suspects: Suspects | undefined;
Runtime.install({ logger: new JournalingLogger(sdkLogger, () => journal, sayRefused, (runId) => suspects?.forgive(runId)) });
const added = await ensureSearchAttributes(config.temporalAddress, config.temporalNamespace);
if (added.length) logger.info({ added }, 'search attributes registered');
const pool = createPool(requireDatabaseUrl(config));
const connection = await NativeConnection.connect({ address: config.temporalAddress });
const { client, connection: clientConnection } = createTemporalClient(config);
let workflowBundle: { code: string } | undefined;
if (role !== 'wakes') {
  // Runs that killed workers before are failed at once instead of killing this one (worker/quarantine.ts).
  const quarantined = await reckonDeaths(pool, journalDir, config.taskQueue, isAlive);
  quarantinedRuns = new Map(quarantined.map((q) => [q.runId, q]));
  const blamed = new Suspects(pool);
  await blamed.load(config.taskQueue);
  suspects = blamed;
  if (quarantined.length) logger.warn({ quarantined }, 'workflow runs in quarantine: their workflow tasks fail at once');
  const prebuilt = process.env.SWITCHYARD_WORKFLOW_BUNDLE;
  workflowBundle = { code: withQuarantine(prebuilt ? readFileSync(prebuilt, 'utf8') : (await bundleWorkflows()).code, quarantined) };
  journal = new ActivationJournal(journalDir);
}
const worker = await createWorker({ config, pool, connection, client, role, workflowBundle });

const schedule = await ensureReconcileSchedule(client, config);
if (schedule) logger.info({ schedule, everyMinutes: config.reconcileEveryMinutes }, 'reconciler scheduled');
// Intake Schedules follow their sources: one the API could not update (Temporal was down) is put right here.
for (const source of await listPolledSources(pool)) {
  await syncIntakeSchedule(client, config, source).catch((err) => logger.warn({ err, sourceId: source.id }, 'could not bring the intake schedule in line'));
}

// The SDK's runtime also shuts workers down on these signals; a second request must not throw.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => worker.getState() === 'RUNNING' && worker.shutdown());
logger.info({ taskQueue: config.taskQueue, temporal: config.temporalAddress, namespace: config.temporalNamespace }, 'worker running');
await worker.run();
// Stopped cleanly: nothing was interrupted, nothing to blame on a run.
journal?.close();
await connection.close();
await clientConnection.close();
await pool.end();
logger.info('worker stopped');
