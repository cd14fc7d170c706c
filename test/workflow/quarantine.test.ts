/**
 * Issue 13 §2, blast radius: workflow code that runs past the SDK's isolate timeout after an await kills
 * the whole worker process (Node: "async hook stack has become corrupted"), and so did every worker that
 * picked the task up again. The product's worker journals what it activates; after two deaths in the
 * same run that run is quarantined: workers fail its workflow tasks at once (the worker logs why, and the
 * task's attempts climb in the Web UI), they stay up, a neighbour completes, and /readyz lists it.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bundleWorkflows } from '../../worker/create-worker.js';
import { startStack, testEnv, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

const WORKER = fileURLToPath(new URL('../../worker/main.ts', import.meta.url));
let stack: Stack;
let dir: string;
let bundlePath: string;

before(async () => {
  stack = await startStack({ withoutWorker: true });
  dir = mkdtempSync(path.join(tmpdir(), 'sy-quarantine-'));
  bundlePath = path.join(dir, 'bundle.js');
  writeFileSync(bundlePath, (await bundleWorkflows([], fileURLToPath(new URL('../support/poison-workflows.ts', import.meta.url)))).code);
});
after(async () => {
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Running { child: ChildProcess; output: () => string; exited: Promise<number | string> }

/** The product's worker (worker/main.ts) as its own process, on this test's task queue. */
async function startWorker(): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: testEnv().temporal,
      DATABASE_URL: stack.databaseUrl,
      SWITCHYARD_TASK_QUEUE: stack.config.taskQueue,
      SWITCHYARD_WORKFLOW_BUNDLE: bundlePath,
      SWITCHYARD_JOURNAL_DIR: path.join(dir, 'journals'),
      SWITCHYARD_WORKER_ROLE: 'tasks',
      SWITCHYARD_RECONCILE_EVERY_MINUTES: '0',
      SWITCHYARD_SECRET_KEY: stack.config.secretKey ?? '',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  await waitFor('the worker to run', async () => out, (o) => o.includes('"msg":"worker running"') || child.exitCode !== null, 60_000);
  assert.ok(out.includes('"msg":"worker running"'), out.slice(-2000));
  return { child, output: () => out, exited };
}

test('a run that kills workers is quarantined after two deaths: the third worker stays up and its neighbours run', async () => {
  const poison = await stack.client.workflow.start('poisonWorkflow', { taskQueue: stack.config.taskQueue, workflowId: `poison-${Date.now()}`, args: [300] });
  for (const death of [1, 2]) {
    const w = await startWorker();
    const how = await Promise.race([w.exited, new Promise((r) => setTimeout(() => r('still running'), 90_000))]);
    assert.notEqual(how, 'still running', `death ${death}: the poison run kills the worker process (the SDK cannot contain it)`);
    assert.match(w.output(), /async hook stack has become corrupted/, 'the mechanism: a vm timeout inside a microtask with async hooks on');
  }
  const w = await startWorker();
  assert.match(w.output(), /quarantined/);
  // The run's workflow task is failed by the quarantine (the worker logs why), again at each retry; the
  // server keeps the failures of a task already retried out of the history, but counts its attempts.
  await waitFor('the quarantine to fail the poison run\'s workflow task', async () => w.output(), (o) => /Quarantined by Switchyard/.test(o), 90_000);
  const pending = await waitFor('the failing task\'s attempts', async () => (await stack.client.workflow.getHandle(poison.workflowId).describe()).raw.pendingWorkflowTask, (p) => Number(p?.attempt ?? 0) >= 3, 60_000);
  assert.ok(Number(pending!.attempt) >= 3);
  const innocent = await stack.client.workflow.execute('innocentWorkflow', { taskQueue: stack.config.taskQueue, workflowId: `innocent-${Date.now()}`, args: [] });
  assert.equal(innocent, 'done', 'a neighbour runs on the same worker');
  assert.equal(w.child.exitCode, null, 'the worker is still up');
  const ready = await stack.admin.get('/readyz');
  const listed = ready.body.checks.workflowTasks.quarantined as Array<{ runId: string; workflowId: string; deaths: number }>;
  assert.deepEqual(listed.map((q) => [q.runId, q.workflowId, q.deaths]), [[poison.firstExecutionRunId, poison.workflowId, 2]], '/readyz names the run');
  w.child.kill('SIGTERM');
  await w.exited;
});

test('an innocent run blamed for unrelated worker deaths is forgiven once it completes an activation: never quarantined (hostile pass)', async () => {
  const journals = path.join(dir, 'journals');
  const run = await stack.client.workflow.start('patientWorkflow', { taskQueue: stack.config.taskQueue, workflowId: `patient-${Date.now()}`, args: [] });
  const deaths = async () => (await stack.pool.query('SELECT deaths FROM workflow_task_deaths WHERE run_id = $1', [run.firstExecutionRunId])).rows[0]?.deaths ?? 0;
  /** A worker killed (kill -9, OOM, a deploy) while this busy run's activation was in flight: it is blamed. */
  const killedWhileBusy = () => {
    mkdirSync(journals, { recursive: true });
    writeFileSync(path.join(journals, '999999.json'), JSON.stringify([{ runId: run.firstExecutionRunId, workflowId: run.workflowId, since: Date.now() - 500 }]));
  };
  for (const round of [1, 2, 3]) {
    killedWhileBusy();
    const w = await startWorker();
    const row = (await stack.pool.query('SELECT deaths, quarantined_until FROM workflow_task_deaths WHERE run_id = $1', [run.firstExecutionRunId])).rows[0];
    assert.deepEqual([row?.deaths, row?.quarantined_until], [1, null], `round ${round}: blamed once, never quarantined`);
    await stack.client.workflow.getHandle(run.workflowId).signal('poke');
    await waitFor(`round ${round}: forgiven once it completes an activation`, deaths, (n) => n === 0, 30_000);
    w.child.kill('SIGTERM');
    await w.exited;
  }
});
