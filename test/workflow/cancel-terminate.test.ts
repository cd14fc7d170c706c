/**
 * The Temporal Web UI's buttons (issue 6 §1.4), pressed through the Temporal client exactly as the UI
 * does: Request Cancellation cancels the task cleanly; Terminate leaves a clear 409 task_unavailable;
 * `npm run cli -- admin restore` brings a closed task back from its last state.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError } from '@temporalio/client';
import { startStack, type Stack } from '../support/stack.js';
import { ALL_TAKEABLE, checkedOutIssue, seedCompany, type SeededAgent } from '../support/seed.js';
import { waitFor } from '../support/wait.js';
import { workflowIdFor } from '../../workflows/messages.js';

const CLI = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

describe('Cancel and Terminate from the Temporal Web UI; admin restore', { timeout: 120_000 }, () => {
  let stack: Stack;
  let companyId: string;
  let agent: SeededAgent;
  let stateDir: string;

  before(async () => {
    stack = await startStack();
    const seeded = await seedCompany(stack, 1);
    companyId = seeded.companyId;
    agent = seeded.agents[0]!;
    // The CLI finds the operator key where `npm start` writes it.
    stateDir = mkdtempSync(path.join(tmpdir(), 'sy-state-'));
    writeFileSync(path.join(stateDir, 'admin-key'), `${stack.adminKey}\n`);
  });
  after(() => stack.stop());

  const restoreWithCli = (issueId: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const env = { ...process.env, SWITCHYARD_URL: stack.url, SWITCHYARD_STATE_DIR: stateDir, SWITCHYARD_API_KEY: '' };
      execFile(process.execPath, ['--import', 'tsx', CLI, 'admin', 'restore', issueId], { env }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  const checkedOut = async () => (await checkedOutIssue(stack, companyId, agent)).id;

  const handleOf = (id: string) => stack.client.workflow.getHandle(workflowIdFor(id));

  /** The Web UI's Reset, to the workflow task that handled the task's first comment. */
  async function resetBeforeFirstComment(id: string, opts: { reapplyUpdates: boolean }) {
    const events = (await handleOf(id).fetchHistory()).events!;
    const firstComment = events.findIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'comment');
    const task = events.slice(0, firstComment).reverse().find((e) => e.workflowTaskCompletedEventAttributes)!;
    await stack.client.workflowService.resetWorkflowExecution({
      namespace: stack.config.temporalNamespace,
      workflowExecution: { workflowId: workflowIdFor(id) },
      workflowTaskFinishEventId: task.eventId,
      reason: 'operator pressed Reset',
      requestId: `reset-${id}`,
      // The default reapplies signals and updates; the UI's "do not reapply" choice excludes both.
      ...(opts.reapplyUpdates ? {} : { resetReapplyExcludeTypes: [1, 2] }),
    });
  }

  it('Request Cancellation: the task is cancelled, the log names the operator action, the workflow ends as Canceled', async () => {
    const id = await checkedOut();
    await handleOf(id).cancel();
    await assert.rejects(handleOf(id).result(), (err) => err instanceof WorkflowFailedError && /cancel/i.test(String(err.cause?.message ?? err.message)));
    assert.equal((await handleOf(id).describe()).status.name, 'CANCELLED');

    const read = await agent.http.get(`/api/issues/${id}`);
    assert.equal(read.body.status, 'cancelled');
    assert.equal(read.body.checkout, null);
    assert.equal(read.body.workflowStatus, 'canceled');
    assert.deepEqual(read.body.availableActions, []);
    const entry = (await agent.http.get(`/api/issues/${id}/activity`)).body.find((e: any) => e.action === 'issue.cancelled');
    assert.ok(entry, 'the cancellation is in the log');
    assert.equal(entry.details.via, 'temporal_cancel_request');
    assert.equal(entry.details.from, 'in_progress');
    assert.ok(entry.actorUser, 'it names who asked');

    // Every change is now a clear 409, never a 5xx or a hang.
    for (const call of [
      () => agent.http.post(`/api/issues/${id}/checkout`, { agentId: agent.id, expectedStatuses: ALL_TAKEABLE }),
      () => agent.http.post(`/api/issues/${id}/comments`, { body: 'anyone there?' }),
      () => stack.admin.patch(`/api/issues/${id}`, { status: 'todo' }),
    ]) {
      const res = await call();
      assert.equal(res.status, 409, JSON.stringify(res.body));
      assert.equal(res.body.code, 'task_unavailable');
      assert.equal(res.body.details.workflowStatus, 'canceled');
    }
  });

  it('Request Cancellation on a done task keeps it done and ends the workflow cleanly', async () => {
    const id = await checkedOut();
    assert.equal((await agent.http.post(`/api/issues/${id}/close`, { comment: 'Inline result: shipped.' })).status, 200);
    await handleOf(id).cancel();
    await assert.rejects(handleOf(id).result());
    const read = await waitFor('the final write', () => agent.http.get(`/api/issues/${id}`), (r) => r.body.workflowStatus === 'canceled');
    assert.equal(read.body.status, 'done');
    const actions = (await agent.http.get(`/api/issues/${id}/activity`)).body.map((e: any) => e.action);
    assert.ok(actions.includes('issue.workflow_closed'), actions.join(','));
  });

  it('Terminate: 409 task_unavailable (not 404/500); admin restore starts it again from its last state', async () => {
    const id = await checkedOut();
    assert.equal((await agent.http.post(`/api/issues/${id}/comments`, { body: 'before the crash' })).status, 201);
    const before = (await agent.http.get(`/api/issues/${id}`)).body;
    await handleOf(id).terminate('operator pressed Terminate');

    const refused = await agent.http.post(`/api/issues/${id}/heartbeat`, {});
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.code, 'task_unavailable');
    assert.equal(refused.body.details.workflowStatus, 'terminated');
    assert.match(refused.body.error, /admin restore/);
    const shown = (await agent.http.get(`/api/issues/${id}`)).body;
    assert.equal(shown.workflowStatus, 'terminated');
    assert.deepEqual(shown.availableActions, []);
    // Answered from the read model now, without asking Temporal again.
    assert.equal((await agent.http.post(`/api/issues/${id}/comments`, { body: 'x' })).body.code, 'task_unavailable');

    const restored = await restoreWithCli(id);
    assert.equal(restored.code, 0, restored.stderr);
    const body = JSON.parse(restored.stdout);
    assert.equal(body.restoredFrom.workflowStatus, 'terminated');
    assert.equal(body.restoredFrom.source, 'workflow_history');
    assert.equal(body.status, 'in_progress');
    assert.equal(body.checkout.agentId, agent.id);
    assert.equal(body.version, before.version + 1);
    assert.equal(body.workflowStatus, 'running');

    assert.equal((await handleOf(id).describe()).status.name, 'RUNNING');
    const actions = (await agent.http.get(`/api/issues/${id}/activity`)).body.map((e: any) => e.action);
    assert.ok(actions.includes('issue.restored'), actions.join(','));
    // The agent carries on where it was.
    assert.equal((await agent.http.post(`/api/issues/${id}/heartbeat`, {})).status, 200);
    const closed = await agent.http.post(`/api/issues/${id}/close`, { comment: 'Inline result: done after all.' });
    assert.equal(closed.status, 200, JSON.stringify(closed.body));
    assert.deepEqual((await agent.http.get(`/api/issues/${id}/comments?order=asc`)).body.map((c: any) => c.body), ['before the crash', 'Inline result: done after all.']);

    const twice = await restoreWithCli(id);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /status_conflict/);
  });

  it('a cancelled task restored can be reopened', async () => {
    const id = await checkedOut();
    await handleOf(id).cancel();
    await assert.rejects(handleOf(id).result());
    await waitFor('the cancellation in the read model', () => stack.admin.get(`/api/issues/${id}`), (r) => r.body.workflowStatus === 'canceled');
    const restored = await stack.admin.post(`/api/issues/${id}/restore`, {});
    assert.equal(restored.status, 200, JSON.stringify(restored.body));
    assert.equal(restored.body.status, 'cancelled');
    const reopened = await stack.admin.patch(`/api/issues/${id}`, { status: 'todo' });
    assert.equal(reopened.status, 200, JSON.stringify(reopened.body));
    assert.equal(reopened.body.status, 'todo');
  });

  it('Reset to an earlier point: at the task\'s next change the read model follows the workflow back, entries included', async () => {
    const id = await checkedOut();
    for (const body of ['one', 'two']) assert.equal((await agent.http.post(`/api/issues/${id}/comments`, { body })).status, 201);
    assert.equal((await agent.http.get(`/api/issues/${id}`)).body.version, 4);
    // Back to the workflow task that handled the first comment: the new run never saw either comment.
    await resetBeforeFirstComment(id, { reapplyUpdates: false });
    const state = await waitFor('the reset run', () => handleOf(id).query<any>('state'), (s) => s.version === 2);
    assert.equal(state.status, 'in_progress');

    const hb = await agent.http.post(`/api/issues/${id}/heartbeat`, {});
    assert.equal(hb.status, 200, JSON.stringify(hb.body));
    const read = await waitFor('the read model to follow the workflow back', () => agent.http.get(`/api/issues/${id}`), (r) => r.body.version === 3);
    assert.equal(read.body.status, 'in_progress');
    await waitFor('the lost comments to be gone', async () => (await agent.http.get(`/api/issues/${id}/comments`)).body.length, (n) => n === 0);
  });

  it('Reset with the updates after the point run again (the Web UI\'s default): no entry twice, only what the new run made', async () => {
    const id = await checkedOut();
    for (const body of ['one', 'two']) assert.equal((await agent.http.post(`/api/issues/${id}/comments`, { body })).status, 201);
    const before = (await agent.http.get(`/api/issues/${id}/comments`)).body.map((c: any) => c.id);
    await resetBeforeFirstComment(id, { reapplyUpdates: true });
    // The new run handles both comments again, as new decisions with new ids.
    await waitFor('the updates to run again', () => handleOf(id).query<any>('projection'), (p) => p.state.version === 4 && p.pending.comments.length === 0);
    const comments = await waitFor('the read model to hold only the new run\'s comments', async () => (await agent.http.get(`/api/issues/${id}/comments?order=asc`)).body, (c: any[]) => c.length === 2 && !c.some((x) => before.includes(x.id)));
    assert.deepEqual(comments.map((c: any) => c.body), ['one', 'two']);
    const actions = (await agent.http.get(`/api/issues/${id}/activity`)).body.map((e: any) => e.action);
    assert.deepEqual(actions.filter((a: string) => a === 'issue.commented').length, 2, actions.join(','));
    assert.deepEqual(actions.filter((a: string) => a === 'issue.checked_out').length, 1, actions.join(','));
    const { rows } = await stack.pool.query('SELECT version, fingerprint FROM issues WHERE id = $1', [id]);
    assert.deepEqual(rows[0], { version: 4, fingerprint: (await handleOf(id).query<any>('projection')).fingerprint });
  });

  it('Reset before a document and a confirmation: the read model drops what only the discarded history made', async () => {
    const id = await checkedOut();
    assert.equal((await agent.http.post(`/api/issues/${id}/comments`, { body: 'the reset point' })).status, 201);
    const doc = await agent.http.request('PUT', `/api/issues/${id}/documents/plan`, { format: 'markdown', body: '# Plan' });
    assert.equal(doc.status, 201);
    const ask = await agent.http.post(`/api/issues/${id}/interactions`, { kind: 'request_confirmation', payload: { version: 1, prompt: 'OK?', target: { type: 'issue_document', key: 'plan', revisionId: doc.body.latestRevisionId } } });
    assert.equal(ask.status, 201);
    await resetBeforeFirstComment(id, { reapplyUpdates: false });
    await waitFor('the reset run', () => handleOf(id).query<any>('state'), (st) => st.version === 2);
    assert.equal((await agent.http.post(`/api/issues/${id}/heartbeat`, {})).status, 200);
    await waitFor('the confirmation gone', async () => (await agent.http.get(`/api/issues/${id}/interactions`)).body.length, (n) => n === 0);
    assert.deepEqual((await agent.http.get(`/api/issues/${id}/documents`)).body, []);
    assert.equal((await agent.http.get(`/api/issues/${id}/documents/plan/revisions`)).status, 404);
    // The task goes on: the plan can be written again from scratch.
    assert.equal((await agent.http.request('PUT', `/api/issues/${id}/documents/plan`, { format: 'markdown', body: '# Plan, again' })).status, 201);
  });
});
