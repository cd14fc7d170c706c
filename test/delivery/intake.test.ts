/**
 * Intake without webhooks (the Schedule and POST /sync), one task per upstream issue whatever arrives
 * at once, label filters, upstream edits, close and reopen; webhooks that are forged or replayed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WebhookEmitter } from '../fakes/github/hooks.js';
import { assertHonest } from '../github/support.js';
import { stackWithFakeGitHub, waitForMine, waitForTask, wireGitHub } from '../support/delivery.js';
import { waitFor } from '../support/wait.js';

const env = stackWithFakeGitHub();

const count = async (sql: string, params: unknown[]) => Number((await env.stack.pool.query<{ n: string }>(sql, params)).rows[0]!.n);

test('a polled source is a Temporal Schedule; POST /sync takes issues in (pull requests and filtered labels left out)', async () => {
  const w = await wireGitHub(env.stack, env.fake, { webhooks: false, pollIntervalSeconds: 300 });
  const schedule = await env.stack.client.schedule.getHandle(`intake/${w.sourceId}`).describe();
  assert.equal(schedule.state.paused, false);
  assert.equal((schedule.action as { workflowType: string }).workflowType, 'intakeWorkflow');
  await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Crash on save', labels: ['bug'] });
  await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Docs typo', labels: ['docs'] });
  const patched = await env.stack.admin.patch(`/api/sources/${w.sourceId}`, { labels: { exclude: ['docs'] } });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  const sync = await env.stack.admin.post(`/api/sources/${w.sourceId}/sync`, {});
  assert.equal(sync.status, 200, JSON.stringify(sync.body));
  assert.equal(sync.body.found, 2);
  assert.equal(sync.body.filteredOut, 1);
  assert.equal(sync.body.admitted.length, 1);
  const task = await waitForMine(w.agent);
  assert.equal(task.title, 'Crash on save');

  // Pausing the source pauses its Schedule; the source shows no secret anywhere.
  const paused = await env.stack.admin.patch(`/api/sources/${w.sourceId}`, { paused: true });
  assert.equal(paused.body.paused, true);
  assert.equal((await env.stack.client.schedule.getHandle(`intake/${w.sourceId}`).describe()).state.paused, true);
  const listed = JSON.stringify((await env.stack.admin.get(`/api/companies/${w.companyId}/sources`)).body);
  assert.ok(!listed.includes(w.token) && !listed.includes(w.webhookSecret), 'no secret in any answer');
  const stored = JSON.stringify((await env.stack.pool.query('SELECT * FROM sources WHERE id = $1', [w.sourceId])).rows);
  assert.ok(!stored.includes(w.token), 'the token is sealed at rest');
  assert.equal((await w.agent.http.get(`/api/companies/${w.companyId}/sources`)).status, 403, 'agents see no sources');
  // Its open task still delivers through it: deleting it would strand the task (issue 13 §4).
  const inUse = await env.stack.admin.request('DELETE', `/api/sources/${w.sourceId}`);
  assert.equal(inUse.status, 409, JSON.stringify(inUse.body));
  assert.equal(inUse.body.code, 'source_in_use');
  assert.equal(inUse.body.details.openTasks, 1);
  assert.match(inUse.body.error, /pause it/);
  assert.equal((await env.stack.admin.get(`/api/sources/${w.sourceId}`)).status, 200, 'nothing changed');
  assert.equal((await env.stack.admin.patch(`/api/issues/${task.id}`, { status: 'cancelled' })).status, 200);
  const removed = await env.stack.admin.request('DELETE', `/api/sources/${w.sourceId}`);
  assert.equal(removed.status, 200);
  await assert.rejects(env.stack.client.schedule.getHandle(`intake/${w.sourceId}`).describe());
  assert.equal((await env.stack.admin.get(`/api/tasks/${task.id}`)).status, 200, 'tasks stay');
  // Reopened after its source is gone: the agent hears why it cannot deliver, not a bare 404 or an outage.
  assert.equal((await env.stack.admin.post(`/api/issues/${task.id}/comments`, { body: 'Reopening: one more thing.' })).status, 201);
  assert.equal((await env.stack.admin.get(`/api/issues/${task.id}`)).body.status, 'todo');
  const submit = await w.agent.http.post(`/api/tasks/${task.id}/submit`, { summary: 'again', pullRequest: { head: 'again' } }, { 'idempotency-key': 'after-delete' });
  assert.deepEqual([submit.status, submit.body.error?.code], [409, 'source_deleted'], JSON.stringify(submit.body));
  assert.equal((await env.stack.admin.patch(`/api/issues/${task.id}`, { status: 'cancelled' })).status, 200, 'an operator can still finish it');
});

test('one task per upstream issue: a webhook and two polls at once', async () => {
  const w = await wireGitHub(env.stack, env.fake, { pollIntervalSeconds: null });
  // The webhook delivery is in flight while both polls run.
  const opened = env.fake.fake.openIssue(w.owner, w.repo, { title: 'Race me', labels: ['bug'] });
  const syncs = await Promise.all([env.stack.admin.post(`/api/sources/${w.sourceId}/sync`, {}), env.stack.admin.post(`/api/sources/${w.sourceId}/sync`, {}), opened]);
  for (const s of syncs.slice(0, 2)) assert.equal((s as { status: number }).status, 200, JSON.stringify((s as { body: unknown }).body));
  await waitForMine(w.agent);
  await env.stack.admin.post(`/api/sources/${w.sourceId}/sync`, {});
  assert.equal(await count('SELECT count(*) AS n FROM issues WHERE company_id = $1', [w.companyId]), 1);
  assert.equal(await count('SELECT count(*) AS n FROM source_items WHERE company_id = $1', [w.companyId]), 1);
  const { rows } = await env.stack.pool.query<{ id: string }>('SELECT id FROM issues WHERE company_id = $1', [w.companyId]);
  let runs = 0;
  for await (const _ of env.stack.client.workflow.list({ query: `WorkflowId = "issue/${rows[0]!.id}"` })) runs++;
  assert.equal(runs, 1, 'one workflow');
});

test('upstream edits follow; closed before ship cancels (saying so); reopened is back to todo', async () => {
  const w = await wireGitHub(env.stack, env.fake);
  const issue = await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Old title', body: 'old', labels: ['bug'] });
  const { id } = await waitForMine(w.agent);
  await env.fake.fake.editIssue(w.owner, w.repo, issue.number, { title: 'New title', body: 'new body' });
  await waitForTask(w.agent, id, 'the edit', (d) => d.title === 'New title' && d.description === 'new body');
  await env.fake.fake.editIssue(w.owner, w.repo, issue.number, { state: 'closed' });
  await waitForTask(w.agent, id, 'cancelled', (d) => d.status === 'cancelled');
  const comments = (await env.stack.admin.get(`/api/issues/${id}/comments?order=asc`)).body;
  assert.ok(comments.some((c: any) => /closed before this task shipped/.test(c.body)));
  await env.fake.fake.editIssue(w.owner, w.repo, issue.number, { state: 'open' });
  await waitForTask(w.agent, id, 'back to todo', (d) => d.status === 'todo' && d.availableActions.includes('start'));
  assertHonest(env.fake);
});

test('forged, unsigned and replayed webhooks have no effect', async () => {
  const w = await wireGitHub(env.stack, env.fake, { webhooks: false });
  const url = `${env.stack.url}/api/providers/github/webhooks/${w.sourceId}`;
  const body = JSON.stringify({ action: 'opened', issue: { number: 99, title: 'forged', html_url: 'x', labels: [{ name: 'bug' }], state: 'open', updated_at: '2026-01-01T00:00:00Z' }, repository: { full_name: `${w.owner}/${w.repo}` } });
  const send = (signature: string | undefined, delivery: string) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': delivery, ...(signature ? { 'x-hub-signature-256': signature } : {}) }, body });
  const forged = await send(WebhookEmitter.sign('not-the-secret-at-all', body), 'd-1');
  assert.equal(forged.status, 401);
  assert.equal((await forged.json()).code, 'webhook_signature_invalid');
  assert.equal((await send(undefined, 'd-2')).status, 401);
  assert.equal(await count('SELECT count(*) AS n FROM webhook_deliveries WHERE source_id = $1', [w.sourceId]), 0, 'nothing recorded');

  // A genuine delivery, then the same delivery again: the second is 200 with no second effect.
  env.fake.fake.hooks.subscribe(url, w.webhookSecret);
  await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Genuine', labels: ['bug'] });
  const first = env.fake.fake.hooks.deliveries.at(-1)!;
  assert.equal(first.status, 202);
  await waitForMine(w.agent);
  const replay = JSON.stringify(first.payload);
  const again = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': first.id, 'x-hub-signature-256': WebhookEmitter.sign(w.webhookSecret, replay) }, body: replay });
  assert.equal(again.status, 200);
  assert.equal((await again.json()).duplicate, true);
  await waitFor('deliveries recorded', () => count('SELECT count(*) AS n FROM webhook_deliveries WHERE source_id = $1', [w.sourceId]), (n) => n === 1);
  assert.equal(await count('SELECT count(*) AS n FROM issues WHERE company_id = $1', [w.companyId]), 1);
});

test('an issue already closed when first seen is no work: no task by poll or webhook; a task taken in follows its issue whatever the filters say', async () => {
  const w = await wireGitHub(env.stack, env.fake, { webhooks: false, pollIntervalSeconds: null, rules: [] });
  const gh = env.fake.fake;
  const closed = await gh.openIssue(w.owner, w.repo, { title: 'Closed long ago', labels: ['bug'] });
  await gh.editIssue(w.owner, w.repo, closed.number, { state: 'closed' });
  const open = await gh.openIssue(w.owner, w.repo, { title: 'Still open', labels: ['bug'] });
  const sync = await env.stack.admin.post(`/api/sources/${w.sourceId}/sync`, {});
  assert.equal(sync.status, 200, JSON.stringify(sync.body));
  assert.equal(sync.body.found, 2);
  assert.equal(sync.body.admitted.length, 1, 'the poll takes in the open one only');
  await waitFor('the open issue\'s task', () => count('SELECT count(*) AS n FROM issues WHERE company_id = $1', [w.companyId]), (n) => n === 1);

  // A webhook about the closed one (edited while closed) takes nothing in either.
  gh.hooks.subscribe(`${env.stack.url}/api/providers/github/webhooks/${w.sourceId}`, w.webhookSecret);
  await gh.editIssue(w.owner, w.repo, closed.number, { title: 'Closed long ago (edited)' });
  await waitFor('the delivery recorded', () => count('SELECT count(*) AS n FROM webhook_deliveries WHERE source_id = $1', [w.sourceId]), (n) => n >= 1);
  assert.equal(await count('SELECT count(*) AS n FROM issues WHERE company_id = $1', [w.companyId]), 1, 'no task for the closed issue');
  assert.equal(await count('SELECT count(*) AS n FROM source_items WHERE source_id = $1', [w.sourceId]), 1, 'nothing claimed for it');

  // The open one's task follows its issue after it leaves the label filter and closes, by poll alone.
  await env.stack.admin.patch(`/api/sources/${w.sourceId}`, { labels: { include: ['feature'], exclude: ['bug'] }, webhookSecret: null });
  await gh.editIssue(w.owner, w.repo, open.number, { state: 'closed' });
  const again = await env.stack.admin.post(`/api/sources/${w.sourceId}/sync`, {});
  assert.equal(again.status, 200, JSON.stringify(again.body));
  const [task] = (await env.stack.admin.get(`/api/companies/${w.companyId}/issues`)).body;
  await waitFor('the task cancelled by its closed issue', async () => (await env.stack.admin.get(`/api/issues/${task.id}`)).body.status, (s) => s === 'cancelled');
  assertHonest(env.fake);
});

test('a sync that outlasts its request answers 202 running, and the poll goes on in Temporal (never a 503 that invites a second poll)', async () => {
  const w = await wireGitHub(env.stack, env.fake, { webhooks: false, pollIntervalSeconds: 300 });
  await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Slow poll', labels: ['bug'] });
  // No worker: the poll cannot finish within the request's deadline.
  await env.stack.stopWorker();
  try {
    const sync = await env.stack.admin.post(`/api/sources/${w.sourceId}/sync`, {});
    assert.equal(sync.status, 202, JSON.stringify(sync.body));
    assert.equal(sync.body.status, 'running');
    assert.match(sync.body.workflowId, new RegExp(`^intake-sync/${w.sourceId}/`));
  } finally {
    await env.stack.startWorker();
  }
  const task = await waitForMine(w.agent, 60_000);
  assert.equal(task.title, 'Slow poll');
});
