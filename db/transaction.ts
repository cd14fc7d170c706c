/**
 * One transaction on one pooled connection: committed when `fn` returns, rolled back when it throws.
 * A connection whose failure was not a refusal (a timed-out query leaves it busy) is dropped, not reused.
 */
import type pg from 'pg';
import { DomainError } from '../domain/errors.js';
import type { Pool } from './pool.js';

export async function inTransaction<T>(pool: Pool, fn: (db: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    failure = err as Error;
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release(failure instanceof DomainError ? undefined : failure);
  }
}
