/**
 * The fake Linear driven by @linear/sdk 88.3.0 itself: every document the SDK sends must be valid against
 * the vendored schema (zero violations), answers must make sense to the SDK's models, injected failures
 * must arrive as the SDK's own error classes, and webhooks must verify with the SDK's webhook client.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, afterEach, before, describe, it } from 'node:test';
import { AuthenticationLinearError, GraphqlLinearError, InternalLinearError, InvalidInputLinearError, LinearClient, RatelimitedLinearError } from '@linear/sdk';
import { LinearWebhookClient } from '@linear/sdk/webhooks';
import type { RunningFakeLinear } from '../fakes/linear/server.js';
import { assertHonest, fakeLinear, newKey } from './support.js';

describe('fake Linear against @linear/sdk 88.3.0', () => {
  let linear: RunningFakeLinear;
  let client: LinearClient;
  let key: string;

  before(async () => {
    linear = await fakeLinear();
    linear.fake.createTeam({ key: 'ENG', name: 'Engineering' });
    linear.fake.createTeam({ key: 'OPS', name: 'Operations' });
  });
  afterEach(() => assertHonest(linear));
  after(() => linear.close());

  const fresh = () => {
    key = newKey(linear);
    client = new LinearClient({ apiKey: key, apiUrl: linear.url });
  };

  it('sends the api key bare (no Bearer), and reads viewer, organization, teams, a team and its states', async () => {
    fresh();
    const viewer = await client.viewer;
    assert.equal(viewer.name, 'API User');
    assert.equal(viewer.isMe, true);
    assert.equal(linear.fake.requests.at(-1)!.apiKey, key);
    assert.equal((await client.organization).urlKey, 'fake');
    const teams = await client.teams();
    assert.deepEqual(teams.nodes.map((t) => t.key).sort(), ['ENG', 'OPS']);
    const eng = teams.nodes.find((t) => t.key === 'ENG')!;
    assert.equal((await client.team(eng.id)).name, 'Engineering');
    const states = await eng.states();
    assert.deepEqual(
      states.nodes.sort((a, b) => a.position - b.position).map((s) => `${s.name}:${s.type}`),
      ['Triage:triage', 'Backlog:backlog', 'Todo:unstarted', 'In Progress:started', 'In Review:started', 'Blocked:started', 'Done:completed', 'Canceled:canceled'],
    );
    const all = await client.workflowStates({ filter: { team: { key: { eq: 'OPS' } }, type: { eq: 'started' } } });
    assert.deepEqual(all.nodes.map((s) => s.name).sort(), ['Blocked', 'In Progress', 'In Review']);
  });

  it('pages issues with Relay cursors (first/after, last/before), filtered and ordered by updatedAt, newest first', async () => {
    fresh();
    for (let i = 1; i <= 7; i++) await linear.fake.createIssue({ teamKey: 'OPS', title: `Paged ${i}`, labels: i % 2 ? ['odd'] : [] });
    await linear.fake.createIssue({ teamKey: 'ENG', title: 'Other team' });
    await new Promise((r) => setTimeout(r, 2));
    await linear.fake.updateIssue('OPS-2', { title: 'Paged 2 (edited)' });
    const seen: string[] = [];
    let page = await client.issues({ filter: { team: { key: { eq: 'OPS' } } }, orderBy: 'updatedAt' as never, first: 3 });
    const pages = [page];
    while (page.pageInfo.hasNextPage) pages.push((page = await client.issues({ filter: { team: { key: { eq: 'OPS' } } }, orderBy: 'updatedAt' as never, first: 3, after: page.pageInfo.endCursor })));
    for (const p of pages) seen.push(...p.nodes.map((i) => i.identifier));
    assert.equal(pages.length, 3);
    assert.equal(seen.length, 7);
    assert.equal(new Set(seen).size, 7);
    assert.equal(seen[0], 'OPS-2', 'the most recently updated comes first');
    const back = await client.issues({ filter: { team: { key: { eq: 'OPS' } } }, orderBy: 'updatedAt' as never, last: 2, before: pages[1]!.pageInfo.startCursor });
    assert.deepEqual(back.nodes.map((i) => i.identifier), seen.slice(1, 3));
    const since = await client.issues({ filter: { team: { key: { eq: 'OPS' } }, updatedAt: { gt: pages[0]!.nodes[1]!.updatedAt.toISOString() } } });
    assert.deepEqual(since.nodes.map((i) => i.identifier), ['OPS-2']);
    const byLabel = await client.issues({ filter: { labels: { name: { eq: 'odd' } }, team: { key: { eq: 'OPS' } } } });
    assert.equal(byLabel.nodes.length, 4);
  });

  it('reads an issue by uuid and identifier, its state, labels and comments; comments and updates it', async () => {
    fresh();
    const made = await linear.fake.createIssue({ teamKey: 'ENG', title: 'Readable', description: 'Body', priority: 2, labels: ['bug', 'backend'] });
    const id = made.id;
    assert.equal(made.identifier, `ENG-${made.number}`);
    const byId = await client.issue(id);
    const byIdentifier = await client.issue(made.identifier);
    assert.equal(byId.url, made.url);
    assert.equal(byIdentifier.id, id);
    assert.equal(byId.title, 'Readable');
    assert.equal(byId.description, 'Body');
    assert.equal(byId.priority, 2);
    assert.equal(byId.priorityLabel, 'High');
    assert.match(byId.url, new RegExp(`^http://linear\\.fake/fake/issue/ENG-${made.number}/readable$`));
    assert.equal((await byId.state)!.name, 'Todo');
    assert.deepEqual((await byId.labels()).nodes.map((l) => l.name).sort(), ['backend', 'bug']);
    assert.equal((await byId.team)!.key, 'ENG');

    await linear.fake.addComment(id, { body: 'From a person', userName: 'Ada Lovelace' });
    const created = await client.createComment({ issueId: id, body: 'From the API' });
    assert.equal(created.success, true);
    const comment = await created.comment;
    assert.equal(comment!.body, 'From the API');
    const comments = await byId.comments();
    assert.deepEqual(comments.nodes.map((c) => c.body).sort(), ['From a person', 'From the API']);
    assert.equal((await comments.nodes.find((c) => c.body === 'From a person')!.user)!.name, 'Ada Lovelace');

    const done = (await (await client.team((await byId.team)!.id)).states({ filter: { type: { eq: 'completed' } } })).nodes[0]!;
    const updated = await client.updateIssue(id, { stateId: done.id, title: 'Readable (done)' });
    assert.equal(updated.success, true);
    const after = await client.issue(id);
    assert.equal(after.title, 'Readable (done)');
    assert.equal((await after.state)!.type, 'completed');
    assert.ok(after.completedAt);

    const ops = (await client.teams({ filter: { key: { eq: 'OPS' } } })).nodes[0]!;
    const oldIdentifier = after.identifier;
    await client.updateIssue(id, { teamId: ops.id });
    const moved = await client.issue(id);
    assert.equal(moved.id, id, 'the uuid stays');
    assert.match(moved.identifier, /^OPS-\d+$/);
    assert.deepEqual(moved.previousIdentifiers, [oldIdentifier]);
    assert.equal(linear.fake.issue(id)!.identifier, moved.identifier, 'the handle follows the move');
    assert.equal((await client.issue(oldIdentifier)).id, id, 'the old identifier still finds it');
    assert.equal((await moved.state)!.type, 'completed', 'the state maps to the new team\'s');
  });

  it('injected failures arrive as the SDK\'s own error classes, with the rate-limit headers read', async () => {
    fresh();
    linear.fake.inject({ kind: 'ratelimited', times: 1, resetInMs: 5000, apiKey: key });
    const limited = await client.viewer.then(() => undefined, (e: unknown) => e);
    assert.ok(limited instanceof RatelimitedLinearError, String(limited));
    assert.equal(limited.requestsRemaining, 0);
    assert.ok(limited.requestsResetAt! > Date.now() + 4000 && limited.requestsResetAt! < Date.now() + 6000, 'reset in epoch ms');
    linear.fake.inject({ kind: 'auth', times: 1, apiKey: key });
    assert.ok((await client.viewer.catch((e: unknown) => e)) instanceof AuthenticationLinearError);
    linear.fake.inject({ kind: 'server', times: 1, apiKey: key });
    assert.ok((await client.viewer.catch((e: unknown) => e)) instanceof InternalLinearError);
    assert.equal((await client.viewer).name, 'API User', 'injections are used up');

    const stranger = new LinearClient({ apiKey: 'lin_api_unknown', apiUrl: linear.url });
    assert.ok((await stranger.viewer.catch((e: unknown) => e)) instanceof AuthenticationLinearError);
    const bearer = new LinearClient({ accessToken: key, apiUrl: linear.url });
    assert.ok((await bearer.viewer.catch((e: unknown) => e)) instanceof AuthenticationLinearError, 'a key sent as Bearer is not a key');

    const issue = await linear.fake.createIssue({ teamKey: 'ENG', title: 'Bad input' });
    assert.ok((await client.updateIssue(issue.id, { stateId: 'no-such-state' }).catch((e: unknown) => e)) instanceof InvalidInputLinearError);
    assert.ok((await client.issue('00000000-0000-0000-0000-000000000000').catch((e: unknown) => e)) instanceof InvalidInputLinearError);
  });

  it('records an invalid document as a violation and answers it with GraphQL errors; an unmodelled operation names itself', async () => {
    fresh();
    const bad = await client.client.rawRequest('query Bad { issues { nodes { id notAField } } }', {}).catch((e: unknown) => e);
    assert.ok(bad instanceof GraphqlLinearError, String(bad));
    assert.match(bad.message, /Cannot query field "notAField" on type "Issue"/);
    assert.equal(linear.fake.violations.length, 1);
    assert.equal(linear.fake.violations[0]!.kind, 'document');
    const unmodelled = await client.projects().catch((e: unknown) => e as Error);
    assert.match(String((unmodelled as Error).message), /fake-linear: operation Query\.projects is not modelled/);
    assert.equal(linear.fake.violations.length, 2);
    linear.fake.violations.length = 0;
  });

  it('signs every webhook so the SDK\'s webhook client accepts it; redelivery is byte for byte; team subscriptions filter', async () => {
    const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
    const receiver: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`;
    try {
      linear.fake.subscribe({ url, secret: 'whsec-all' });
      linear.fake.subscribe({ url, secret: 'whsec-ops', teamKey: 'OPS' });
      const issue = await linear.fake.createIssue({ teamKey: 'ENG', title: 'Hooked', labels: ['bug'] });
      await linear.fake.updateIssue(issue.id, { stateName: 'In Progress' });
      await linear.fake.addComment(issue.id, { body: 'Looks good', userName: 'Grace Hopper' });
      assert.equal(received.length, 3, 'the OPS-only subscription got nothing from ENG');
      const sdk = new LinearWebhookClient('whsec-all');
      for (const d of received) {
        assert.equal(d.headers['content-type'], 'application/json');
        assert.match(String(d.headers['linear-delivery']), /^[0-9a-f-]{36}$/);
        const parsed = sdk.parseData(Buffer.from(d.body), String(d.headers['linear-signature']), JSON.parse(d.body).webhookTimestamp);
        assert.equal(parsed.type, d.headers['linear-event']);
      }
      const [created, updated, commented] = received.map((d) => JSON.parse(d.body));
      assert.deepEqual([created.type, created.action, updated.action, commented.type, commented.action], ['Issue', 'create', 'update', 'Comment', 'create']);
      assert.equal(updated.data.state.name, 'In Progress');
      assert.equal(updated.updatedFrom.stateId, created.data.stateId);
      assert.equal(commented.data.issueId, issue.id);
      assert.equal(commented.data.user.name, 'Grace Hopper');
      assert.throws(() => new LinearWebhookClient('wrong').parseData(Buffer.from(received[0]!.body), String(received[0]!.headers['linear-signature'])), /Invalid webhook signature/);

      const first = linear.fake.hooks.deliveries[0]!;
      assert.equal(await linear.fake.redeliver(first.id), 200);
      assert.equal(received.at(-1)!.body, received[0]!.body);
      assert.equal(received.at(-1)!.headers['linear-delivery'], received[0]!.headers['linear-delivery']);
    } finally {
      linear.fake.hooks.subscriptions.length = 0;
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
    }
  });

  it('answers its HTTP control routes', async () => {
    fresh();
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${linear.origin}/_control${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const made = await post('/issues', { teamKey: 'ENG', title: 'Over HTTP', labels: ['ui'] });
    assert.equal(made.status, 201);
    assert.match(made.body.identifier, /^ENG-\d+$/);
    const moved = await post(`/issues/${made.body.identifier}`, { stateName: 'Blocked' });
    assert.equal(moved.body.state.name, 'Blocked');
    assert.equal((await post('/comments', { issueId: made.body.id, body: 'hello', userName: 'Linus' })).status, 201);
    assert.equal((await post('/issues', { teamKey: 'NOPE', title: 'x' })).status, 422);
    await post('/inject', { kind: 'auth', times: 1, apiKey: key });
    assert.ok((await client.viewer.catch((e: unknown) => e)) instanceof AuthenticationLinearError);
    const sdkView = await client.issue(made.body.id);
    assert.equal((await sdkView.comments()).nodes[0]!.body, 'hello');
  });
});
