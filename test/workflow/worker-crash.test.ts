/** Kill -9 the worker process in the middle of a close: after a restart the close completes exactly once. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startStack, testEnv, type Stack } from '../support/stack.js';
import { ALL_TAKEABLE, createIssue, seedCompany } from '../support/seed.js';
import { waitFor } from '../support/wait.js';

const WORKER_MAIN = fileURLToPath(new URL('../../worker/main.ts', import.meta.url));

describe('worker crash during close', () => {
  let stack: Stack;
  const children: ChildProcess[] = [];
  const pausesOf = new Map<ChildProcess, { n: number }>();

  before(async () => {
    stack = await startStack({ withoutWorker: true, config: { temporalCallTimeoutMs: 30_000 } });
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await stack.stop();
  });

  function spawnWorker(persistDelayMs?: number): ChildProcess {
    const env = testEnv();
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER_MAIN], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: env.temporal,
        DATABASE_URL: stack.databaseUrl,
        SWITCHYARD_TASK_QUEUE: stack.config.taskQueue,
        SWITCHYARD_WORKFLOW_BUNDLE: env.bundle,
        SWITCHYARD_FAULT_PERSIST_DELAY_MS: persistDelayMs ? String(persistDelayMs) : '',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    // The fault-injecting worker logs each pause; the test counts them to know where the worker is.
    const pauses = { n: 0 };
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (pauses.n += chunk.split('fault injection: pausing').length - 1));
    }
    pausesOf.set(child, pauses);
    return child;
  }

  it('one comment, one done, one closed entry; a retry with the same key gets the same answer', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const me = agents[0]!;
    const issue = await createIssue(stack, companyId, { status: 'todo' });

    // This worker pauses 2 s inside every read-model write, before committing.
    const first = spawnWorker(2_000);
    const taken = await me.http.post(`/api/issues/${issue.id}/checkout`, { agentId: me.id, expectedStatuses: ALL_TAKEABLE });
    assert.equal(taken.status, 200, JSON.stringify(taken.body));

    const body = { comment: 'Result: migrated. Verified: row counts match. Commit 9f8e7d6c5b4a' };
    const key = { 'Idempotency-Key': 'close-crash' };
    const closing = me.http.post(`/api/issues/${issue.id}/close`, body, key);
    // Wait until the close's write is sleeping inside the worker (the checkout's write was the first pause), then kill.
    const pauses = pausesOf.get(first)!;
    const before0 = pauses.n;
    await waitFor('the close write to pause', async () => pauses.n, (n) => n > before0);
    const { rows: before } = await stack.pool.query('SELECT count(*)::int AS n FROM comments WHERE issue_id = $1', [issue.id]);
    assert.equal(before[0].n, 0, 'killed before the write committed');
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));

    spawnWorker();
    const res = await closing;
    const retry = await me.http.post(`/api/issues/${issue.id}/close`, body, key);
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    if (res.status === 200) assert.deepEqual(res.body, retry.body);
    else assert.equal(res.status, 503, 'the first caller may only be told to retry');

    const read = await me.http.get(`/api/issues/${issue.id}`);
    assert.equal(read.body.status, 'done');
    const comments = (await me.http.get(`/api/issues/${issue.id}/comments`)).body;
    assert.equal(comments.length, 1);
    assert.equal(comments[0].body, body.comment);
    const closes = (await me.http.get(`/api/issues/${issue.id}/activity`)).body.filter((e: any) => e.action === 'issue.closed');
    assert.equal(closes.length, 1);
  });
});
