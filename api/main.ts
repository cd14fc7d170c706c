/** `npm run api`: the REST facade. Several can run against one Temporal and one Postgres. */
import { createPool } from '../db/pool.js';
import { loadConfig, requireDatabaseUrl } from '../runtime/config.js';
import { logger } from '../runtime/logger.js';
import { createTemporalClient } from '../runtime/temporal.js';
import { createApp } from './app.js';
import { ReadModel } from './read-model.js';
import { TaskGateway } from './task-gateway.js';

const config = loadConfig();
if (!config.adminKey) throw new Error('SWITCHYARD_ADMIN_KEY is not set (npm start generates one into .switchyard/admin-key)');
const pool = createPool(requireDatabaseUrl(config), 20);
const { client, connection } = createTemporalClient(config);
const app = createApp({ config, pool, reads: new ReadModel(pool), tasks: new TaskGateway(client, config), adminKey: config.adminKey });

const server = app.listen(config.port, () => logger.info({ port: config.port }, `api listening on http://127.0.0.1:${config.port}`));
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
