/** `npm run api`: the REST facade. Several can run against one Temporal and one Postgres. */
import { createPool } from '../db/pool.js';
import { pruneEvents } from '../db/task-events.js';
import { loadConfig, requireDatabaseUrl } from '../runtime/config.js';
import { logger } from '../runtime/logger.js';
import { EXIT_CONFIG } from '../runtime/exit-codes.js';
import { createTemporalClient } from '../runtime/temporal.js';
import { createApp } from './app.js';
import { answerClientErrors } from './client-errors.js';
import { ReadModel } from './read-model.js';
import { TaskGateway } from './task-gateway.js';

const config = loadConfig();
if (!config.adminKey) throw new Error('SWITCHYARD_ADMIN_KEY is not set (npm start generates one into .switchyard/admin-key)');
const pool = createPool(requireDatabaseUrl(config), 20);
const { client, connection } = createTemporalClient(config);
const app = createApp({ config, pool, reads: new ReadModel(pool), tasks: new TaskGateway(client, config), adminKey: config.adminKey });

const server = app.listen(config.port, config.host);
// The event log keeps SWITCHYARD_EVENT_RETENTION_DAYS of events; any API process may prune it (idempotent).
const prune = () => pruneEvents(pool, config.eventRetentionDays).catch((err) => logger.warn({ err }, 'could not prune the task event log'));
setInterval(prune, 3_600_000).unref();
void prune();
answerClientErrors(server);
server.once('listening', () => logger.info({ port: config.port }, `api listening on http://${config.host}:${config.port}`));
// A port another program holds is fatal, and said so: never "listening" while something else answers.
server.once('error', (err: NodeJS.ErrnoException) => {
  const why = err.code === 'EADDRINUSE' ? `port ${config.port} is already in use (set PORT to another port)` : err.message;
  logger.fatal({ err, port: config.port }, `api cannot listen: ${why}`);
  process.exit(err.code === 'EADDRINUSE' || err.code === 'EACCES' ? EXIT_CONFIG : 1);
});
const stop = () => {
  server.close(async () => {
    await connection.close().catch(() => {});
    await pool.end();
    process.exit(0);
  });
  server.closeAllConnections?.();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
