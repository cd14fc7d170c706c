import pg from 'pg';

// Timestamps come back as ISO strings, the same shape the workflow state uses.
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, (v) => new Date(v).toISOString());
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export type Pool = pg.Pool;

/**
 * No query waits on Postgres forever: a server that is paused (SIGSTOP, a frozen VM) leaves idle
 * connections that accept a query and never answer. Past `queryTimeoutMs` the query fails (as an
 * outage: no SQLSTATE) and the pool drops that connection.
 */
export const DEFAULT_QUERY_TIMEOUT_MS = 10_000;

export function createPool(connectionString: string, max = 10, queryTimeoutMs = DEFAULT_QUERY_TIMEOUT_MS): pg.Pool {
  // Migrations may run long: they get no timeout (pass 0).
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 5_000, ...(queryTimeoutMs ? { query_timeout: queryTimeoutMs } : {}) });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return pool;
}
