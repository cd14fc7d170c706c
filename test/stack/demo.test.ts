/** `npm run demo -- --exit`: the stack, the fake GitHub and a scripted agent take one issue from intake to a merged PR. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../scripts/stack/ports.js';
import { dropDatabase, ensureDatabase } from '../../scripts/stack/postgres.js';
import { testEnv } from '../support/stack.js';

const DEMO = fileURLToPath(new URL('../../scripts/demo.ts', import.meta.url));

/** Runs the demo with `args` on a stack of its own (own ports, database and state folder); answers its output. */
async function runDemo(args: string[]): Promise<{ out: string; uiPort: string }> {
  const env = testEnv();
  const dir = mkdtempSync(path.join(tmpdir(), 'sy-demo-'));
  const database = `sy_demo_${process.pid}_${args.length}`;
  const databaseUrl = await ensureDatabase(env.pg, database);
  const uiPort = String(await freePort());
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', DEMO, ...args], {
      env: {
        ...process.env,
        PORT: String(await freePort()), TEMPORAL_PORT: String(await freePort()), TEMPORAL_UI_PORT: uiPort,
        SWITCHYARD_STATE_DIR: dir, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: '', SWITCHYARD_URL: '', TEMPORAL_CLI: env.cli, SWITCHYARD_WORKFLOW_BUNDLE: env.bundle,
        SWITCHYARD_RECONCILE_EVERY_MINUTES: '0', LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    for (const s of [child.stdout!, child.stderr!]) s.on('data', (c) => (out += String(c)));
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 0, out.slice(-4000));
    return { out, uiPort };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await dropDatabase(env.pg, database).catch(() => {});
  }
}

test('npm run demo -- --exit: every stage from routing to shipped, then everything stops', { timeout: 300_000 }, async () => {
  const { out, uiPort } = await runDemo(['--exit']);
  const stages = [...out.matchAll(/\[demo\] stage → (\w+)/g)].map((m) => m[1]);
  for (const stage of ['assigned', 'working', 'ready_to_ship', 'shipped']) assert.ok(stages.includes(stage), `${stage} in ${stages.join(' → ')}`);
  assert.match(out, new RegExp(`watch it: http://127\\.0\\.0\\.1:${uiPort}/namespaces/default/workflows/issue%2F`), 'the Web UI where this stack put it');
  assert.match(out, /\[demo\] shipped: http:\/\/\S+\/commit\/[0-9a-f]{40}/);
  assert.match(out, /upstream issue .* is closed/);
  assert.match(out, /removed the demo's source and its Schedule/, 'a later npm start does not poll a fake that is gone');
});

test('npm run demo -- --linear --exit: a Linear issue to a merged PR, CircleCI red then green gating the ship, Linear completed', { timeout: 300_000 }, async () => {
  const { out, uiPort } = await runDemo(['--linear', '--exit']);
  const stages = [...out.matchAll(/\[demo\] stage → (\w+)/g)].map((m) => m[1]);
  for (const stage of ['assigned', 'working', 'submitted', 'ready_to_ship', 'shipped']) assert.ok(stages.includes(stage), `${stage} in ${stages.join(' → ')}`);
  assert.ok(stages.filter((s) => s === 'submitted').length >= 2, `the fix loop (red, then a second submit): ${stages.join(' → ')}`);
  assert.match(out, new RegExp(`watch it: http://127\\.0\\.0\\.1:${uiPort}/namespaces/default/workflows/issue%2F`));
  assert.match(out, /CircleCI ran build-and-test on [0-9a-f]{8}: unit failed/);
  assert.match(out, /CircleCI ran build-and-test on [0-9a-f]{8}: green/);
  assert.match(out, /\[demo\] shipped: http:\/\/\S+\/commit\/[0-9a-f]{40}/);
  const linear = /Linear issue \S+ is Done; its comments: (.*)/.exec(out)?.[1] ?? '';
  assert.ok(linear, 'the Linear issue ended completed');
  for (const said of ['assigned this issue to agent demo-agent', 'On it: ', 'Shipped by Switchyard task']) assert.ok(linear.includes(said), `${said} in ${linear}`);
  assert.match(out, /removed the demo's sources/);
});
