/**
 * `npm run reconcile [-- --all] [-- --since-minutes N]`: one pass of the reconciler now (the same code
 * its Schedule runs), against DATABASE_URL and TEMPORAL_ADDRESS, or the running `npm start` stack.
 * Prints each difference it found and what it did, then a JSON summary; exits 1 if a repair failed.
 */
import { Command } from 'commander';
import { reconcileIssues } from '../activities/reconcile.js';
import { createPool } from '../db/pool.js';
import { loadConfig } from '../runtime/config.js';
import { localDatabaseUrl, localTemporalAddress } from '../runtime/local-stack.js';
import { createTemporalClient } from '../runtime/temporal.js';

const opts = new Command('reconcile')
  .option('--all', 'compare every issue, not only recent changes')
  .option('--since-minutes <n>', 'compare issues changed this recently', (v) => Number(v), 60)
  .parse()
  .opts<{ all?: boolean; sinceMinutes: number }>();

// DATABASE_URL and TEMPORAL_ADDRESS, else the running `npm start`'s (it records them), else the defaults.
const config = { ...loadConfig(), temporalAddress: localTemporalAddress() };
const databaseUrl = localDatabaseUrl();
const pool = createPool(databaseUrl, 4);
const { client, connection } = createTemporalClient(config);
const reachable = async (what: string, where: string, probe: () => Promise<unknown>) => {
  try {
    await probe();
  } catch (err) {
    console.error(`cannot reach ${what} at ${where}: ${(err as Error).message}\nIs npm start running? Otherwise set DATABASE_URL and TEMPORAL_ADDRESS.`);
    process.exit(2);
  }
};
try {
  await reachable('Postgres', new URL(databaseUrl).host, () => pool.query('SELECT 1'));
  await reachable('Temporal', config.temporalAddress, () => client.withDeadline(Date.now() + 5_000, () => client.workflowService.getSystemInfo({})));
  const report = await reconcileIssues(pool, client, { sinceMinutes: opts.sinceMinutes, all: opts.all });
  for (const d of report.differences) {
    const rm = `read model v${d.readModel.version} ${d.readModel.status} (${d.readModel.workflowStatus})`;
    const wf = `workflow v${d.workflow.version ?? '?'} ${d.workflow.status ?? '?'} (${d.workflow.workflowStatus})`;
    console.log(`${d.action.padEnd(13)} ${d.issueId}  ${rm} → ${wf}${d.error ? `  error: ${d.error}` : ''}`);
  }
  for (const f of report.openFailures) console.log(`write refused  ${f.issueId}  v${f.version} ${f.code ?? ''} ${f.message}`);
  console.log(`checked ${report.checked} issue(s): ${report.differences.filter((d) => d.action !== 'failed').length} fixed, ${report.differences.filter((d) => d.action === 'failed').length} failed, ${report.openFailures.length} refused write(s) open`);
  console.log(JSON.stringify(report));
  if (report.differences.some((d) => d.action === 'failed')) process.exitCode = 1;
} finally {
  await connection.close().catch(() => {});
  await pool.end();
}
