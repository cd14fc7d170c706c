/** `npm run migrate`: applies db/migrations/*.sql to DATABASE_URL. */
import { migrate } from './migrate.js';
import { createPool } from './pool.js';
import { loadConfig, requireDatabaseUrl } from '../runtime/config.js';

const pool = createPool(requireDatabaseUrl(loadConfig()), 1, 0);
try {
  const applied = await migrate(pool);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
} finally {
  await pool.end();
}
