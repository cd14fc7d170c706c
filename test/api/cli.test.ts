/** The CLI against the real API: the agent's loop from a shell, with exit codes a script can use. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startStack, type Stack } from '../support/stack.js';
import { createIssue, seedCompany } from '../support/seed.js';

const CLI = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

function run(stack: Stack, key: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, SWITCHYARD_URL: stack.url, SWITCHYARD_API_KEY: key, SWITCHYARD_RUN_ID: 'cli-run' } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('cli', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  it('me, checkout, close --comment-file; a refused call exits 1 with the error', async () => {
    const { companyId, agents } = await seedCompany(stack, 2);
    const [me, other] = agents as [(typeof agents)[0], (typeof agents)[0]];
    const issue = await createIssue(stack, companyId, { status: 'todo' });

    const help = await run(stack, me.key, ['--help']);
    assert.ok(!help.stdout.includes(me.key), '--help never prints the key');
    const who = await run(stack, me.key, ['me']);
    assert.equal(who.code, 0, who.stderr);
    assert.equal(JSON.parse(who.stdout).id, me.id);

    const taken = await run(stack, me.key, ['checkout', issue.id, '--agent', me.id]);
    assert.equal(taken.code, 0, taken.stderr);
    assert.equal(JSON.parse(taken.stdout).checkout.runId, 'cli-run');

    const lost = await run(stack, other.key, ['checkout', issue.id, '--agent', other.id]);
    assert.equal(lost.code, 1);
    assert.match(lost.stderr, /HTTP 409[\s\S]*checkout_conflict/);

    const file = path.join(tmpdir(), `closing-${issue.id}.md`);
    writeFileSync(file, 'Deliverable: doc:runbook\nResult: runbook written.\nVerified: followed it on staging.\n');
    const closed = await run(stack, me.key, ['close', issue.id, '--comment-file', file]);
    assert.equal(closed.code, 0, closed.stderr);
    assert.equal(JSON.parse(closed.stdout).issue.status, 'done');
    const listed = await run(stack, me.key, ['list', companyId, '--status', 'done']);
    assert.deepEqual(JSON.parse(listed.stdout).map((i: any) => i.id), [issue.id]);
  });

  it('usage errors exit 2 (an unknown command or option, a missing argument or required option); help exits 0', async () => {
    for (const args of [['me', '--bogus'], ['show'], ['frobnicate'], ['task', 'submit', 'abc']]) {
      const r = await run(stack, 'sy_not_a_key', args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /error/i, args.join(' '));
    }
    assert.equal((await run(stack, 'sy_not_a_key', ['task', '--help'])).code, 0);
  });

  it('seed 000 from a shell: inbox, checkout, context, doc put plan, interaction ask --plan, update in_review, the operator accepts, child', async () => {
    const { companyId, agents } = await seedCompany(stack, 2);
    const [manager, dev] = agents as [(typeof agents)[0], (typeof agents)[0]];
    const epic = await createIssue(stack, companyId, { assigneeAgentId: manager.id });
    const json = async (key: string, args: string[]) => {
      const r = await run(stack, key, args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return JSON.parse(r.stdout);
    };
    assert.deepEqual((await json(manager.key, ['inbox'])).map((i: any) => i.id), [epic.id]);
    await json(manager.key, ['checkout', epic.id, '--agent', manager.id]);
    assert.equal((await json(manager.key, ['context', epic.id])).issue.id, epic.id);
    const plan = path.join(tmpdir(), `plan-${epic.id}.md`);
    writeFileSync(plan, '# Plan\n1. Split\n2. Ship\n');
    assert.equal((await json(manager.key, ['doc', 'put', epic.id, 'plan', '--file', plan, '--title', 'Plan'])).latestRevisionNumber, 1);
    const asked = await json(manager.key, ['interaction', 'ask', epic.id, '--plan', '--prompt', 'Approve the plan?']);
    assert.match(asked.idempotencyKey, new RegExp(`^confirmation:${epic.id}:plan:`));
    assert.equal((await json(manager.key, ['update', epic.id, '--status', 'in_review', '--comment', 'Plan ready.', '--review-interaction', asked.id])).status, 'in_review');
    const early = await run(stack, manager.key, ['child', epic.id, '--title', 'Split', '--assignee', dev.id]);
    assert.equal(early.code, 1);
    assert.match(early.stderr, /plan_not_approved/);
    assert.equal((await json(stack.adminKey, ['interaction', 'accept', epic.id, asked.id])).status, 'accepted');
    await json(manager.key, ['checkout', epic.id, '--agent', manager.id]);
    const child = await json(manager.key, ['child', epic.id, '--title', 'Split', '--assignee', dev.id, '--status', 'todo']);
    assert.equal(child.parentId, epic.id);
  });

  it('goals, reject with a reason, comment --reopen, block, doc revisions from a shell', async () => {
    const { companyId, agents } = await seedCompany(stack, 2);
    const [a, b] = agents as [(typeof agents)[0], (typeof agents)[0]];
    const json = async (key: string, args: string[]) => {
      const r = await run(stack, key, args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return JSON.parse(r.stdout);
    };
    const goal = await json(a.key, ['goals', 'add', companyId, '--title', 'Faster checkout', '--level', 'company']);
    const sub = await json(a.key, ['goals', 'add', companyId, '--title', 'Cache the cart', '--level', 'team', '--parent', goal.id]);
    assert.equal(sub.parentId, goal.id);
    assert.equal((await json(a.key, ['goals', 'list', companyId])).length, 2);

    const issue = await json(a.key, ['create', companyId, '--title', 'Cache', '--assignee', a.id, '--goal', sub.id]);
    const other = await json(a.key, ['create', companyId, '--title', 'Prereq', '--assignee', b.id]);
    assert.deepEqual((await json(a.key, ['block', issue.id, '--on', other.id, '--comment', 'Needs the prereq'])).blockedByIssueIds, [other.id]);
    const refused = await run(stack, a.key, ['checkout', issue.id, '--agent', a.id]);
    assert.match(refused.stderr, /unresolved_blockers/);

    await json(a.key, ['doc', 'put', issue.id, 'plan', '--body', 'v1']);
    await json(a.key, ['doc', 'put', issue.id, 'plan', '--body', 'v2', '--base', 'latest']);
    assert.deepEqual((await json(a.key, ['doc', 'revisions', issue.id, 'plan'])).map((r: any) => r.revisionNumber), [2, 1]);
    const asked = await json(a.key, ['interaction', 'ask', issue.id, '--plan', '--prompt', 'OK?', '--reason-required']);
    const noReason = await run(stack, stack.adminKey, ['interaction', 'reject', issue.id, asked.id]);
    assert.match(noReason.stderr, /reason_required/);
    assert.equal((await json(stack.adminKey, ['interaction', 'reject', issue.id, asked.id, '--reason', 'Split it'])).result.reason, 'Split it');

    await json(b.key, ['checkout', other.id, '--agent', b.id]);
    await json(b.key, ['close', other.id, '--comment', 'Inline result: prereq done. Result: ok. Verified: by hand.']);
    await json(b.key, ['comment', other.id, '--body', 'It regressed', '--reopen']);
    assert.equal((await json(b.key, ['show', other.id])).status, 'todo');
  });
});

