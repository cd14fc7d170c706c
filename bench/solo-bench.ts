/**
 * `npm run bench -- solo`: 200 uncontended checkouts in a row through the REST API, each followed by one
 * raw Temporal Update (the engine's floor for the same step), for each way the dev server can store its
 * data: in memory (the tests), a file with `npm start`'s settings (WAL, synchronous=NORMAL), and a file
 * with SQLite's defaults. Prints each, and the checkout's p50 over the floor's.
 */
import type { TemporalStorage } from '../scripts/stack/ephemeral.js';
import { deploy } from './processes.js';
import { measureSolo } from './solo.js';
import { printTable, round, summarize } from './stats.js';

const N = Number(process.env.BENCH_SOLO ?? 200);
const STORAGES = (process.env.BENCH_STORAGES?.split(',') ?? ['file', 'file-default', 'memory']) as TemporalStorage[];

export async function benchSolo(onStack: <T>(storage: TemporalStorage, run: () => Promise<T>) => Promise<T>): Promise<Record<string, unknown>> {
  const figures: Record<string, unknown> = {};
  const rows: Parameters<typeof printTable>[0] = [];
  for (const storage of STORAGES) {
    const { api, raw } = await onStack(storage, async () => {
      const stack = await deploy();
      try {
        const company = (await stack.admin.post('/api/companies', { name: 'solo' })).body;
        const created = (await stack.admin.post(`/api/companies/${company.id}/agents`, { name: 'solo-agent' })).body;
        return await measureSolo(stack, company.id, [{ id: created.agent.id, http: stack.as(created.apiKey, 'solo-run') }], N);
      } finally {
        await stack.stop();
      }
    });
    const a = summarize(api);
    const r = summarize(raw);
    rows.push([`${storage}: API checkout`, a, `${round(a.p50 / r.p50)}× the raw update`], [`${storage}: raw Temporal update`, r, '']);
    figures[storage] = { checkoutP50Ms: round(a.p50), rawP50Ms: round(r.p50), checkoutOverRawP50: round(a.p50 / r.p50), checkoutP99Ms: round(a.p99), rawP99Ms: round(r.p99) };
  }
  console.log(`\n${N} uncontended checkouts in a row, each followed by one raw Temporal Update\n`);
  printTable(rows);
  return figures;
}
