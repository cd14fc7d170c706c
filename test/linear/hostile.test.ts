/**
 * Issue 14's hostile pass on Linear and CircleCI webhooks, what it found: a person's comment with text
 * Postgres cannot hold (or an emoji where the author's name is cut) was refused for good; an Issue
 * delivery without `team` skipped the team filter; one comment delivered through two Linear sources of
 * a company landed twice; an oversized CircleCI delivery was 400, not 413.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { stackWithAllFakes, wireLinear, type WiredLinear } from '../support/linear-delivery.js';
import { waitFor } from '../support/wait.js';

const env = stackWithAllFakes({ config: { temporalCallTimeoutMs: 30_000 } });
const PATIENCE = 60_000;

const sign = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');

async function deliver(sourceId: string, secret: string, body: string, event: 'Issue' | 'Comment'): Promise<{ status: number; body: any }> {
  const res = await fetch(`${env.stack.url}/api/providers/linear/webhooks/${sourceId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'linear-event': event, 'linear-delivery': randomUUID(), 'linear-signature': sign(secret, body) },
    body,
  });
  return { status: res.status, body: await res.json() };
}

const envelope = (type: 'Issue' | 'Comment', data: Record<string, unknown>) =>
  JSON.stringify({ action: 'create', type, createdAt: new Date().toISOString(), data, webhookId: randomUUID(), webhookTimestamp: Date.now(), organizationId: env.linear.fake.organization.id });

/** A Linear issue of the wired team, taken in by a delivery sent here: the task id. */
async function taken(w: WiredLinear, title: string): Promise<{ id: string; issueId: string }> {
  const issue = await env.linear.fake.createIssue({ teamKey: w.teamKey, title });
  const sent = await deliver(w.linearSourceId, w.secrets.linearWebhook, envelope('Issue', env.linear.fake.issueData(issue)), 'Issue');
  assert.equal(sent.status, 202, JSON.stringify(sent.body));
  const rows = await waitFor(`the claim of ${title}`, async () => (await env.stack.pool.query<{ issue_id: string }>('SELECT issue_id FROM source_items WHERE source_key = $1', [`${w.companyId}|linear:${issue.id}`])).rows, (r) => r.length === 1, PATIENCE);
  await waitFor(`the task row of ${title}`, async () => (await env.stack.pool.query('SELECT 1 FROM issues WHERE id = $1', [rows[0]!.issue_id])).rowCount, (n) => n === 1, PATIENCE);
  return { id: rows[0]!.issue_id, issueId: issue.id };
}

const comments = async (taskId: string): Promise<any[]> => (await env.stack.admin.get(`/api/issues/${taskId}/comments?order=asc`)).body as any[];

test('a person\'s comment with a NUL, a lone surrogate, or an emoji where the author\'s name is cut arrives (U+FFFD in place), never refused for good', async () => {
  const w = await wireLinear(env, { webhooks: false });
  const { id, issueId } = await taken(w, 'Hostile comment text');
  const name = `${'x'.repeat(99)}😀`;
  const cases = [
    { body: 'a\u0000b', user: 'Nul' },
    { body: '\ud800lone', user: 'Lone' },
    { body: 'a normal comment', user: name },
  ];
  for (const c of cases) {
    const sent = await deliver(w.linearSourceId, w.secrets.linearWebhook, envelope('Comment', { id: randomUUID(), body: c.body, createdAt: new Date().toISOString(), issueId, user: { id: randomUUID(), name: c.user } }), 'Comment');
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.equal(sent.body.recorded, true, JSON.stringify(sent.body));
  }
  const thread = await comments(id);
  assert.ok(thread.some((c) => c.body === 'a\uFFFDb'), 'the NUL replaced');
  assert.ok(thread.some((c) => c.body === '\uFFFDlone'), 'the lone surrogate replaced');
  const named = thread.find((c) => c.body === 'a normal comment');
  assert.ok(named, 'the comment with the long name is there');
  assert.equal(named.authorUser, `linear:${'x'.repeat(99)}😀`, 'the name cut on a character, never inside one');
  assert.equal(named.authorAgentId, null, 'a person, never an agent');
});

test('an Issue delivery without `team` is judged by its teamId: another team\'s issue is ignored, the source\'s own taken in', async () => {
  const w = await wireLinear(env, { webhooks: false });
  const ln = env.linear.fake;
  const other = ln.createTeam({ key: `O${randomBytes(2).toString('hex').toUpperCase()}`, name: 'Other team' });
  const otherIssue = await ln.createIssue({ teamKey: other.key, title: 'Another team\'s issue' });
  const data = { ...ln.issueData(otherIssue), team: undefined };
  const ignored = await deliver(w.linearSourceId, w.secrets.linearWebhook, envelope('Issue', data), 'Issue');
  assert.equal(ignored.status, 202, JSON.stringify(ignored.body));
  assert.equal(ignored.body.ignored, 'other_team', JSON.stringify(ignored.body));
  const claimed = await env.stack.pool.query('SELECT 1 FROM source_items WHERE source_key = $1', [`${w.companyId}|linear:${otherIssue.id}`]);
  assert.equal(claimed.rowCount, 0, 'nothing claimed');

  const ownIssue = await ln.createIssue({ teamKey: w.teamKey, title: 'Our issue, team left out' });
  const own = await deliver(w.linearSourceId, w.secrets.linearWebhook, envelope('Issue', { ...ln.issueData(ownIssue), team: undefined }), 'Issue');
  assert.equal(own.status, 202, JSON.stringify(own.body));
  assert.ok(own.body.intake?.issueId, `taken in: ${JSON.stringify(own.body)}`);
});

test('one comment delivered through two Linear sources of the company (org-wide webhooks) is one comment on the task', async () => {
  const w = await wireLinear(env, { webhooks: false });
  const ln = env.linear.fake;
  const second = ln.createTeam({ key: `S${randomBytes(2).toString('hex').toUpperCase()}`, name: 'Second team' });
  const secret = `lin_wh_${randomBytes(12).toString('hex')}`;
  const source = await env.stack.admin.post(`/api/companies/${w.companyId}/sources`, {
    provider: 'linear', teamKey: second.key, credential: { apiKey: w.secrets.linearKey }, apiUrl: env.linear.url, webhookSecret: secret, pollIntervalSeconds: null, repository: { owner: w.owner, repo: w.repo },
  });
  assert.equal(source.status, 201, JSON.stringify(source.body));
  const { id, issueId } = await taken(w, 'One comment, two hooks');
  const body = envelope('Comment', { id: randomUUID(), body: 'Said once.', createdAt: new Date().toISOString(), issueId, user: { id: randomUUID(), name: 'Carol' } });
  const first = await deliver(w.linearSourceId, w.secrets.linearWebhook, body, 'Comment');
  assert.equal(first.body.recorded, true, JSON.stringify(first.body));
  const again = await deliver(source.body.id, secret, body, 'Comment');
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal(again.body.ignored, 'duplicate_comment', JSON.stringify(again.body));
  assert.equal((await comments(id)).filter((c) => c.body === 'Said once.').length, 1);
});

test('an oversized CircleCI delivery is 413 payload_too_large, as Linear\'s is', async () => {
  const w = await wireLinear(env, { webhooks: false });
  const body = JSON.stringify({ type: 'workflow-completed', pad: 'x'.repeat(1_100_000) });
  const res = await fetch(`${env.stack.url}/api/providers/circleci/webhooks/${w.repositoryId}`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'circleci-signature': `v1=${sign(w.secrets.circleWebhook, body)}` }, body,
  });
  assert.equal(res.status, 413);
  assert.equal(((await res.json()) as any).code, 'payload_too_large');
});
