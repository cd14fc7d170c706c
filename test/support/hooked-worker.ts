/**
 * TEST ONLY: a worker process whose workflows call the update hook. When the update named by
 * HOOK_UPDATE has been handled, it prints `HOOK <name>` and holds that workflow task forever, so the
 * test can kill -9 it at exactly that point. Otherwise it is the product's worker.
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createPool } from '../../db/pool.js';
import { loadConfig, requireDatabaseUrl } from '../../runtime/config.js';
import { createTemporalClient } from '../../runtime/temporal.js';
import { createWorker } from '../../worker/create-worker.js';
import { hookSinks, hookedBundle } from './hooked-bundle.js';

Runtime.install({ logger: new DefaultLogger('WARN') });
const config = loadConfig();
const target = process.env.HOOK_UPDATE;
const pool = createPool(requireDatabaseUrl(config));
const connection = await NativeConnection.connect({ address: config.temporalAddress });
const { client } = createTemporalClient(config);
const sinks = hookSinks(async (name) => {
  if (name !== target) return;
  process.stdout.write(`HOOK ${name}\n`);
  await new Promise(() => {});
});
const worker = await createWorker({ config, pool, connection, client, workflowBundle: await hookedBundle(), options: { sinks } });
process.stdout.write('WORKER READY\n');
await worker.run();
