/** `npm run bench -- <name>`: starts a throwaway stack and runs one benchmark. Figures, never assertions. */
import os from 'node:os';
import { startEphemeralStack } from '../scripts/stack/ephemeral.js';
import { benchCheckout } from './checkout.js';

const BENCHES: Record<string, () => Promise<Record<string, number>>> = { checkout: benchCheckout };
const name = process.argv[2] ?? 'checkout';
const bench = BENCHES[name];
if (!bench) {
  console.error(`unknown benchmark "${name}"; one of: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
const stack = await startEphemeralStack((line) => console.error(`[bench] ${line}`));
Object.assign(process.env, stack.env, { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
try {
  const figures = await bench();
  console.log(`\nmachine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  console.log(JSON.stringify(figures));
} finally {
  await stack.stop();
}
