/** Company isolation, auth, run ids, and bad input: always a 4xx with a stable code, never a change. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../support/stack.js';
import { ALL_TAKEABLE, createIssue, seedCompany, type SeededAgent } from '../support/seed.js';

describe('tenancy, auth, run ids and bad input', () => {
  let stack: Stack;
  let companyId: string;
  let a: SeededAgent;
  let outsider: SeededAgent;
  let otherCompanyId: string;

  before(async () => {
    stack = await startStack();
    const one = await seedCompany(stack, 1);
    const two = await seedCompany(stack, 1);
    companyId = one.companyId;
    a = one.agents[0]!;
    otherCompanyId = two.companyId;
    outsider = two.agents[0]!;
  });
  after(() => stack.stop());

  it('another company\'s issue is 404 for every verb, never 403', async () => {
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    const attempts = [
      outsider.http.get(`/api/issues/${issue.id}`),
      outsider.http.get(`/api/issues/${issue.id}/comments`),
      outsider.http.get(`/api/issues/${issue.id}/activity`),
      outsider.http.patch(`/api/issues/${issue.id}`, { priority: 'low' }),
      outsider.http.post(`/api/issues/${issue.id}/checkout`, { agentId: outsider.id, expectedStatuses: ALL_TAKEABLE }),
      outsider.http.post(`/api/issues/${issue.id}/comments`, { body: 'hi' }),
      outsider.http.post(`/api/issues/${issue.id}/close`, { comment: 'Inline result: x' }),
      outsider.http.post(`/api/issues/${issue.id}/release`, {}),
      outsider.http.get(`/api/companies/${companyId}/issues`),
      outsider.http.get(`/api/companies/${companyId}`),
      outsider.http.post(`/api/companies/${companyId}/issues`, { title: 'sneaky' }),
    ];
    for (const res of await Promise.all(attempts)) {
      assert.equal(res.status, 404, JSON.stringify(res.body));
      assert.equal(res.body.code, 'not_found');
    }
    const read = await stack.admin.get(`/api/issues/${issue.id}`);
    assert.equal(read.body.version, issue.version);
    assert.equal(read.body.status, 'todo');
    assert.ok((await outsider.http.get(`/api/companies/${otherCompanyId}/issues`)).status === 200);
  });

  it('identifiers name one issue: companies of one name get ACME, ACME2, …; a prefix shared by choice is 409 ambiguous_identifier for an operator, each agent its own (newcomer pass)', async () => {
    const name = `Zq${Math.random().toString(36).replace(/[^a-z]/g, '').slice(0, 6)}`;
    const made = await Promise.all(Array.from({ length: 3 }, () => stack.admin.post('/api/companies', { name })));
    const prefixes = await Promise.all(made.map(async (c) => (await stack.admin.post(`/api/companies/${c.body.id}/issues`, { title: 'x' })).body.identifier.split('-')[0]));
    assert.equal(new Set(prefixes).size, 3, `distinct: ${prefixes}`);
    const shared = `S${Math.random().toString(36).replace(/[^a-z]/g, '').slice(0, 4).toUpperCase()}`;
    const a = await seedCompany(stack, 1);
    const b = await seedCompany(stack, 1);
    await stack.pool.query('UPDATE companies SET issue_prefix = $1 WHERE id = ANY($2::uuid[])', [shared, [a.companyId, b.companyId]]);
    const ia = (await stack.admin.post(`/api/companies/${a.companyId}/issues`, { title: 'in a' })).body;
    const ib = (await stack.admin.post(`/api/companies/${b.companyId}/issues`, { title: 'in b' })).body;
    assert.equal(ia.identifier, ib.identifier);
    const asOperator = await stack.admin.get(`/api/issues/${ia.identifier}`);
    assert.deepEqual([asOperator.status, asOperator.body.code], [409, 'ambiguous_identifier']);
    assert.deepEqual(new Set(asOperator.body.details.issueIds), new Set([ia.id, ib.id]));
    assert.equal((await a.agents[0]!.http.get(`/api/issues/${ia.identifier}`)).body.id, ia.id);
    assert.equal((await b.agents[0]!.http.get(`/api/issues/${ib.identifier}`)).body.id, ib.id);
  });

  it('keys: none or unknown is 401; agents cannot create companies or agents (403)', async () => {
    const anon = stack.as(undefined as unknown as string);
    assert.equal((await anon.get(`/api/companies/${companyId}/issues`)).body.code, 'unauthorized');
    assert.equal((await stack.as('sy_agent_nope').get('/api/agents/me')).status, 401);
    const company = await a.http.post('/api/companies', { name: 'mine' });
    assert.equal(company.status, 403);
    assert.equal(company.body.code, 'forbidden');
    assert.equal((await a.http.post(`/api/companies/${companyId}/agents`, { name: 'x' })).status, 403);
  });

  it('an agent state change without a run id is 400 run_id_required; the Paperclip and AImetier headers count', async () => {
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    const noRun = stack.as(a.key);
    const res = await noRun.post(`/api/issues/${issue.id}/checkout`, { agentId: a.id, expectedStatuses: ALL_TAKEABLE });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'run_id_required');
    assert.equal((await stack.admin.get(`/api/issues/${issue.id}`)).body.status, 'todo');
    assert.equal((await noRun.get(`/api/issues/${issue.id}`)).status, 200, 'reads need no run id');
    const viaPaperclip = await noRun.post(`/api/issues/${issue.id}/comments`, { body: 'p' }, { 'X-Paperclip-Run-Id': 'pc-run' });
    assert.equal(viaPaperclip.status, 201);
    assert.equal(viaPaperclip.body.runId, 'pc-run');
    const viaAImetier = await noRun.post(`/api/issues/${issue.id}/comments`, { body: 'q' }, { 'X-AImetier-Run-Id': 'ai-run' });
    assert.equal(viaAImetier.body.runId, 'ai-run');
  });

  it('bad input: malformed JSON, unknown fields, wrong types, huge comments, unknown issues — 4xx, stable code, no change', async () => {
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    await a.http.post(`/api/issues/${issue.id}/checkout`, { agentId: a.id, expectedStatuses: ALL_TAKEABLE });
    const before = (await stack.admin.get(`/api/issues/${issue.id}`)).body;
    const cases: Array<[Promise<any>, number, string]> = [
      [a.http.patch(`/api/issues/${issue.id}`, '{"comment": "oops"'), 400, 'invalid_json'],
      [a.http.patch(`/api/issues/${issue.id}`, { comment: 'x', colour: 'red' }), 400, 'validation_error'],
      [a.http.patch(`/api/issues/${issue.id}`, { priority: 7 }), 400, 'validation_error'],
      [a.http.patch(`/api/issues/${issue.id}`, { status: 'finished' }), 400, 'validation_error'],
      [a.http.patch(`/api/issues/${issue.id}`, {}), 400, 'validation_error'],
      [a.http.patch(`/api/issues/${issue.id}`, { comment: 'x'.repeat(64 * 1024 + 1) }), 400, 'comment_too_large'],
      [a.http.post(`/api/issues/${issue.id}/comments`, { body: 'é'.repeat(40_000) }), 400, 'comment_too_large'],
      [a.http.post(`/api/issues/${issue.id}/comments`, { body: '' }), 400, 'validation_error'],
      [a.http.post(`/api/issues/${issue.id}/checkout`, { agentId: a.id, expectedStatuses: 'todo' }), 400, 'validation_error'],
      [a.http.post(`/api/issues/${issue.id}/checkout`, { agentId: a.id, expectedStatuses: ['todo'], leaseSeconds: 999_999 }), 400, 'validation_error'],
      [a.http.post(`/api/issues/${issue.id}/close`, {}), 400, 'validation_error'],
      [a.http.patch('/api/issues/00000000-0000-4000-8000-000000000000', { comment: 'x' }), 404, 'not_found'],
      [a.http.patch('/api/issues/not-a-uuid', { comment: 'x' }), 404, 'not_found'],
      [a.http.get(`/api/companies/${companyId}/issues?status=todo,nope`), 400, 'validation_error'],
      [a.http.get(`/api/companies/${companyId}/issues?colour=red`), 400, 'validation_error'],
      [a.http.post(`/api/companies/${companyId}/issues`, { title: '' }), 400, 'validation_error'],
      [a.http.post(`/api/companies/${companyId}/issues`, { title: 'x', status: 'done' }), 400, 'validation_error'],
      [a.http.patch(`/api/issues/${issue.id}`, { comment: 'x' }, { 'Idempotency-Key': '' }), 400, 'validation_error'],
    ];
    for (const [promise, status, code] of cases) {
      const res = await promise;
      assert.equal(res.status, status, JSON.stringify(res.body).slice(0, 300));
      assert.equal(res.body.code, code, JSON.stringify(res.body).slice(0, 300));
      assert.equal(typeof res.body.error, 'string');
    }
    const after = (await stack.admin.get(`/api/issues/${issue.id}`)).body;
    assert.equal(after.version, before.version);
    assert.deepEqual((await stack.admin.get(`/api/issues/${issue.id}/comments`)).body, []);
  });

  it('company settings: read by its agents, changed by the operator, validated', async () => {
    const read = await a.http.get(`/api/companies/${companyId}`);
    assert.equal(read.status, 200);
    assert.equal((await a.http.patch(`/api/companies/${companyId}`, { settings: { requireDeliverable: false } })).status, 403);
    const changed = await stack.admin.patch(`/api/companies/${companyId}`, { settings: { defaultLeaseSeconds: 120 } });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.settings.defaultLeaseSeconds, 120);
    const bad = await stack.admin.patch(`/api/companies/${companyId}`, { settings: { defaultLeaseSeconds: 10 ** 9 } });
    assert.equal(bad.status, 400);
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    const out = await a.http.post(`/api/issues/${issue.id}/checkout`, { agentId: a.id, expectedStatuses: ['todo'] });
    const seconds = (Date.parse(out.body.checkout.leaseExpiresAt) - Date.parse(out.body.updatedAt)) / 1000;
    assert.equal(seconds, 120);
  });

  it('health: /healthz answers, /readyz sees Temporal, Postgres and a worker polling the task queue', async () => {
    const health = await stack.as(undefined as unknown as string).get('/healthz');
    assert.equal(health.status, 200);
    const ready = await stack.as(undefined as unknown as string).get('/readyz');
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    assert.deepEqual(ready.body.checks, { temporal: { ok: true }, postgres: { ok: true }, worker: { ok: true }, workflowTasks: { ok: true, quarantinedCount: 0 } }, 'anyone sees how many runs are quarantined');
    const forOperator = await stack.admin.get('/readyz');
    assert.deepEqual(forOperator.body.checks.workflowTasks, { ok: true, quarantined: [] }, 'the operator sees which');
    assert.equal((await stack.as('sy_wrong_key').get('/readyz')).body.checks.workflowTasks.quarantined, undefined);
  });
});
