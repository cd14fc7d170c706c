/**
 * `npm start` fails loudly and never leaves anything behind (issue 6 §3): a taken port stops it before
 * anything starts, naming the port and the variable that moves it; a killed dev server is restarted
 * on the same database; a killed `npm start` takes its whole stack with it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../scripts/stack/ports.js';
import { isAlive } from '../../scripts/stack/processes.js';
import { dropDatabase, ensureDatabase } from '../../scripts/stack/postgres.js';
import { HttpClient } from '../support/http.js';
import { testEnv } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

const START = fileURLToPath(new URL('../../scripts/start.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(env: NodeJS.ProcessEnv): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', START], { env: { ...process.env, ...env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  for (const s of [child.stdout!, child.stderr!]) s.on('data', (c) => (out += String(c)));
  return { child, output: () => out, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
}

/** Waits for the banner; a stack that gave up instead fails the test at once with what it said. */
async function banner(run: Started, timeoutMs = 180_000): Promise<void> {
  await waitFor('the banner (or the stack giving up)', async () => ({ out: run.output(), code: run.child.exitCode }), (s) => s.out.includes('Switchyard is running') || s.code !== null, timeoutMs);
  if (!run.output().includes('Switchyard is running')) throw new Error(`npm start gave up:\n${run.output().slice(-3000)}`);
}

/** The processes the stack's record (stack.json) says are running. */
function recorded(dir: string): Array<{ name: string; pid: number }> {
  return JSON.parse(readFileSync(path.join(dir, 'stack.json'), 'utf8')).processes;
}

function occupy(port: number): Promise<Server> {
  return new Promise((resolve) => {
    const srv = createServer((socket) => socket.destroy());
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
}


async function ports() {
  return { PORT: String(await freePort()), TEMPORAL_PORT: String(await freePort()), TEMPORAL_UI_PORT: String(await freePort()), SWITCHYARD_PG_PORT: String(await freePort()) };
}

describe('npm start', { timeout: 900_000 }, () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const stateDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sy-start-'));
    dirs.push(dir);
    return dir;
  };
  /** npm start on a database of its own in the test's Postgres, with the test's workflow bundle; `api` speaks with the admin key once it is written. */
  const startOnOwnDatabase = async (name: string) => {
    const env = testEnv();
    const database = `sy_start_${name}_${process.pid}`;
    const databaseUrl = await ensureDatabase(env.pg, database);
    const dir = stateDir();
    const p = await ports();
    const run = start({ ...p, SWITCHYARD_STATE_DIR: dir, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: '', TEMPORAL_CLI: env.cli, SWITCHYARD_WORKFLOW_BUNDLE: env.bundle, SWITCHYARD_RECONCILE_EVERY_MINUTES: '0' });
    children.push(run.child);
    const adminApi = () => new HttpClient(`http://127.0.0.1:${p.PORT}`, readFileSync(path.join(dir, 'admin-key'), 'utf8').trim());
    return { run, dir, p, adminApi, dropOwnDatabase: () => dropDatabase(env.pg, database).catch(() => {}) };
  };
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const [variable, what] of [
    ['PORT', 'the Switchyard API'],
    ['TEMPORAL_PORT', 'the Temporal dev server'],
    ['TEMPORAL_UI_PORT', 'the Temporal Web UI'],
    ['SWITCHYARD_PG_PORT', 'the embedded PostgreSQL'],
  ] as const) {
    it(`a taken ${variable}: exits non-zero before starting anything, naming the port and ${variable}`, async () => {
      const env = await ports();
      const taken = await occupy(Number(env[variable]));
      try {
        const dir = stateDir();
        const run = start({ ...env, SWITCHYARD_STATE_DIR: dir, DATABASE_URL: '', TEMPORAL_ADDRESS: '', TEMPORAL_CLI: testEnv().cli });
        children.push(run.child);
        const code = await run.exited;
        assert.notEqual(code, 0, run.output());
        assert.match(run.output(), new RegExp(`port ${env[variable]} \\(${what}\\) is already in use by another program: stop it, or set ${variable} to a free port`));
        assert.doesNotMatch(run.output(), /Switchyard is running/);
        if (variable === 'TEMPORAL_PORT') assert.match(run.output(), /TEMPORAL_ADDRESS/);
        // Nothing was started, so nothing is recorded as running.
        assert.ok(!existsSync(path.join(dir, 'temporal.db')), 'no Temporal server was started');
      } finally {
        taken.close();
      }
    });
  }

  it('as root, a clone under a private (0700) folder: stops before starting anything, naming the folder and DATABASE_URL (issue 13 §7)', { skip: process.getuid?.() !== 0 && 'only root runs the embedded PostgreSQL as another user' }, async () => {
    const root = stateDir();
    chmodSync(root, 0o700);
    const clone = path.join(root, 'switchyard');
    // A clone of the working tree (what git would check out, uncommitted changes included).
    const files = execFileSync('git', ['ls-files', '-z', '-co', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const f of files) {
      if (!existsSync(path.join(ROOT, f))) continue;
      mkdirSync(path.dirname(path.join(clone, f)), { recursive: true });
      copyFileSync(path.join(ROOT, f), path.join(clone, f));
    }
    // The clone's own node_modules would be a copy of ours: a link is enough for the start script to run.
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'));
    const env = await ports();
    const run = spawn(process.execPath, ['--import', 'tsx', path.join(clone, 'scripts/start.ts')], {
      cwd: clone, env: { ...process.env, ...env, DATABASE_URL: '', TEMPORAL_ADDRESS: '', TEMPORAL_CLI: testEnv().cli, SWITCHYARD_STATE_DIR: '', SWITCHYARD_PG_DATA: '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(run);
    let out = '';
    for (const s of [run.stdout!, run.stderr!]) s.on('data', (c) => (out += String(c)));
    const code = await new Promise((r) => run.once('exit', r));
    assert.notEqual(code, 0, out);
    assert.ok(out.includes(`cannot enter ${root} (mode 0700`), out);
    assert.match(out, /DATABASE_URL=postgres:\/\//);
    assert.doesNotMatch(out, /EACCES|Switchyard is running/);
    assert.ok(!existsSync(path.join(clone, '.switchyard-pg')), 'no data directory was created');
    assert.ok(!existsSync(path.join(clone, '.switchyard', 'temporal.db')), 'no Temporal server was started');
  });

  it('a process that cannot be kept up (the API\'s port taken after the check): the stack stops and says why, never a banner', async () => {
    const { run, dir, p, dropOwnDatabase } = await startOnOwnDatabase('gives_up');
    await waitFor('the checks to pass', async () => run.output(), (o) => o.includes('starting the Temporal dev server'), 60_000);
    const taken = await occupy(Number(p.PORT));
    try {
      const code = await run.exited;
      assert.equal(code, 1, run.output());
      assert.match(run.output(), /api cannot be kept running \(exit code 78; restarting it will not help\)/);
      assert.match(run.output(), new RegExp(`port ${p.PORT} is already in use \\(set PORT to another port\\)`));
      assert.doesNotMatch(run.output(), /Switchyard is running/);
      const left = recorded(dir).length;
      assert.equal(left, 0, 'everything it started is stopped');
    } finally {
      taken.close();
      await dropOwnDatabase();
    }
  });

  it('a worker that keeps dying is restarted for as long as it takes: the API answers meanwhile and /readyz says why (issue 13 §2)', async () => {
    const { run, dir, adminApi, dropOwnDatabase } = await startOnOwnDatabase('worker');
    try {
      await banner(run);
      const api = adminApi();
      const company = await api.post('/api/companies', { name: 'Still answering' });
      assert.equal(company.status, 201);
      const workerPid = () => recorded(dir).find((x) => x.name === 'worker')?.pid;
      // One more death than the supervisor allows any other process, each soon after the last start.
      for (let death = 1; death <= 6; death++) {
        const pid = await waitFor(`worker ${death} to be up`, async () => workerPid(), (x) => x !== undefined && isAlive(x), 90_000);
        process.kill(pid!, 'SIGKILL');
        await waitFor(`worker ${death} to be recorded gone`, async () => workerPid(), (x) => x !== pid, 30_000);
        const ready = await api.get('/readyz');
        assert.equal(ready.status, 503);
        assert.match(ready.body.checks.worker.error, /the worker stopped \(killed by SIGKILL\) and restarts at /, JSON.stringify(ready.body));
        assert.equal((await api.get(`/api/companies/${company.body.id}/issues`)).status, 200, 'the API answers while the worker is down');
      }
      await waitFor('the worker back and the stack ready', () => api.get('/readyz'), (r) => r.status === 200, 90_000);
      assert.equal(run.child.exitCode, null, 'npm start is still running');
      assert.doesNotMatch(run.output(), /cannot be kept running/);
    } finally {
      run.child.kill('SIGINT');
      await Promise.race([run.exited, new Promise((r) => setTimeout(r, 30_000))]);
      run.child.kill('SIGKILL');
      await dropOwnDatabase();
    }
  });

  it('a killed dev server is restarted on the same database; a killed npm start takes every process with it', async () => {
    const { run, dir, adminApi, dropOwnDatabase } = await startOnOwnDatabase('server');
    try {
      await banner(run);
      const api = adminApi();
      assert.equal(statSync(dir).mode & 0o777, 0o700, 'the state folder is private');
      assert.equal(statSync(path.join(dir, 'admin-key')).mode & 0o777, 0o600, 'the admin key is private');
      const company = await api.post('/api/companies', { name: 'Survivor' });
      assert.equal(company.status, 201);
      const issue = await api.post(`/api/companies/${company.body.id}/issues`, { title: 'outlives the server' });
      assert.equal(issue.status, 201);

      const temporal = recorded(dir).find((x) => x.name === 'temporal')!;
      process.kill(temporal.pid, 'SIGKILL');
      await waitFor('the dev server to be restarted', async () => recorded(dir).find((x) => x.name === 'temporal')?.pid, (pid) => pid !== undefined && pid !== temporal.pid, 60_000);
      await waitFor('readiness after the restart', () => api.get('/readyz'), (r) => r.status === 200, 60_000);
      // Same database file: the task is still there, and takes changes.
      const changed = await waitFor('a change after the restart', () => api.patch(`/api/issues/${issue.body.id}`, { priority: 'high' }), (r) => r.status === 200, 30_000);
      assert.equal(changed.body.version, 2);

      const pids = recorded(dir).map((x) => x.pid);
      assert.equal(pids.length, 3, JSON.stringify(recorded(dir)));
      run.child.kill('SIGKILL');
      await waitFor('every process of the stack to be gone', async () => pids.filter(isAlive), (left) => left.length === 0, 30_000);
    } finally {
      run.child.kill('SIGKILL');
      await dropOwnDatabase();
    }
  });

  it('the embedded Postgres killed with kill -9 is restarted on its data; Ctrl-C then stops everything', async () => {
    const env = testEnv();
    const dir = stateDir();
    // Not inside the private state folder: as root, Postgres runs as its own user and must reach it.
    const pgParent = stateDir();
    const p = await ports();
    const run = start({
      ...p,
      SWITCHYARD_STATE_DIR: dir,
      SWITCHYARD_PG_DATA: path.join(pgParent, 'data'),
      DATABASE_URL: '',
      TEMPORAL_ADDRESS: '',
      TEMPORAL_CLI: env.cli,
      SWITCHYARD_WORKFLOW_BUNDLE: env.bundle,
      SWITCHYARD_RECONCILE_EVERY_MINUTES: '0',
    });
    children.push(run.child);
    try {
      await banner(run);
      const api = new HttpClient(`http://127.0.0.1:${p.PORT}`, readFileSync(path.join(dir, 'admin-key'), 'utf8').trim());
      const company = await api.post('/api/companies', { name: 'Kept' });
      assert.equal(company.status, 201);
      const postgres = recorded(dir).find((x) => x.name === 'postgres')!;
      process.kill(postgres.pid, 'SIGKILL');
      await waitFor('Postgres to be restarted', async () => recorded(dir).find((x) => x.name === 'postgres')?.pid, (pid) => pid !== undefined && pid !== postgres.pid, 60_000);
      const read = await waitFor('the company after the restart', () => api.get(`/api/companies/${company.body.id}`), (r) => r.status === 200, 30_000);
      assert.equal(read.body.name, 'Kept');

      const pids = recorded(dir).map((x) => x.pid);
      run.child.kill('SIGINT');
      assert.equal(await run.exited, 0, run.output().slice(-2000));
      assert.deepEqual(pids.filter(isAlive), [], 'every process stopped');
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});
