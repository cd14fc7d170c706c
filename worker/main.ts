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
import { createWorker, type WorkerRole } from './create-worker.js';

const config = loadConfig();
// The SDK's own INFO lines (worker state changes, multi-line objects) drown ours: it speaks from WARN
// up unless LOG_LEVEL asks for debug or trace.
const sdkLevel = config.logLevel.toUpperCase() as LogLevel;
Runtime.install({ logger: new DefaultLogger(['TRACE', 'DEBUG'].includes(sdkLevel) ? sdkLevel : sdkLevel === 'ERROR' ? 'ERROR' : 'WARN') });
const added = await ensureSearchAttributes(config.temporalAddress, config.temporalNamespace);
if (added.length) logger.info({ added }, 'search attributes registered');
const pool = createPool(requireDatabaseUrl(config));
const connection = await NativeConnection.connect({ address: config.temporalAddress });
const { client, connection: clientConnection } = createTemporalClient(config);
const role = (process.env.SWITCHYARD_WORKER_ROLE || 'all') as WorkerRole;
if (!['all', 'tasks', 'wakes'].includes(role)) throw new Error(`SWITCHYARD_WORKER_ROLE must be all, tasks or wakes, got "${role}"`);
const worker = await createWorker({ config, pool, connection, client, role, workflowBundle: process.env.SWITCHYARD_WORKFLOW_BUNDLE ? { codePath: process.env.SWITCHYARD_WORKFLOW_BUNDLE } : undefined });

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
await connection.close();
await clientConnection.close();
await pool.end();
logger.info('worker stopped');
