/**
 * `npm test`: one Temporal dev server and one Postgres for the whole run, the workflow code bundled
 * once, then node's test runner over every test file. Each file makes its own database and task queue.
 * `npm test -- leases replay` runs only the files whose path contains one of the words.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { startEphemeralStack } from '../scripts/stack/ephemeral.js';
import { ROOT } from '../scripts/stack/temporal-cli.js';

const log = (line: string) => console.error(`[test] ${line}`);

function testFiles(filter: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.test.ts')) out.push(full);
    }
  };
  walk(path.join(ROOT, 'test'));
  const picked = filter.length ? out.filter((f) => filter.some((x) => f.includes(x))) : out;
  return picked.sort();
}

const files = testFiles(process.argv.slice(2));
if (files.length === 0) throw new Error('no test files matched');
const stack = await startEphemeralStack(log);
const env = { ...process.env, ...stack.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], {
  env,
  stdio: 'inherit',
});
const code: number = await new Promise((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
await stack.stop();
process.exit(code);
