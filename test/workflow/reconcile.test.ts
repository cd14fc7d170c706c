/**
 * The safety net (issue 6 §1.3): the reconciler compares read model and workflow and repairs what
 * differs; `npm run reconcile` runs it once and prints what it fixed; its Schedule runs it in Temporal.
 * And a write Postgres refuses for good is recorded and skipped, never retried forever in silence.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { reconcileScheduleId, ensureReconcileSchedule } from '../../runtime/reconcile-schedule.js';
import { startStack, type Stack } from '../support/stack.js';
import { checkedOutIssue, seedCompany, type SeededAgent } from '../support/seed.js';
import { waitFor } from '../support/wait.js';
import { workflowIdFor } from '../../workflows/messages.js';

const run = promisify(execFile);
const RECONCILE = fileURLToPath(new URL('../../scripts/reconcile.ts', import.meta.url));

describe('reconciler', { timeout: 120_000 }, () => {
  let stack: Stack;
  let companyId: string;
  let agent: SeededAgent;

  before(async () => {
    stack = await startStack();
    const seeded = await seedCompany(stack, 1);
    companyId = seeded.companyId;
    agent = seeded.agents[0]!;
  });
  after(() => stack.stop());

  const reconcile = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', RECONCILE, ...args], {
      env: { ...process.env, DATABASE_URL: stack.databaseUrl, TEMPORAL_ADDRESS: stack.config.temporalAddress, LOG_LEVEL: 'error' },
    });
    const lines = stdout.trim().split('\n');
    return { lines, report: JSON.parse(lines.at(-1)!) };
  };

  async function checkedOut() {
    const issue = await checkedOutIssue(stack, companyId, agent);
    // The projection activity has confirmed the write too.
    await waitFor('the projection to settle', async () => (await stack.client.workflow.getHandle(workflowIdFor(issue.id)).query<any>('projection')).pending.activity.length, (n) => n === 0);
    return issue.id;
  }

  it('npm run reconcile repairs a row ahead of its workflow (and what it added), one behind, and a terminated workflow; a second pass finds nothing', async () => {
    const ahead = await checkedOut();
    const behind = await checkedOut();
    const closed = await checkedOut();
    // As after a Reset in the Web UI: the row claims a state and a comment the workflow does not have.
    await stack.pool.query("UPDATE issues SET status = 'done', version = 9, fingerprint = 'gone', checkout = NULL WHERE id = $1", [ahead]);
    await stack.pool.query(
      "INSERT INTO comments (id, issue_id, company_id, body, created_at, version) VALUES (gen_random_uuid(), $1, $2, 'from a lost history', now(), 9)",
      [ahead, companyId],
    );
    await stack.pool.query("UPDATE issues SET status = 'todo', version = 1, checkout = NULL WHERE id = $1", [behind]);
    await stack.client.workflow.getHandle(workflowIdFor(closed)).terminate('operator pressed Terminate');

    const { lines, report } = await reconcile('--since-minutes', '30');
    const actions = Object.fromEntries(report.differences.map((d: any) => [d.issueId, d.action]));
    assert.deepEqual(actions, { [ahead]: 'repaired', [behind]: 'repaired', [closed]: 'marked_closed' }, lines.join('\n'));
    assert.ok(lines.some((l: string) => l.includes(ahead) && l.includes('read model v9 done')), lines.join('\n'));

    for (const id of [ahead, behind]) {
      const read = await agent.http.get(`/api/issues/${id}`);
      assert.equal(read.body.status, 'in_progress');
      assert.equal(read.body.version, 2);
      assert.equal(read.body.checkout.agentId, agent.id);
    }
    assert.deepEqual((await agent.http.get(`/api/issues/${ahead}/comments`)).body, [], 'what the lost history added is gone');
    const terminated = await agent.http.get(`/api/issues/${closed}`);
    assert.equal(terminated.body.workflowStatus, 'terminated');
    assert.deepEqual(terminated.body.availableActions, []);

    const again = await reconcile('--since-minutes', '30');
    assert.deepEqual(again.report.differences, [], again.lines.join('\n'));
  });

  it('a write Postgres refuses for good is recorded and skipped, the task goes on, and the reconciler reports it, then lands it once its cause is gone', async () => {
    const id = await checkedOut();
    await stack.pool.query(`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF NEW.body LIKE '%poison%' THEN RAISE EXCEPTION 'this body is refused' USING ERRCODE = '22023'; END IF; RETURN NEW; END $$`);
    await stack.pool.query('CREATE TRIGGER poison BEFORE INSERT ON comments FOR EACH ROW EXECUTE FUNCTION poison()');
    try {
      const poisoned = await agent.http.post(`/api/issues/${id}/comments`, { body: 'poison pill' });
      assert.equal(poisoned.status, 201, 'the change is made: the workflow has it');
      // The projection activity fails once, as non-retryable, and the workflow moves on.
      const handle = stack.client.workflow.getHandle(workflowIdFor(id));
      await waitFor('the refused write to be recorded by the activity', async () => (await stack.pool.query('SELECT count(*)::int AS n FROM projection_failures WHERE issue_id = $1', [id])).rows[0].n, (n) => n >= 2);
      await waitFor('the projection loop to move on', async () => (await handle.query<any>('projection')).pending.comments.length, (n) => n === 0);
      const failed = (await handle.fetchHistory()).events!.filter((e) => e.activityTaskFailedEventAttributes);
      assert.equal(failed.length, 1, 'refused once, not retried');
      assert.equal((await handle.describe()).raw.pendingActivities?.length ?? 0, 0);

      const next = await agent.http.post(`/api/issues/${id}/comments`, { body: 'still working' });
      assert.equal(next.status, 201);
      const read = await agent.http.get(`/api/issues/${id}`);
      assert.equal(read.body.version, 4, 'the row caught up with the next change');
      assert.deepEqual((await agent.http.get(`/api/issues/${id}/comments`)).body.map((c: any) => c.body), ['still working']);
      const { lines, report } = await reconcile('--since-minutes', '30');
      assert.ok(report.openFailures.some((f: any) => f.issueId === id && f.code === '22023'), JSON.stringify(report));
      assert.ok(lines.some((l: string) => l.startsWith('write refused') && l.includes(id)), lines.join('\n'));
    } finally {
      await stack.pool.query('DROP TRIGGER poison ON comments; DROP FUNCTION poison()');
    }
    // Its cause gone, the next pass lands the refused write: the comment is there, in its place.
    const { report } = await reconcile('--since-minutes', '30');
    assert.deepEqual(report.openFailures, []);
    assert.deepEqual((await agent.http.get(`/api/issues/${id}/comments?order=asc`)).body.map((c: any) => c.body), ['poison pill', 'still working']);
  });

  it('runs as a Temporal Schedule per task queue', async () => {
    const config = { ...stack.config, reconcileEveryMinutes: 5 };
    const id = await ensureReconcileSchedule(stack.client, config);
    assert.equal(id, reconcileScheduleId(config.taskQueue));
    await ensureReconcileSchedule(stack.client, config); // idempotent
    const handle = stack.client.schedule.getHandle(id!);
    try {
      const described = await handle.describe();
      assert.equal(described.action.type, 'startWorkflow');
      assert.equal(described.policies.overlap, 'SKIP');
      const before = described.info.recentActions.length;
      await handle.trigger();
      const done = await waitFor('the scheduled pass to finish', async () => (await handle.describe()).info.recentActions, (a) => a.length > before);
      const started = done.at(-1)!.action.workflow;
      const report = await stack.client.workflow.getHandle(started.workflowId, started.firstExecutionRunId).result();
      assert.ok(typeof report.checked === 'number' && Array.isArray(report.differences), JSON.stringify(report));
    } finally {
      await handle.delete();
    }
  });
});
