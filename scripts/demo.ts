/**
 * `npm run demo`: the whole product in one command. Starts the stack (as `npm start` does, or uses the
 * one already running) and a fake GitHub with a repository; connects it as a source with a webhook;
 * adds a routing rule and an agent woken in managed local mode (scripts/demo-agent.ts); then opens an
 * issue upstream and prints each stage of its one workflow, intake → ship, with the Web UI address to
 * watch it. The demo plays CI and the reviewer. `--exit` stops everything once the task has shipped.
 * `--linear`: the issue comes from a fake Linear team instead, and CircleCI's checks gate the ship
 * (scripts/demo/linear.ts). What a demo connects is removed when it stops, so a later npm start does
 * not poll fakes that are gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { adminKeyFile, runningStack } from '../runtime/local-stack.js';
import { ROOT } from './stack/temporal-cli.js';
import type { DemoContext } from './demo/context.js';
import { githubDemo } from './demo/github.js';
import { linearDemo } from './demo/linear.js';

const USAGE = `npm run demo -- [--linear] [--exit]
  --linear  the issue comes from a fake Linear team, and CircleCI's checks gate the ship
  --exit    stop everything once the task has shipped
Ports: the stack's as for npm start (PORT, TEMPORAL_PORT, TEMPORAL_UI_PORT, SWITCHYARD_PG_PORT or DATABASE_URL,
SWITCHYARD_STATE_DIR), or the stack already running; the fakes take free ports of their own.`;
const args = process.argv.slice(2);
if (args.some((a) => a === '--help' || a === '-h')) {
  console.log(USAGE);
  process.exit(0);
}
const unknown = args.filter((a) => a !== '--linear' && a !== '--exit');
if (unknown.length) {
  console.error(`[demo] unknown option ${unknown.join(' ')}\n${USAGE}`);
  process.exit(2);
}
const exitWhenDone = args.includes('--exit');
const say = (line: string) => console.log(`[demo] ${line}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const api = process.env.SWITCHYARD_URL || runningStack().api || `http://127.0.0.1:${process.env.PORT || 3000}`;
// The running npm start's Web UI (it records where), else what the environment says.
const uiUrl = () => process.env.TEMPORAL_UI_URL || runningStack().ui || `http://127.0.0.1:${process.env.TEMPORAL_UI_PORT || Number(process.env.TEMPORAL_PORT || 7233) + 1000}`;

async function ready(): Promise<boolean> {
  return fetch(`${api}/readyz`).then((r) => r.ok).catch(() => false);
}

let stack: ChildProcess | undefined;
let stopping = false;
if (await ready()) {
  say(`using the stack already running at ${api}`);
} else {
  say('starting the stack (npm start)…');
  stack = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/start.ts')], { stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
  stack.once('exit', (code) => {
    if (!stopping) {
      console.error(`[demo] npm start exited (${code}); see above why`);
      process.exit(1);
    }
  });
  const deadline = Date.now() + 600_000;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error('the stack did not become ready in 10 minutes');
    await sleep(500);
  }
}
const stops: Array<() => Promise<void>> = [];
async function stop(code = 0): Promise<never> {
  stopping = true;
  // Last registered, first undone: the source goes before the fake it points at.
  for (const fn of stops.reverse()) await fn().catch((err) => console.error(`[demo] ${(err as Error).message}`));
  if (stack) {
    stack.kill('SIGINT');
    await new Promise((r) => stack!.once('exit', r));
  }
  process.exit(code);
}
process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));

try {
  const adminKey = process.env.SWITCHYARD_ADMIN_KEY || (existsSync(adminKeyFile()) ? readFileSync(adminKeyFile(), 'utf8').trim() : '');
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${api}${p}`, { method, headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${p} → ${res.status} ${JSON.stringify(json)}`);
    return json as any;
  };
  const ctx: DemoContext = { api, call, say, uiUrl, sleep, onStop: (fn) => void stops.push(fn) };
  await (process.argv.includes('--linear') ? linearDemo(ctx) : githubDemo(ctx));
  if (exitWhenDone) {
    await sleep(1_500); // the write-back upstream answers before the fakes go
    await stop(0);
  }
  say('the stack keeps running: browse the Web UI above; Ctrl-C stops everything');
} catch (err) {
  console.error(`[demo] ${(err as Error).message}`);
  await stop(1);
}
