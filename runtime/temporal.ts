/** One Temporal client per process, connected lazily so the API starts (and says "not ready") while Temporal is down. */
import { Client, Connection } from '@temporalio/client';
import type { Config } from './config.js';

export function createTemporalClient(config: Config): { client: Client; connection: Connection } {
  const connection = Connection.lazy({ address: config.temporalAddress, connectTimeout: '5 seconds' });
  const client = new Client({ connection, namespace: config.temporalNamespace });
  return { client, connection };
}
