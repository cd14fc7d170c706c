/** Issue 14 §2/§5: Linear at the provider layer (LinearIntake, the route functions, webhooks) against the fake. */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { createComment, fetchIssue, LinearIntake, LinearWebhookError, linearClient, moveToState, parseLinearWebhook, rateLimitedUntil, teamByKey, verifyLinearWebhook, withLinear } from '../../activities/linear/index.js';
import { ProviderRefusal, type Candidate } from '../../activities/providers/ports.js';
import type { RunningFakeLinear } from '../fakes/linear/server.js';
import { assertHonest, fakeLinear, newKey } from './support.js';

describe('Linear provider layer against the fake', () => {
  let linear: RunningFakeLinear;
  let n = 0;
  /** A team of its own per test, and a key of its own (its own rate-limit gate). */
  const setup = (opts: { pageSize?: number; maxPages?: number; states?: string[] } = {}) => {
    const teamKey = `T${++n}`;
    linear.fake.createTeam({ key: teamKey, name: `Team ${n}` });
    const apiKey = newKey(linear);
    const intake = new LinearIntake({ apiKey, apiUrl: linear.url, teamKey, ...opts });
    return { teamKey, apiKey, intake, client: intake.client, requests: () => linear.fake.requests.filter((r) => r.apiKey === apiKey) };
  };
  /** Polls until the cursor stops moving; every candidate delivered, in order. */
  const drain = async (intake: LinearIntake, cursor: string | null) => {
    const out: Candidate[] = [];
    for (let i = 0; i < 50; i++) {
      const r = await intake.listChangedSince(cursor);
      out.push(...r.candidates);
      if (r.cursor === cursor) return { candidates: out, cursor };
      cursor = r.cursor;
    }
    throw new Error('the cursor never settled');
  };
  const tick = () => new Promise((r) => setTimeout(r, 3));

  before(async () => {
    linear = await fakeLinear();
  });
  afterEach(() => assertHonest(linear));
  after(() => linear.close());

  it('lists every page of the team, one request per page, mapped to candidates', async () => {
    const { teamKey, intake, requests } = setup({ pageSize: 50 });
    for (let i = 1; i <= 120; i++) await linear.fake.createIssue({ teamKey, title: `Issue ${i}`, description: i === 7 ? 'Seven' : undefined, priority: i === 7 ? 1 : 0, labels: i === 7 ? ['bug', 'Backend'] : [] });
    await linear.fake.createIssue({ teamKey: (setup().teamKey), title: 'Another team' });
    const { candidates, cursor } = await intake.listChangedSince(null);
    assert.equal(requests().length, 3, 'three pages of 50, no per-issue requests');
    assert.equal(candidates.length, 120);
    assert.ok(candidates.every((c) => c.title.startsWith('Issue ')), 'only this team');
    assert.ok(cursor);
    const issue = linear.fake.issue(`${teamKey}-7`)!;
    const seventh = candidates.find((c) => c.number === 7)!;
    const state = linear.fake.states.get(issue.stateId)!;
    assert.deepEqual(seventh, {
      key: `linear:${issue.id}`, number: 7, identifier: `${teamKey}-7`, title: 'Issue 7', body: 'Seven', labels: ['Backend', 'bug'], state: 'open',
      workflowState: { id: state.id, name: 'Todo', type: 'unstarted' }, priority: 1, url: linear.fake.url(issue), updatedAt: issue.updatedAt,
    });
    assert.equal(candidates.find((c) => c.number === 8)!.body, null);
    const again = await intake.listChangedSince(cursor);
    assert.deepEqual(again.candidates, [], 'nothing changed since');
  });

  it('the cursor returns only what changed since; two issues with one updatedAt across calls: none lost, none repeated', async () => {
    const { teamKey, intake } = setup();
    const a = await linear.fake.createIssue({ teamKey, title: 'A' });
    let { cursor } = await intake.listChangedSince(null);
    await tick();
    await linear.fake.updateIssue(a.id, { stateName: 'Done' });
    const changed = await intake.listChangedSince(cursor);
    assert.deepEqual(changed.candidates.map((c) => [c.title, c.state, c.workflowState?.name]), [['A', 'closed', 'Done']]);
    cursor = changed.cursor;

    await tick();
    const frozen = Date.now();
    linear.fake.clock = () => frozen;
    try {
      await linear.fake.createIssue({ teamKey, title: 'B' });
      const first = await intake.listChangedSince(cursor);
      assert.deepEqual(first.candidates.map((c) => c.title), ['B']);
      await linear.fake.createIssue({ teamKey, title: 'C' });
      const second = await intake.listChangedSince(first.cursor);
      assert.deepEqual(second.candidates.map((c) => c.title), ['C'], 'C shares B\'s instant: delivered once, B not again');
      assert.equal(second.candidates[0]!.updatedAt, new Date(frozen).toISOString());
      const third = await intake.listChangedSince(second.cursor);
      assert.deepEqual(third.candidates, []);
      cursor = third.cursor;
    } finally {
      linear.fake.clock = Date.now;
    }
    await tick();
    await linear.fake.updateIssue(`${teamKey}-2`, { title: 'B edited' });
    assert.deepEqual((await intake.listChangedSince(cursor)).candidates.map((c) => c.title), ['B edited']);
  });

  it('a pass cut short by the page bound resumes from the cursor: every change once, edits in between included', async () => {
    const { teamKey, intake, requests } = setup({ pageSize: 4, maxPages: 2 });
    const frozen = Date.now() - 10_000;
    linear.fake.clock = () => frozen;
    for (let i = 1; i <= 6; i++) await linear.fake.createIssue({ teamKey, title: `Tied ${i}` });
    linear.fake.clock = Date.now;
    for (let i = 7; i <= 21; i++) {
      await linear.fake.createIssue({ teamKey, title: `Spread ${i}` });
      if (i % 5 === 0) await tick();
    }
    const first = await intake.listChangedSince(null);
    assert.equal(first.candidates.length, 8, 'two pages of four');
    assert.equal(requests().length, 2);
    assert.ok(first.candidates.some((c) => c.title === 'Spread 21'), 'newest first');
    await tick();
    await linear.fake.updateIssue(`${teamKey}-1`, { title: 'Tied 1 edited' });
    await linear.fake.updateIssue(`${teamKey}-21`, { title: 'Spread 21 edited' });
    const rest = await drain(intake, first.cursor);
    const titles = [...first.candidates, ...rest.candidates].map((c) => c.title);
    assert.deepEqual(titles.filter((t) => t.startsWith('Tied 1 ')), ['Tied 1 edited'], 'an issue edited before the pass reached it arrives once, edited');
    assert.deepEqual(titles.filter((t) => t.startsWith('Spread 21')), ['Spread 21', 'Spread 21 edited'], 'an edit after delivery arrives again');
    assert.deepEqual(new Set(titles).size, titles.length, 'nothing repeated');
    assert.equal(new Set(titles.map((t) => t.replace(' edited', ''))).size, 21, 'nothing lost');
    assert.deepEqual((await intake.listChangedSince(rest.cursor)).candidates, []);
  });

  it('states: only the states taken in, but closed issues always come back', async () => {
    const { teamKey, intake } = setup({ states: ['Todo', 'started'] });
    await linear.fake.createIssue({ teamKey, title: 'In triage', stateName: 'Triage' });
    await linear.fake.createIssue({ teamKey, title: 'Todo' });
    await linear.fake.createIssue({ teamKey, title: 'Reviewing', stateName: 'In Review' });
    await linear.fake.createIssue({ teamKey, title: 'Dropped', stateName: 'Canceled' });
    const { candidates } = await intake.listChangedSince(null);
    assert.deepEqual(candidates.map((c) => c.title).sort(), ['Dropped', 'Reviewing', 'Todo']);
    assert.equal(candidates.find((c) => c.title === 'Dropped')!.state, 'closed');
  });

  it('comment and setState write back: closed → completed, cancelled → canceled, open → the first started state', async () => {
    const { teamKey, intake } = setup();
    const issue = await linear.fake.createIssue({ teamKey, title: 'Write back' });
    const ref = { key: `linear:${issue.id}`, number: issue.number };
    await intake.comment(ref, 'Switchyard picked this up');
    assert.deepEqual(linear.fake.comments(issue.id).map((c) => c.body), ['Switchyard picked this up']);
    const stateName = () => linear.fake.states.get(linear.fake.issue(issue.id)!.stateId)!.name;
    await intake.setState(ref, 'open');
    assert.equal(stateName(), 'In Progress');
    await linear.fake.updateIssue(issue.id, { stateName: 'In Review' });
    await intake.setState(ref, 'open');
    assert.equal(stateName(), 'In Review', 'already started: left alone');
    await intake.setState(ref, 'closed');
    assert.equal(stateName(), 'Done');
    await intake.setState(ref, 'cancelled');
    assert.equal(stateName(), 'Canceled');
    await assert.rejects(intake.setState({ key: 'github:a/b#1', number: 1 }, 'closed'), (e: unknown) => e instanceof ProviderRefusal && e.code === 'validation_error');
  });

  it('route functions: createComment, moveToState (read back), fetchIssue by uuid and identifier, teamByKey', async () => {
    const { teamKey, client } = setup();
    const issue = await linear.fake.createIssue({ teamKey, title: 'Routed', labels: ['api'] });
    const made = await createComment(client, issue.id, 'From a route');
    assert.equal(made.success, true);
    assert.equal(made.commentId, linear.fake.comments(issue.id)[0]!.id);
    assert.match(made.commentUrl!, new RegExp(`/issue/${teamKey}-1/routed#comment-`));
    const blocked = linear.fake.stateByName(issue.teamId, 'Blocked');
    assert.deepEqual(await moveToState(client, issue.id, blocked.id), { issueId: issue.id, stateId: blocked.id, stateName: 'Blocked', stateType: 'started' });
    const byIdentifier = await fetchIssue(client, `${teamKey}-1`);
    assert.equal(byIdentifier.id, issue.id);
    assert.equal(byIdentifier.workflowState?.name, 'Blocked');
    assert.deepEqual(byIdentifier.team, { id: issue.teamId, key: teamKey, name: `Team ${n}` });
    assert.deepEqual(await teamByKey(client, teamKey), { id: issue.teamId, key: teamKey, name: `Team ${n}` });
    await assert.rejects(teamByKey(client, 'NOPE'), (e: unknown) => e instanceof ProviderRefusal && e.code === 'not_found');
    await assert.rejects(fetchIssue(client, 'NOPE-1'), (e: unknown) => e instanceof ProviderRefusal && e.code === 'not_found');
    await assert.rejects(moveToState(client, issue.id, 'no-such-state'), (e: unknown) => e instanceof ProviderRefusal && e.code === 'not_found');
  });

  it('a rate limit is waited out; a second call with the same key waits for the same reset instead of asking', async () => {
    const { teamKey, apiKey, intake, requests } = setup();
    await linear.fake.createIssue({ teamKey, title: 'Limited' });
    linear.fake.inject({ kind: 'ratelimited', times: 1, resetInMs: 400, apiKey });
    const started = Date.now();
    const a = intake.listChangedSince(null);
    while (!rateLimitedUntil(intake.client)) await tick();
    const resetAt = linear.fake.requests.find((r) => r.apiKey === apiKey)!.at + 400;
    assert.equal(rateLimitedUntil(intake.client), resetAt, 'the gate is the reset Linear named');
    const b = new LinearIntake({ apiKey, apiUrl: linear.url, teamKey }).listChangedSince(null);
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(ra.candidates.length, 1);
    assert.equal(rb.candidates.length, 1);
    assert.ok(Date.now() - started >= 390, 'waited for the reset');
    assert.deepEqual(requests().map((r) => r.outcome), ['injected:ratelimited', 'ok', 'ok'], 'one refusal, then one request each');
    assert.ok(requests().slice(1).every((r) => r.at >= resetAt - 5), `nobody asked again before the reset: ${JSON.stringify(requests().map((r) => r.at - resetAt))}`);
  });

  it('a reset beyond the wait budget gives up at once with a plain (retryable) Error; a refused key is a ProviderRefusal', async () => {
    const { apiKey, intake, requests } = setup();
    linear.fake.inject({ kind: 'ratelimited', times: 5, resetInMs: 60_000, apiKey });
    const t = Date.now();
    const err = await withLinear(intake.client, (c) => c.client.rawRequest('query { viewer { id } }', {}), { maxWaitMs: 1000 }).catch((e: unknown) => e);
    assert.ok(err instanceof Error && !(err instanceof ProviderRefusal), String(err));
    assert.match((err as Error).message, /rate limit/i);
    assert.ok(Date.now() - t < 1000);
    assert.equal(requests().length, 1);
    linear.fake.injected.length = 0;

    const stranger = new LinearIntake({ apiKey: 'lin_api_revoked', apiUrl: linear.url, teamKey: 'T1' });
    await assert.rejects(stranger.listChangedSince(null), (e: unknown) => e instanceof ProviderRefusal && e.code === 'source_credential_invalid');
    const other = setup();
    linear.fake.inject({ kind: 'server', times: 1, apiKey: other.apiKey });
    const outage = await other.intake.listChangedSince(null).catch((e: unknown) => e);
    assert.ok(outage instanceof Error && !(outage instanceof ProviderRefusal), 'a 500 is retried by the activity');
    assert.throws(() => linearClient({ apiKey: 'k', apiUrl: 'http://linear.example.com/graphql' }), (e: unknown) => e instanceof ProviderRefusal);
    assert.ok(linearClient({ apiKey: 'k', apiUrl: 'http://localhost:1/graphql' }));
  });

  it('webhooks: verified (good, bad signature, stale, future, missing) and parsed from the fake\'s own deliveries', async () => {
    const { teamKey } = setup();
    const secret = 'whsec-adapter';
    const sub = linear.fake.subscribe({ url: 'http://127.0.0.1:9/unreachable', secret, teamKey });
    try {
      const issue = await linear.fake.createIssue({ teamKey, title: 'Hooked', priority: 3, labels: ['bug'] });
      await linear.fake.updateIssue(issue.id, { stateName: 'Canceled' });
      await linear.fake.addComment(issue.id, { body: 'Nice', userName: 'Barbara Liskov' });
      const [created, updated, commented] = linear.fake.hooks.deliveries.filter((d) => d.subscriptionId === sub.id);
      const now = JSON.parse(created!.body).webhookTimestamp as number;
      const ok = verifyLinearWebhook({ secret, rawBody: created!.body, signature: created!.headers['linear-signature'], now });
      assert.equal(ok.webhookTimestamp, now);
      const failure = (input: Parameters<typeof verifyLinearWebhook>[0]) => {
        try {
          verifyLinearWebhook(input);
        } catch (e) {
          assert.ok(e instanceof LinearWebhookError);
          return [e.reason, e.code];
        }
        return 'accepted';
      };
      assert.deepEqual(failure({ secret: 'other', rawBody: created!.body, signature: created!.headers['linear-signature'], now }), ['signature_mismatch', 'webhook_signature_invalid']);
      assert.deepEqual(failure({ secret, rawBody: `${created!.body} `, signature: created!.headers['linear-signature'], now }), ['signature_mismatch', 'webhook_signature_invalid']);
      assert.deepEqual(failure({ secret, rawBody: created!.body, signature: undefined, now }), ['signature_missing', 'webhook_signature_invalid']);
      assert.deepEqual(failure({ secret, rawBody: created!.body, signature: created!.headers['linear-signature'], now: now + 61_000 }), ['timestamp_stale', 'webhook_signature_invalid']);
      assert.deepEqual(failure({ secret, rawBody: created!.body, signature: created!.headers['linear-signature'], now: now - 61_000 }), ['timestamp_future', 'webhook_signature_invalid']);
      assert.equal(failure({ secret, rawBody: created!.body, signature: created!.headers['linear-signature'], now: now + 59_000 }), 'accepted');
      const sign = (body: string) => createHmac('sha256', secret).update(body).digest('hex');
      assert.deepEqual(failure({ secret, rawBody: '{nope', signature: sign('{nope'), now }), ['invalid_json', 'invalid_json']);
      const noTs = JSON.stringify({ ...JSON.parse(created!.body), webhookTimestamp: undefined });
      assert.deepEqual(failure({ secret, rawBody: noTs, signature: sign(noTs), now }), ['timestamp_missing', 'webhook_signature_invalid']);

      const c = parseLinearWebhook(created!.body, created!.headers['linear-event']);
      assert.equal(c.kind, 'issue');
      if (c.kind !== 'issue') return;
      assert.equal(c.action, 'create');
      assert.equal(c.teamKey, teamKey);
      assert.deepEqual({ ...c.issue, workflowState: c.issue.workflowState?.name }, {
        key: `linear:${issue.id}`, number: issue.number, identifier: `${teamKey}-1`, title: 'Hooked', body: null, labels: ['bug'], state: 'open',
        workflowState: 'Todo', priority: 3, url: linear.fake.url(issue), updatedAt: issue.createdAt,
      });
      const u = parseLinearWebhook(Buffer.from(updated!.body), 'Issue');
      assert.ok(u.kind === 'issue' && u.action === 'update' && u.issue.state === 'closed' && u.issue.workflowState?.type === 'canceled');
      assert.ok(u.kind === 'issue' && typeof u.updatedFrom?.stateId === 'string');
      const m = parseLinearWebhook(commented!.body, 'Comment');
      assert.deepEqual(m, { kind: 'comment', commentId: linear.fake.comments(issue.id)[0]!.id, issueId: issue.id, body: 'Nice', user: { id: (m as { user: { id: string } }).user.id, name: 'Barbara Liskov' }, createdAt: linear.fake.comments(issue.id)[0]!.createdAt });
      const envelope = JSON.parse(created!.body);
      assert.deepEqual(parseLinearWebhook({ ...envelope, type: 'Project', action: 'update' }, 'Project'), { kind: 'ignored', type: 'Project', action: 'update' });
      assert.deepEqual(parseLinearWebhook({ ...JSON.parse(commented!.body), action: 'remove' }, 'Comment'), { kind: 'ignored', type: 'Comment', action: 'remove' });
      assert.throws(() => parseLinearWebhook({ ...envelope, data: { id: 'x' } }, 'Issue'), (e: unknown) => e instanceof LinearWebhookError && e.reason === 'invalid_payload');
      assert.throws(() => parseLinearWebhook('not json', 'Issue'), (e: unknown) => e instanceof LinearWebhookError && e.reason === 'invalid_json');
    } finally {
      linear.fake.hooks.subscriptions.length = 0;
    }
  });
});
