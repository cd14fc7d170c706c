/**
 * `npm run bench -- <name>`: starts a throwaway stack and runs one benchmark. Figures, never assertions.
 *   checkout  the race, uncontended checkouts and list latency, against the engine's and SQL's floors,
 *             with Temporal stored as `npm start` stores it (BENCH_TEMPORAL=memory|file|file-default)
 *   solo      uncontended checkout against a raw Temporal Update, for each way of storing Temporal's data
 *   lifecycle intake → ship through the REST API against the fake GitHub: webhook → state latency,
 *             polling fallback, lifecycles/s against the engine floor, duplicates, worker memory
 *   events    decision → event on an open stream against the request itself, 500 streams' API memory and fan-out,
 *             subscription deliveries per second to a local receiver
 */
import os from 'node:os';
import { startEphemeralStack, type TemporalStorage } from '../scripts/stack/ephemeral.js';
import { benchCheckout } from './checkout.js';
import { benchEvents } from './events.js';
import { benchLifecycle } from './lifecycle.js';
import { benchSolo } from './solo-bench.js';

const log = (line: string) => console.error(`[bench] ${line}`);

async function onStack<T>(storage: TemporalStorage, run: () => Promise<T>): Promise<T> {
  const stack = await startEphemeralStack(log, storage);
  Object.assign(process.env, stack.env, { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
  try {
    return await run();
  } finally {
    await stack.stop();
  }
}

const BENCHES: Record<string, () => Promise<Record<string, unknown>>> = {
  checkout: () => onStack((process.env.BENCH_TEMPORAL as TemporalStorage | undefined) ?? 'file', benchCheckout),
  solo: () => benchSolo(onStack),
  lifecycle: () => onStack((process.env.BENCH_TEMPORAL as TemporalStorage | undefined) ?? 'file', benchLifecycle),
  events: () => onStack((process.env.BENCH_TEMPORAL as TemporalStorage | undefined) ?? 'file', benchEvents),
};
const name = process.argv[2] ?? 'checkout';
const bench = BENCHES[name];
if (!bench) {
  console.error(`unknown benchmark "${name}"; one of: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
const figures = await bench();
console.log(`\nmachine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`);
console.log(JSON.stringify(figures));
