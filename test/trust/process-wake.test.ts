/**
 * Issue 13 §1: no operator secret reaches an agent. A process wake gets an allowlisted environment
 * (never the worker's admin key, secret key or database URL), a working directory of its own, the
 * variables the operator named on its target, and — with `user` — another OS user, so it cannot read
 * the worker's files or its /proc environment either.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createIssue, seedCompany } from '../support/seed.js';
import { startStack, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

let stack: Stack;
const saved = { ...process.env };
const WORKER_CANARY = 'worker-only-canary-7f3a9';

before(async () => {
  stack = await startStack({ config: { runTokenTtlSeconds: 600 } });
  stack.config.publicUrl = stack.url;
  // The worker's environment as `npm start` gives it: every secret the stack has.
  Object.assign(process.env, {
    SWITCHYARD_ADMIN_KEY: stack.adminKey,
    SWITCHYARD_SECRET_KEY: stack.config.secretKey,
    DATABASE_URL: stack.databaseUrl,
    TEMPORAL_ADDRESS: stack.config.temporalAddress,
    SOME_WORKER_TOKEN: WORKER_CANARY,
    LC_ALL: 'C.UTF-8',
  });
});
after(async () => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
  await stack.stop();
});

/** An agent that reports what it was given and what it can reach, into `out` (a directory anyone may write). */
async function reportingAgent(): Promise<{ script: string; out: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sy-trust-'));
  await chmod(dir, 0o777);
  const out = path.join(dir, 'report.json');
  const script = path.join(dir, 'agent.mjs');
  await writeFile(
    script,
    `import fs from 'node:fs';
const tryRead = (p) => { try { fs.readFileSync(p); return 'readable'; } catch (e) { return e.code; } };
const h = { authorization: 'Bearer ' + process.env.SWITCHYARD_API_KEY };
const me = await fetch(process.env.SWITCHYARD_URL + '/api/agents/me', { headers: h });
const admin = await fetch(process.env.SWITCHYARD_URL + '/api/companies', { method: 'POST', headers: { ...h, 'content-type': 'application/json', 'x-run-id': 'r' }, body: '{"name":"Evil"}' });
fs.writeFileSync(${JSON.stringify(out)}, JSON.stringify({
  env: process.env, cwd: process.cwd(), uid: process.getuid(), me: { status: me.status, body: await me.json() }, createCompany: admin.status,
  relativeKey: tryRead('.switchyard/admin-key'), parentEnviron: tryRead('/proc/' + process.ppid + '/environ'),
  adminKeyFile: process.argv[2] ? tryRead(process.argv[2]) : null,
}));
`,
  );
  await chmod(script, 0o755);
  return { script, out };
}

async function wakeWith(target: Record<string, unknown>, out: string) {
  const { companyId, agents } = await seedCompany(stack, 1);
  const agent = agents[0]!;
  const set = await stack.admin.request('PUT', `/api/agents/${agent.id}/wake-target`, { target: { type: 'process', ...target } });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  const issue = await createIssue(stack, companyId, { title: 'Wake me', assigneeAgentId: agent.id });
  const report = await waitFor('the agent to report', () => readFile(out, 'utf8').then(JSON.parse).catch(() => undefined), (r) => !!r, 30_000);
  return { report, agent, issue, set };
}

function assertNoOperatorSecret(env: Record<string, string>) {
  const values = Object.values(env);
  for (const secret of [stack.adminKey, stack.config.secretKey!, stack.databaseUrl, WORKER_CANARY]) {
    assert.ok(!values.some((v) => v.includes(secret)), `no variable carries ${secret.slice(0, 12)}…`);
  }
  assert.ok(!values.some((v) => /postgres(ql)?:\/\//.test(v)), 'no postgres:// URL');
  for (const name of ['SWITCHYARD_ADMIN_KEY', 'SWITCHYARD_SECRET_KEY', 'DATABASE_URL', 'TEMPORAL_ADDRESS', 'SOME_WORKER_TOKEN', 'TEST_DATABASE_SERVER_URL']) {
    assert.equal(env[name], undefined, `${name} is not passed on`);
  }
  const allowed = (n: string) => ['PATH', 'HOME', 'LANG', 'TZ'].includes(n) || n.startsWith('LC_') || n.startsWith('SWITCHYARD_') || n.startsWith('PAPERCLIP_') || n === 'AGENT_TOOL_TOKEN';
  assert.deepEqual(Object.keys(env).filter((n) => !allowed(n)), [], 'only the allowlist, the wake\'s own and the target\'s variables');
}

test('a process wake gets an allowlisted environment, its own directory, and a run token that works', async () => {
  const { script, out } = await reportingAgent();
  const { report, agent, set } = await wakeWith({ command: process.execPath, args: [script], env: { AGENT_TOOL_TOKEN: 'tool-token-123' } }, out);
  assert.deepEqual(set.body.wakeTarget.env, ['AGENT_TOOL_TOKEN'], 'the target shows the names of its variables');
  assert.ok(!JSON.stringify(set.body).includes('tool-token-123'), 'never their values');
  assertNoOperatorSecret(report.env);
  assert.equal(report.env.AGENT_TOOL_TOKEN, 'tool-token-123', 'the variables the operator named reach the agent');
  assert.equal(report.env.PATH, process.env.PATH);
  assert.equal(report.env.LC_ALL, 'C.UTF-8', 'LC_* pass');
  assert.match(report.env.SWITCHYARD_API_KEY, /^sy_run_/, 'the run token, not an agent key');
  assert.equal(report.me.status, 200, 'its run token works');
  assert.equal(report.me.body.id, agent.id);
  assert.equal(report.createCompany, 403, 'and is an agent\'s, not the operator\'s');
  assert.match(report.cwd, /switchyard-run-/, 'a fresh directory of its own');
  assert.notEqual(report.cwd, process.cwd());
  assert.equal(report.relativeKey, 'ENOENT', 'the admin key file is not reachable by a relative path');
});

test('target variables may not carry an operator secret nor override the wake\'s own', async () => {
  const { agents } = await seedCompany(stack, 1);
  const put = (env: Record<string, string>) => stack.admin.request('PUT', `/api/agents/${agents[0]!.id}/wake-target`, { target: { type: 'process', command: '/bin/true', env } });
  for (const env of [{ KEY: stack.adminKey }, { X: `prefix-${stack.config.secretKey}` }, { DB: stack.databaseUrl }] as Array<Record<string, string>>) {
    const r = await put(env);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.code, 'validation_error');
    assert.ok(!JSON.stringify(r.body).includes(stack.adminKey), 'the refusal does not echo it');
  }
  for (const env of [{ SWITCHYARD_API_KEY: 'x' }, { PAPERCLIP_AGENT_ID: 'x' }, { 'not a name': 'x' }] as Array<Record<string, string>>) {
    const r = await put(env);
    assert.equal(r.status, 400, JSON.stringify(r.body));
  }
  const target = (await stack.pool.query('SELECT wake_target_type FROM agents WHERE id = $1', [agents[0]!.id])).rows[0];
  assert.equal(target.wake_target_type, null, 'nothing was stored');
});

test('with `user`, the agent runs as that OS user: the worker\'s files and /proc environment are out of reach', { skip: process.getuid?.() !== 0 && 'needs root: the worker can switch users only as root' }, async () => {
  const keyDir = await mkdtemp(path.join(tmpdir(), 'sy-keys-'));
  const keyFile = path.join(keyDir, 'admin-key');
  await writeFile(keyFile, stack.adminKey, { mode: 0o600 });
  const { script, out } = await reportingAgent();
  const { report } = await wakeWith({ command: process.execPath, args: [script, keyFile], user: 'nobody' }, out);
  assert.equal(report.uid, 65534, 'it runs as nobody');
  assert.equal(report.adminKeyFile, 'EACCES', 'the operator\'s key file is not readable');
  assert.equal(report.parentEnviron, 'EACCES', 'nor the worker\'s environment through /proc');
  assert.equal(report.env.HOME, '/nonexistent', 'HOME is the user\'s own');
  assertNoOperatorSecret(report.env);
  assert.equal(report.me.status, 200, 'its run token works');
});

test('a `user` that does not exist fails the wake for good, saying why', async () => {
  const { companyId, agents } = await seedCompany(stack, 1);
  const agent = agents[0]!;
  await stack.admin.request('PUT', `/api/agents/${agent.id}/wake-target`, { target: { type: 'process', command: process.execPath, args: ['-e', '0'], user: 'no_such_user_x' } });
  await createIssue(stack, companyId, { title: 'Wake a ghost', assigneeAgentId: agent.id });
  const wake = await waitFor('the wake to fail', async () => (await stack.pool.query('SELECT last_error FROM wakeups WHERE agent_id = $1', [agent.id])).rows[0], (r) => !!r?.last_error);
  assert.match(wake.last_error, /no_such_user_x.*does not exist/);
});

test('an agent dies with its worker: a worker killed mid-run leaves no agent working with a live run token (hostile pass)', { skip: process.platform !== 'linux' && 'the parent-death signal is Linux\'s' }, async () => {
  const { spawn } = await import('node:child_process');
  const spawner = spawn(process.execPath, ['--import', 'tsx', new URL('../support/agent-spawner.ts', import.meta.url).pathname, 'sleep', '120'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  spawner.stdout!.on('data', (c) => (out += String(c)));
  const agentPid = Number((await waitFor('the agent started', async () => out, (o) => /AGENT \d+/.test(o))).match(/AGENT (\d+)/)![1]);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  assert.ok(alive(agentPid), 'the agent runs while its worker does');
  spawner.kill('SIGKILL');
  await waitFor('the agent gone with its worker', async () => alive(agentPid), (a) => a === false);
  // A command that is not there still fails as a start failure (not as a run that exited).
  const missing = spawn(process.execPath, ['--import', 'tsx', new URL('../support/agent-spawner.ts', import.meta.url).pathname, '/nonexistent/agent'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let said = '';
  missing.stdout!.on('data', (c) => (said += String(c)));
  assert.match(await waitFor('the start failure', async () => said, (o) => o.includes('ERROR')), /ENOENT/);
  missing.kill('SIGKILL');
});
