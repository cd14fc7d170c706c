/**
 * Issue 14 §2 and §6, the hostile pass on Linear's webhook route `POST /api/providers/linear/webhooks/{sourceId}`
 * (deliveries signed here with node:crypto, as Linear signs them: hex HMAC-SHA256 of the raw body in
 * `Linear-Signature`, `webhookTimestamp` in the body): forged, unsigned, stale and future deliveries refused
 * with nothing recorded (the delivery id not burned), replays answered `duplicate`, concurrent first
 * deliveries ending in one task, oversized and unreadable bodies, another team's issues, the source's
 * filters, edits followed and late events ignored; then poll-driven intake with a real cursor, a person's
 * comment delivered twice, and a Linear outage while polling.
 */
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { FakeComment, FakeIssue } from '../fakes/linear/model.js';
import { waitForTask } from '../support/delivery.js';
import { stackWithAllFakes, until, wireLinear, type WiredLinear } from '../support/linear-delivery.js';
import { waitFor } from '../support/wait.js';
import { assertHonest } from './support.js';

// One sync admits 60 issues in a single request (each claimed and started in Temporal while their
// tasks route and write back): on a loaded 2-core machine that can outlast the default 10 s deadline.
const env = stackWithAllFakes({ config: { temporalCallTimeoutMs: 30_000 } });

/** Intake, routing and write-back on a loaded 2-core machine. */
const PATIENCE = 60_000;

const sign = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');

interface Sent {
  status: number;
  body: any;
}

/** One delivery to the source's webhook route, signed with its secret unless told otherwise (null: no signature). */
async function deliver(w: WiredLinear, body: string, opts: { event?: 'Issue' | 'Comment'; deliveryId?: string; signature?: string | null } = {}): Promise<Sent> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Linear-Webhook', 'linear-event': opts.event ?? 'Issue', 'linear-delivery': opts.deliveryId ?? randomUUID() };
  if (opts.signature !== null) headers['linear-signature'] = opts.signature ?? sign(w.secrets.linearWebhook, body);
  const res = await fetch(`${env.stack.url}/api/providers/linear/webhooks/${w.linearSourceId}`, { method: 'POST', headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // leave as text
  }
  return { status: res.status, body: parsed };
}

/** An Issue delivery's body as Linear sends it (the fake's own payload for the issue), at `at` (webhookTimestamp), data overridden. */
function issueBody(issue: FakeIssue, action: 'create' | 'update', opts: { at?: number; data?: Record<string, unknown> } = {}): string {
  const ln = env.linear.fake;
  const at = opts.at ?? Date.now();
  return JSON.stringify({
    action, type: 'Issue', createdAt: new Date(at).toISOString(), organizationId: ln.organization.id, url: ln.url(issue),
    data: { ...ln.issueData(issue), ...(opts.data ?? {}) }, webhookId: randomUUID(), webhookTimestamp: at,
  });
}

const keyOf = (w: WiredLinear, issue: FakeIssue) => `${w.companyId}|linear:${issue.id}`;

async function claims(w: WiredLinear, issue: FakeIssue): Promise<string[]> {
  const { rows } = await env.stack.pool.query<{ issue_id: string }>('SELECT issue_id FROM source_items WHERE source_key = $1', [keyOf(w, issue)]);
  return rows.map((r) => r.issue_id);
}

async function recorded(w: WiredLinear, deliveryId: string): Promise<number> {
  const { rows } = await env.stack.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_deliveries WHERE source_id = $1 AND delivery_id = $2', [w.linearSourceId, deliveryId]);
  return rows[0]!.n;
}

async function tasksFor(issue: FakeIssue): Promise<number> {
  const { rows } = await env.stack.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM issues WHERE lifecycle->'source'->>'key' = $1`, [`linear:${issue.id}`]);
  return rows[0]!.n;
}

/** The task an issue became, once it is in the read model. */
async function taskOf(w: WiredLinear, issue: FakeIssue): Promise<string> {
  const [id] = await waitFor(`the claim of ${issue.title}`, () => claims(w, issue), (r) => r.length === 1, PATIENCE);
  await waitFor(`the task row of ${issue.title}`, async () => (await env.stack.pool.query('SELECT 1 FROM issues WHERE id = $1', [id])).rowCount, (n) => n === 1, PATIENCE);
  return id!;
}

async function row(id: string): Promise<{ title: string; description: string | null; priority: string | null; status: string; labels: string[]; updatedAt: string }> {
  const { rows } = await env.stack.pool.query(`SELECT title, description, priority, status, lifecycle->'source'->'labels' AS labels, lifecycle->'source'->>'updatedAt' AS "updatedAt" FROM issues WHERE id = $1`, [id]);
  return rows[0];
}

async function upstreamChanges(id: string): Promise<Array<{ fields: string[]; to: string }>> {
  const { rows } = await env.stack.pool.query<{ details: any }>(`SELECT details FROM activity_log WHERE issue_id = $1 AND action = 'task.upstream_changed' ORDER BY seq`, [id]);
  return rows.map((r) => r.details);
}

test('forged, unsigned, stale (61 s) and future (61 s) deliveries are 401 with nothing recorded; the same delivery id signed correctly is then taken; a replay of it is 200 duplicate with no second effect', async () => {
  const w = await wireLinear(env, { webhooks: false });
  const issue = await env.linear.fake.createIssue({ teamKey: w.teamKey, title: 'Signed or nothing', description: 'As filed.' });
  const deliveryId = randomUUID();
  const fresh = issueBody(issue, 'create');

  const refusals: Array<[string, Promise<Sent>]> = [
    ['forged', deliver(w, fresh, { deliveryId, signature: sign('not-the-secret', fresh) })],
    ['tampered', deliver(w, fresh.replace('Signed or nothing', 'Signed or n0thing'), { deliveryId, signature: sign(w.secrets.linearWebhook, fresh) })],
    ['unsigned', deliver(w, fresh, { deliveryId, signature: null })],
    ['empty signature', deliver(w, fresh, { deliveryId, signature: '' })],
    ['stale', deliver(w, issueBody(issue, 'create', { at: Date.now() - 61_000 }), { deliveryId })],
    ['future', deliver(w, issueBody(issue, 'create', { at: Date.now() + 61_000 }), { deliveryId })],
  ];
  for (const [what, pending] of refusals) {
    const res = await pending;
    assert.equal(res.status, 401, `${what}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.code, 'webhook_signature_invalid', what);
  }
  const reasons = (await Promise.all([
    deliver(w, issueBody(issue, 'create', { at: Date.now() - 61_000 }), { deliveryId }),
    deliver(w, issueBody(issue, 'create', { at: Date.now() + 61_000 }), { deliveryId }),
  ])).map((r) => r.body.details?.reason);
  assert.deepEqual(reasons, ['timestamp_stale', 'timestamp_future']);
  assert.equal(await recorded(w, deliveryId), 0, 'no delivery recorded');
  assert.deepEqual(await claims(w, issue), [], 'no claim');
  assert.equal(await tasksFor(issue), 0, 'no task');

  // The id was not burned by the refusals: signed correctly, it is taken.
  const taken = await deliver(w, issueBody(issue, 'create'), { deliveryId });
  assert.equal(taken.status, 202, JSON.stringify(taken.body));
  assert.equal(taken.body.deliveryId, deliveryId);
  assert.equal(taken.body.intake?.created, true, JSON.stringify(taken.body));
  assert.equal(await recorded(w, deliveryId), 1);
  const id = await taskOf(w, issue);

  // Replayed (the same Linear-Delivery, a fresh timestamp and a valid signature, other content): 200 duplicate, nothing applied.
  const replay = await deliver(w, issueBody(issue, 'update', { data: { title: 'Replayed title', updatedAt: new Date(Date.now() + 1000).toISOString() } }), { deliveryId });
  assert.equal(replay.status, 200, JSON.stringify(replay.body));
  assert.deepEqual(replay.body, { deliveryId, duplicate: true });
  // A marker change afterwards, by a new delivery: once it is on the task, the replay (sent before it) would have been too.
  const marked = await deliver(w, issueBody(issue, 'update', { data: { description: 'Marker.', updatedAt: new Date(Date.now() + 2000).toISOString() } }));
  assert.equal(marked.status, 202, JSON.stringify(marked.body));
  await waitFor('the marker on the task', () => row(id), (r) => r.description === 'Marker.', PATIENCE);
  assert.equal((await row(id)).title, 'Signed or nothing');
  assert.deepEqual((await upstreamChanges(id)).map((c) => c.fields), [['description']], 'one upstream change (the marker), none from the replay');
  assert.equal(await recorded(w, deliveryId), 1);
  assert.deepEqual(await claims(w, issue), [id]);
  assertHonest(env.linear);
});

test('20 concurrent first deliveries of one new issue (distinct delivery ids): exactly one task', async () => {
  const w = await wireLinear(env, { webhooks: false });
  const issue = await env.linear.fake.createIssue({ teamKey: w.teamKey, title: 'Delivered twenty times', priority: 2 });
  const ids = Array.from({ length: 20 }, () => randomUUID());
  const answers = await Promise.all(ids.map((deliveryId) => deliver(w, issueBody(issue, 'create'), { deliveryId })));
  for (const a of answers) assert.equal(a.status, 202, JSON.stringify(a.body));
  const created = answers.filter((a) => a.body.intake?.created === true);
  assert.equal(created.length, 1, 'one delivery created the task, the others found it');
  const issueIds = new Set(answers.map((a) => a.body.intake?.issueId));
  assert.equal(issueIds.size, 1, 'every delivery names the same task');
  const { rows } = await env.stack.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_deliveries WHERE source_id = $1 AND delivery_id = ANY($2)', [w.linearSourceId, ids]);
  assert.equal(rows[0]!.n, 20, 'each delivery recorded once');
  const id = await taskOf(w, issue);
  assert.deepEqual([...issueIds], [id]);
  assert.deepEqual(await claims(w, issue), [id], 'one claim');
  await waitForTask(w.agent, id, 'the task routed', (d) => d.assigneeAgentId === w.agent.id, PATIENCE);
  assert.equal(await tasksFor(issue), 1, 'one task row');
  const mine = (await w.agent.http.get('/api/tasks/mine')).body.data as any[];
  assert.equal(mine.filter((t) => t.title === 'Delivered twenty times').length, 1, 'one task in the agent\'s queue');
  await until(() => env.linear.fake.comments(issue.id).filter((c) => c.body.includes('assigned this issue to agent')).length === 1, 'one assignment write-back', PATIENCE);
  assertHonest(env.linear);
});

test('an oversized body (> 1 MB) is 413 and invalid JSON correctly signed is 400, nothing recorded; another team\'s issue is ignored (202, no task)', async () => {
  const w = await wireLinear(env, { webhooks: false });
  const ln = env.linear.fake;
  const issue = await ln.createIssue({ teamKey: w.teamKey, title: 'Big or broken' });

  const bigId = randomUUID();
  const big = issueBody(issue, 'create', { data: { description: 'x'.repeat(1_100_000) } });
  const tooBig = await deliver(w, big, { deliveryId: bigId });
  assert.equal(tooBig.status, 413, JSON.stringify(tooBig.body).slice(0, 300));
  assert.equal(await recorded(w, bigId), 0);

  const brokenId = randomUUID();
  const broken = '{"action":"create","type":"Issue",';
  const unreadable = await deliver(w, broken, { deliveryId: brokenId });
  assert.equal(unreadable.status, 400, JSON.stringify(unreadable.body));
  assert.equal(unreadable.body.code, 'invalid_json');
  assert.equal(await recorded(w, brokenId), 0);
  const notLinear = await deliver(w, JSON.stringify({ hello: 'world', webhookTimestamp: Date.now() }));
  assert.equal(notLinear.status, 400, JSON.stringify(notLinear.body));
  assert.deepEqual(await claims(w, issue), []);

  // Another team's issue, signed with this source's secret (a workspace-wide webhook): not this source's.
  const other = ln.createTeam({ key: `X${w.teamKey.slice(1)}`, name: 'Another team' });
  const theirs = await ln.createIssue({ teamKey: other.key, title: 'Not ours' });
  const ignoredId = randomUUID();
  const ignored = await deliver(w, issueBody(theirs, 'create'), { deliveryId: ignoredId });
  assert.equal(ignored.status, 202, JSON.stringify(ignored.body));
  assert.equal(ignored.body.ignored, 'other_team');
  assert.deepEqual(await claims(w, theirs), []);
  assert.equal(await tasksFor(theirs), 0);
  // The oversized issue itself, in a normal size, is still taken (nothing about it was burned).
  const ok = await deliver(w, issueBody(issue, 'create'), { deliveryId: bigId });
  assert.equal(ok.status, 202, JSON.stringify(ok.body));
  assert.equal(ok.body.intake?.created, true);
  assertHonest(env.linear);
});

test('the source\'s state and label filters: new issues outside them are ignored, one inside is taken, and an issue already taken in still follows its upstream (moved to Canceled by a person → the task is cancelled)', async () => {
  const w = await wireLinear(env);
  const ln = env.linear.fake;
  const first = await ln.createIssue({ teamKey: w.teamKey, title: 'Taken before the filter' });
  const firstId = await taskOf(w, first);
  await waitForTask(w.agent, firstId, 'the first task routed', (d) => d.assigneeAgentId === w.agent.id, PATIENCE);

  const patched = await env.stack.admin.patch(`/api/sources/${w.linearSourceId}`, { states: ['In Progress'], labels: { include: ['agent'] } });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));

  // The fake delivers each change before it returns: the answer is in by then.
  const wrongState = await ln.createIssue({ teamKey: w.teamKey, title: 'Todo, labelled', labels: ['agent'] });
  const noLabel = await ln.createIssue({ teamKey: w.teamKey, title: 'In progress, unlabelled', stateName: 'In Progress' });
  const inside = await ln.createIssue({ teamKey: w.teamKey, title: 'In progress, labelled', stateName: 'In Progress', labels: ['agent'] });
  for (const i of [wrongState, noLabel, inside]) {
    const d = ln.hooks.deliveries.find((x) => x.event === 'Issue' && x.action === 'create' && x.body.includes(i.id));
    assert.equal(d?.status, 202, `${i.title} was answered`);
  }
  const insideId = await taskOf(w, inside);
  // Linear's own redelivery of a delivery already taken (byte for byte, same Linear-Delivery): a duplicate.
  const insideDelivery = ln.hooks.deliveries.find((x) => x.event === 'Issue' && x.action === 'create' && x.body.includes(inside.id))!;
  assert.equal(await ln.redeliver(insideDelivery.id), 200);
  assert.deepEqual(await claims(w, inside), [insideId]);
  assert.deepEqual(await claims(w, wrongState), [], 'outside the state filter');
  assert.deepEqual(await claims(w, noLabel), [], 'outside the label filter');

  // Already taken in: it follows Linear whatever the filters say.
  await ln.updateIssue(first.id, { stateName: 'Backlog', title: 'Renamed while filtered' });
  await waitFor('the rename on the task', () => row(firstId), (r) => r.title === 'Renamed while filtered', PATIENCE);
  await ln.updateIssue(first.id, { stateName: 'Canceled' });
  await waitForTask(w.agent, firstId, 'the task cancelled', (d) => d.status === 'cancelled', PATIENCE);
  const comments = (await env.stack.admin.get(`/api/issues/${firstId}/comments?order=asc`)).body as any[];
  assert.ok(comments.some((c) => /was closed before this task shipped/.test(c.body)), 'cancelled by the upstream-close rule');
  assertHonest(env.linear);
});

test('edits in Linear (title, description, priority, labels) reach the task; an older event arriving late changes nothing', async () => {
  const w = await wireLinear(env);
  const ln = env.linear.fake;
  const issue = await ln.createIssue({ teamKey: w.teamKey, title: 'Before the edit', description: 'Old body.', priority: 3, labels: ['bug'] });
  const id = await taskOf(w, issue);
  const before = await waitFor('the task as filed', () => row(id), (r) => r?.priority === 'medium', PATIENCE);
  assert.deepEqual([before.title, before.description, before.labels], ['Before the edit', 'Old body.', ['bug']]);
  const filedAt = issue.updatedAt;

  await ln.updateIssue(issue.id, { title: 'After the edit', description: 'New body.', priority: 1, labels: ['bug', 'customer'] });
  const after = await waitFor('the edit on the task', () => row(id), (r) => r.title === 'After the edit' && r.description === 'New body.' && r.priority === 'critical' && r.labels.length === 2, PATIENCE);
  assert.deepEqual(after.labels, ['bug', 'customer']);
  const detail = (await w.agent.http.get(`/api/tasks/${id}`)).body.data;
  assert.equal(detail.priority, 'critical', 'Linear priority 1 is critical');
  const editedAt = ln.issue(issue.id)!.updatedAt;

  // An event from before the edit, delivered late (a fresh delivery, signed): older than what the task holds.
  const late = await deliver(w, issueBody(issue, 'update', { data: { title: 'Late and stale', description: 'Stale body.', priority: 4, labels: [], updatedAt: filedAt } }));
  assert.equal(late.status, 202, JSON.stringify(late.body));
  // Then a real change: once it is on the task, the late event (sent first, to the same workflow) has been seen.
  await ln.updateIssue(issue.id, { description: 'Newest body.' });
  await waitFor('the newest change', () => row(id), (r) => r.description === 'Newest body.', PATIENCE);
  const now = await row(id);
  assert.deepEqual([now.title, now.priority, now.labels], ['After the edit', 'critical', ['bug', 'customer']], 'the late event changed nothing');
  const changes = await upstreamChanges(id);
  assert.equal(changes.length, 2, `the edit and the newest change, nothing from the late event: ${JSON.stringify(changes)}`);
  assert.deepEqual(changes[1]!.fields, ['description']);
  assert.ok(Date.parse(now.updatedAt) > Date.parse(editedAt), 'the task holds the newest upstream instant');
  assertHonest(env.linear);
});

test('poll-driven intake without webhooks: 60 issues across pages taken in once; the next poll asks with an updatedAt cursor and takes nothing; a changed issue is the only one read', async () => {
  const w = await wireLinear(env, { webhooks: false });
  const ln = env.linear.fake;
  const issues: FakeIssue[] = [];
  for (let i = 1; i <= 60; i++) issues.push(await ln.createIssue({ teamKey: w.teamKey, title: `Polled issue ${i}` }));
  const polls = () => ln.requests.filter((r) => r.apiKey === w.secrets.linearKey && r.operationName === 'SwitchyardLinearIssues');

  const sync = () => env.stack.admin.post(`/api/sources/${w.linearSourceId}/sync`, {});
  const first = await sync();
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body.found, 60);
  const keys = new Set<string>(first.body.admitted.map((a: any) => a.key));
  assert.deepEqual([...keys].sort(), issues.map((i) => `linear:${i.id}`).sort(), 'every issue taken in');
  assert.ok(first.body.admitted.every((a: any) => a.created === true), 'each one new');
  const firstPolls = polls();
  assert.ok(firstPolls.length >= 2, `more than one page (${firstPolls.length})`);
  assert.equal((firstPolls[0]!.variables.filter as any)?.updatedAt, undefined, 'the first poll has no cursor');
  assert.ok(firstPolls.slice(1).every((r) => typeof r.variables.after === 'string'), 'later pages by Relay cursor');
  const { rows } = await env.stack.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM source_items WHERE source_id = $1', [w.linearSourceId]);
  assert.equal(rows[0]!.n, 60);
  const source = (await env.stack.admin.get(`/api/sources/${w.linearSourceId}`)).body;
  assert.equal(source.lastPollError, null);

  const seen = polls().length;
  const second = await sync();
  assert.equal(second.status, 200, JSON.stringify(second.body));
  assert.equal(second.body.found, 0);
  assert.deepEqual(second.body.admitted, []);
  const secondPolls = polls().slice(seen);
  assert.ok(secondPolls.length >= 1);
  for (const r of secondPolls) assert.equal(typeof (r.variables.filter as any)?.updatedAt?.gte, 'string', `a real cursor: ${JSON.stringify(r.variables)}`);

  const changed = issues[17]!;
  await ln.updateIssue(changed.id, { title: 'Polled issue 18, edited' });
  const third = await sync();
  assert.equal(third.status, 200, JSON.stringify(third.body));
  assert.equal(third.body.found, 1, 'only the changed issue is read');
  assert.deepEqual(third.body.admitted.map((a: any) => [a.key, a.created]), [[`linear:${changed.id}`, false]]);
  const id = await taskOf(w, changed);
  await waitFor('the edit on the task', () => row(id), (r) => r.title === 'Polled issue 18, edited', PATIENCE);
  const { rows: after } = await env.stack.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM source_items WHERE source_id = $1', [w.linearSourceId]);
  assert.equal(after[0]!.n, 60, 'still one task per issue');
  assertHonest(env.linear);
});

test('a person\'s comment arrives on the task once, even delivered twice under different delivery ids', async () => {
  const w = await wireLinear(env);
  const ln = env.linear.fake;
  const issue = await ln.createIssue({ teamKey: w.teamKey, title: 'Commented twice' });
  const id = await taskOf(w, issue);
  await waitForTask(w.agent, id, 'routed', (d) => d.assigneeAgentId === w.agent.id, PATIENCE);

  const text = 'Please also handle the empty cart.';
  const comment: FakeComment = await ln.addComment(issue.id, { body: text, userName: 'Pat Person' });
  const delivery = ln.hooks.deliveries.find((d) => d.event === 'Comment' && d.body.includes(comment.id));
  assert.equal(delivery?.status, 200, 'the first delivery was taken');
  await waitFor('the comment on the task', async () => (await env.stack.admin.get(`/api/issues/${id}/comments?order=asc`)).body as any[], (c) => c.some((x) => x.body === text), PATIENCE);
  const commentWakes = async () => ((await w.agent.http.get('/api/agents/me/wakeups')).body.data as any[]).filter((x) => x.reason === 'issue_commented' && x.taskId === id);
  await waitFor('the assignee woken by the comment', commentWakes, (list) => list.length === 1, PATIENCE);

  // Linear sends it again under a new delivery id (same body and signature, within the window).
  const again = await deliver(w, delivery!.body, { event: 'Comment', deliveryId: randomUUID(), signature: delivery!.headers['linear-signature']! });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal(again.body.ignored, 'duplicate_comment');
  assert.equal(again.body.commentId, comment.id);
  // And once more by hand, re-signed with a fresh timestamp: still the same comment id.
  const rebuilt = JSON.parse(delivery!.body);
  rebuilt.webhookTimestamp = Date.now();
  const third = await deliver(w, JSON.stringify(rebuilt), { event: 'Comment' });
  assert.equal(third.body.ignored, 'duplicate_comment', JSON.stringify(third.body));

  const comments = (await env.stack.admin.get(`/api/issues/${id}/comments?order=asc`)).body as any[];
  assert.equal(comments.filter((c) => c.body === text).length, 1, 'one comment on the task');
  assert.equal((await commentWakes()).length, 1, 'woken once for it');
  assertHonest(env.linear);
});

test('a Linear outage while polling: the sync answers 503 provider_unavailable and the source\'s lastPollError says so; the next sync after recovery takes the issues', async () => {
  const w = await wireLinear(env, { webhooks: false });
  const ln = env.linear.fake;
  const a = await ln.createIssue({ teamKey: w.teamKey, title: 'During the outage A' });
  const b = await ln.createIssue({ teamKey: w.teamKey, title: 'During the outage B' });
  ln.inject({ kind: 'server', times: 100, apiKey: w.secrets.linearKey });
  try {
    const down = await env.stack.admin.post(`/api/sources/${w.linearSourceId}/sync`, {});
    assert.equal(down.status, 503, JSON.stringify(down.body));
    assert.equal(down.body.code, 'provider_unavailable');
    assert.ok(down.headers.get('retry-after'));
    // Every attempt of the poll failed (three; past the deadline they go on): only then is Linear back.
    const failed = () => ln.requests.filter((r) => r.apiKey === w.secrets.linearKey && r.operationName === 'SwitchyardLinearIssues' && r.outcome === 'injected:server').length;
    await until(() => failed() >= 3, 'the poll\'s three attempts', PATIENCE);
    const source = await waitFor('the poll error on the source', async () => (await env.stack.admin.get(`/api/sources/${w.linearSourceId}`)).body, (s: any) => typeof s.lastPollError === 'string', PATIENCE);
    assert.match(source.lastPollError, /Internal server error/i);
    assert.equal(source.cursor ?? null, null, 'no cursor moved');
  } finally {
    ln.injected.splice(0, ln.injected.length);
  }
  assert.deepEqual([await claims(w, a), await claims(w, b)], [[], []]);

  const up = await waitFor('a sync after recovery', () => env.stack.admin.post(`/api/sources/${w.linearSourceId}/sync`, {}), (r) => r.status === 200, PATIENCE);
  assert.deepEqual(up.body.admitted.map((x: any) => x.key).sort(), [`linear:${a.id}`, `linear:${b.id}`].sort());
  const source = (await env.stack.admin.get(`/api/sources/${w.linearSourceId}`)).body;
  assert.equal(source.lastPollError, null, 'the error is cleared once a poll succeeds');
  assertHonest(env.linear);
});
