/** AgentRail's event subscription routes: shapes, status codes, validation order, idempotency, conflicts, ownership, private targets. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../support/stack.js';
import { createIssue, seedCompany } from '../support/seed.js';

const SECRET = 'whsec_0123456789abcdef';
const key = (n: string) => ({ 'idempotency-key': `test-key-${n}` });

describe('/api/event-subscriptions', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('creates, lists, reads and deactivates in AgentRail\'s shapes, owned by the company', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const other = await seedCompany(stack, 1);
    const [agent] = agents;
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    const created = await agent!.http.post('/api/event-subscriptions', {
      url: 'http://127.0.0.1:9/hooks', eventTypes: ['task.updated', 'task.shipped', 'task.updated'], secret: SECRET,
      filters: { taskIds: [issue.id] }, description: 'CI bridge',
    }, key('shape-1'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const data = created.body.data;
    assert.match(data.id, /^evsub_[0-9a-f]{20}$/);
    assert.deepEqual(data.eventTypes, ['task.shipped', 'task.updated']);
    assert.deepEqual(data.filters, { taskIds: [issue.id] });
    assert.equal(data.status, 'active');
    assert.equal(data.signingAlgorithm, 'hmac_sha256');
    assert.deepEqual(data.retryPolicy, { maxAttempts: 8, initialBackoffSeconds: 10, maxBackoffSeconds: 3600 });
    assert.equal(data.description, 'CI bridge');
    assert.deepEqual(data.availableActions, ['deactivate']);
    assert.deepEqual(created.body.availableActions, ['deactivate']);
    assert.equal(data.companyId, companyId);
    assert.ok(!JSON.stringify(created.body).includes(SECRET), 'the secret is never echoed');
    const stored = await stack.pool.query('SELECT secret_sealed FROM event_subscriptions WHERE id = $1', [data.id]);
    assert.ok(!stored.rows[0].secret_sealed.includes(SECRET) && stored.rows[0].secret_sealed.startsWith('v1.'), 'sealed at rest');

    const list = await agent!.http.get('/api/event-subscriptions');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.availableActions, ['create']);
    assert.deepEqual(list.body.data.map((s: any) => s.id), [data.id]);
    const got = await agent!.http.get(`/api/event-subscriptions/${data.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.data.id, data.id);
    assert.deepEqual(got.body.availableActions, ['deactivate']);

    // Another company's agent: not there at all. The operator sees every company's.
    const theirs = await other.agents[0]!.http.get(`/api/event-subscriptions/${data.id}`);
    assert.equal(theirs.status, 404);
    assert.deepEqual(theirs.body.error, { code: 'not_found', message: 'Event subscription not found.', details: { availableActions: ['list_event_subscriptions', 'create_event_subscription'] } });
    assert.deepEqual((await other.agents[0]!.http.get('/api/event-subscriptions')).body.data, []);
    assert.equal((await other.agents[0]!.http.request('DELETE', `/api/event-subscriptions/${data.id}`)).status, 404);
    assert.ok((await stack.admin.get('/api/event-subscriptions')).body.data.some((s: any) => s.id === data.id));
    assert.equal((await agent!.http.get('/api/event-subscriptions/evsub_00000000000000000000')).status, 404);
    assert.equal((await agent!.http.get('/api/event-subscriptions/not-an-id')).status, 404);

    // DELETE without a run id (AgentRail's SDK sends none): 202, disabled, no actions; a repeat changes nothing.
    const sdkLike = stack.as(agent!.key);
    const gone = await sdkLike.request('DELETE', `/api/event-subscriptions/${data.id}`);
    assert.equal(gone.status, 202, JSON.stringify(gone.body));
    assert.equal(gone.body.data.status, 'disabled');
    assert.equal(gone.body.data.disabledReason, 'deactivated');
    assert.deepEqual(gone.body.data.availableActions, []);
    assert.deepEqual(gone.body.availableActions, []);
    const again = await sdkLike.request('DELETE', `/api/event-subscriptions/${data.id}`);
    assert.equal(again.status, 202);
    assert.equal(again.body.data.disabledAt, gone.body.data.disabledAt);
    assert.deepEqual((await agent!.http.get(`/api/event-subscriptions/${data.id}`)).body.availableActions, []);
  });

  it('the operator without companyId (AgentRail\'s SDK sends none): the company of the filtered task; with several companies and no filter, a 400 naming companyId', async () => {
    const { companyId } = await seedCompany(stack, 0);
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    const byTask = await stack.admin.post('/api/event-subscriptions', { url: 'http://127.0.0.1:9/op', eventTypes: ['task.updated'], secret: SECRET, filters: { taskIds: [issue.id] } }, key('op-1'));
    assert.equal(byTask.status, 201, JSON.stringify(byTask.body));
    assert.equal(byTask.body.data.companyId, companyId);
    const none = await stack.admin.post('/api/event-subscriptions', { url: 'http://127.0.0.1:9/op2', eventTypes: ['task.updated'], secret: SECRET }, key('op-2'));
    assert.equal(none.status, 400, JSON.stringify(none.body));
    assert.equal(none.body.error.details.field, 'companyId');
  });

  it('checks a create in AgentRail\'s order, and a task filter only names tasks the caller can read', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const other = await seedCompany(stack, 1);
    const [agent] = agents;
    const http = agent!.http;
    const ok = { url: 'https://hooks.example.com/x', eventTypes: ['task.updated'], secret: SECRET };
    const refused = async (body: unknown, headers: Record<string, string>, status = 400) => {
      const res = await http.post('/api/event-subscriptions', body, headers);
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.ok(Array.isArray(res.body.error.details.availableActions), JSON.stringify(res.body));
      return res.body.error;
    };
    assert.equal((await refused(ok, {})).message, 'Idempotency-Key header is required.');
    assert.equal((await refused(ok, { 'idempotency-key': 'short' })).message, 'Idempotency-Key header is required.');
    assert.equal((await refused(ok, { 'idempotency-key': 'k'.repeat(129) })).message, 'Idempotency-Key header is required.');
    assert.equal((await refused([ok], key('v-1'))).message, 'Request body must be a JSON object.');
    // url comes before eventTypes.
    assert.equal((await refused({ ...ok, url: 'ftp://x.example.com', eventTypes: [] }, key('v-2'))).details.field, 'url');
    assert.equal((await refused({ ...ok, url: 'https://user:pw@x.example.com' }, key('v-3'))).details.field, 'url');
    assert.equal((await refused({ ...ok, eventTypes: [] }, key('v-4'))).details.field, 'eventTypes');
    const badType = await refused({ ...ok, eventTypes: ['task.updated', 'task.nope'] }, key('v-5'));
    assert.equal(badType.details.eventType, 'task.nope');
    assert.ok(badType.details.supportedEventTypes.includes('task.shipped'));
    assert.equal((await refused({ ...ok, secret: 'x'.repeat(15) }, key('v-6'))).details.field, 'secret');
    assert.equal((await refused({ ...ok, secret: 'x'.repeat(129) }, key('v-7'))).details.field, 'secret');
    assert.equal((await refused({ ...ok, filters: { taskIds: [42] } }, key('v-8'))).details.field, 'filters');
    assert.equal((await refused({ ...ok, filters: { taskIds: Array.from({ length: 51 }, (_, i) => `T-${i}`) } }, key('v-9'))).details.field, 'filters');
    await refused({ ...ok, description: 'd'.repeat(201) }, key('v-10'));
    await refused({ ...ok, colour: 'blue' }, key('v-11'));
    // The operator names the company; an agent naming another is told it does not exist.
    assert.equal((await stack.admin.post('/api/event-subscriptions', ok, key('v-12'))).body.error.details.field, 'companyId');
    await refused({ ...ok, companyId: other.companyId }, key('v-13'), 404);
    // Another company's task, by id or identifier: 404, as for a task that does not exist.
    const theirs = await createIssue(stack, other.companyId, { status: 'todo' });
    const theirsRow = await stack.pool.query('SELECT identifier FROM issues WHERE id = $1', [theirs.id]);
    assert.equal((await refused({ ...ok, filters: { taskIds: [theirs.id] } }, key('v-14'), 404)).code, 'not_found');
    assert.equal((await refused({ ...ok, filters: { taskIds: [theirsRow.rows[0].identifier] } }, key('v-15'), 404)).code, 'not_found');
    // Its own task, by identifier and by id at once: stored once, as the id.
    const mine = await createIssue(stack, companyId, { status: 'todo' });
    const mineRow = await stack.pool.query('SELECT identifier FROM issues WHERE id = $1', [mine.id]);
    const created = await http.post('/api/event-subscriptions', { ...ok, filters: { taskIds: [mineRow.rows[0].identifier, mine.id] } }, key('v-16'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.data.filters.taskIds, [mine.id]);
    // Our finer event types are accepted too.
    const finer = await http.post('/api/event-subscriptions', { ...ok, eventTypes: ['task.comment.created', 'task.ci_failed'] }, key('v-17'));
    assert.equal(finer.status, 201, JSON.stringify(finer.body));
    assert.deepEqual(finer.body.data.eventTypes, ['task.ci_failed', 'task.comment.created']);
    // The operator's, for a company it names.
    const operators = await stack.admin.post('/api/event-subscriptions', { ...ok, companyId }, key('v-18'));
    assert.equal(operators.status, 201, JSON.stringify(operators.body));
    assert.equal(operators.body.data.companyId, companyId);
  });

  it('replays a retried create, refuses a reused key and an active twin (409), and twenty concurrent creates make one', async () => {
    const { agents } = await seedCompany(stack, 1);
    const http = agents[0]!.http;
    const body = { url: 'https://hooks.example.com/replay', eventTypes: ['task.updated', 'task.shipped'], secret: SECRET };
    const first = await http.post('/api/event-subscriptions', body, key('r-1'));
    assert.equal(first.status, 201);
    const replay = await http.post('/api/event-subscriptions', body, key('r-1'));
    assert.equal(replay.status, 201);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replay.body, first.body);
    const reused = await http.post('/api/event-subscriptions', { ...body, secret: `${SECRET}-2` }, key('r-1'));
    assert.equal(reused.status, 409);
    assert.equal(reused.body.error.code, 'idempotency_key_reused');
    // The same endpoint and filter set (in another order) under a new key: AgentRail's conflict, naming the active one.
    const twin = await http.post('/api/event-subscriptions', { ...body, eventTypes: ['task.shipped', 'task.updated', 'task.shipped'] }, key('r-2'));
    assert.equal(twin.status, 409);
    assert.equal(twin.body.error.code, 'conflict');
    assert.equal(twin.body.error.message, 'An active subscription already exists for this endpoint and filter set.');
    assert.deepEqual(twin.body.error.details, { subscriptionId: first.body.data.id, availableActions: ['deactivate'] });

    const racing = { ...body, url: 'https://hooks.example.com/race' };
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => http.post('/api/event-subscriptions', racing, key(`race-${i}`))));
    const won = answers.filter((a) => a.status === 201);
    assert.equal(won.length, 1, JSON.stringify(answers.map((a) => a.status)));
    assert.ok(answers.every((a) => a.status === 201 || (a.status === 409 && a.body.error.details.subscriptionId === won[0]!.body.data.id)));
    const count = await stack.pool.query(`SELECT count(*)::int AS n FROM event_subscriptions WHERE url = $1`, [racing.url]);
    assert.equal(count.rows[0].n, 1);
    // Twenty retries with one key: one subscription, every answer the same.
    const same = await Promise.all(Array.from({ length: 20 }, () => http.post('/api/event-subscriptions', { ...body, url: 'https://hooks.example.com/one-key' }, key('one-key'))));
    assert.ok(same.every((a) => a.status === 201 && a.body.data.id === same[0]!.body.data.id), JSON.stringify(same.map((a) => a.status)));

    // Once deactivated, the endpoint may be subscribed again.
    assert.equal((await http.request('DELETE', `/api/event-subscriptions/${first.body.data.id}`)).status, 202);
    const again = await http.post('/api/event-subscriptions', body, key('r-3'));
    assert.equal(again.status, 201);
    assert.notEqual(again.body.data.id, first.body.data.id);
  });
});

describe('/api/event-subscriptions without SWITCHYARD_ALLOW_PRIVATE_TARGETS', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ withoutWorker: true, config: { allowPrivateTargets: false } });
  });
  after(async () => {
    await stack?.stop();
  });

  it('refuses loopback, link-local, private and unspecified targets, IPv4 and IPv6', async () => {
    const { agents } = await seedCompany(stack, 1);
    const targets = ['http://127.0.0.1:8080/x', 'http://localhost/x', 'http://[::1]/x', 'http://[::ffff:127.0.0.1]/x', 'http://[::ffff:a00:1]/x', 'http://10.1.2.3/x',
      'http://172.16.0.5/x', 'http://192.168.1.1/x', 'http://169.254.169.254/latest/meta-data', 'http://0.0.0.0/x', 'http://[::]/x', 'http://[fe80::1]/x', 'http://[fd00::1]/x', 'http://2130706433/x', 'http://127.1/x'];
    for (const [i, url] of targets.entries()) {
      const res = await agents[0]!.http.post('/api/event-subscriptions', { url, eventTypes: ['task.updated'], secret: SECRET }, key(`private-${i}`));
      assert.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.details.reason, 'private_target', url);
    }
    const publicIp = await agents[0]!.http.post('/api/event-subscriptions', { url: 'https://93.184.215.14/x', eventTypes: ['task.updated'], secret: SECRET }, key('public-1'));
    assert.equal(publicIp.status, 201, JSON.stringify(publicIp.body));
  });
});
