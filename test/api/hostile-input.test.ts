/**
 * What a hostile or clumsy client sends (issue 6 §1.2, §2.6–2.9): text Postgres cannot store, a
 * close-out on a closed issue, someone else's agent, a body that lies about its encoding. Each is a
 * clear 4xx with a stable code, and changes nothing.
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { logger } from '../../runtime/logger.js';
import { commentUpdate } from '../../workflows/messages.js';
import { startStack, type Stack } from '../support/stack.js';
import { ALL_TAKEABLE, checkedOutIssue, createIssue, seedCompany, type SeededAgent } from '../support/seed.js';
import { workflowIdFor } from '../../workflows/messages.js';

const NUL = 'hello\u0000world';
const HIGH = 'x\ud800y';
const LOW = 'x\udc00y';

describe('hostile input', () => {
  let stack: Stack;
  let companyId: string;
  let owner: SeededAgent;
  let other: SeededAgent;

  before(async () => {
    stack = await startStack();
    const seeded = await seedCompany(stack, 2);
    companyId = seeded.companyId;
    [owner, other] = seeded.agents as [SeededAgent, SeededAgent];
  });
  after(() => stack.stop());

  const checkedOut = () => checkedOutIssue(stack, companyId, owner);

  async function snapshot(issueId: string) {
    const { rows } = await stack.pool.query(
      `SELECT i.version, i.title, i.description, (SELECT count(*)::int FROM comments c WHERE c.issue_id = i.id) AS comments,
              (SELECT count(*)::int FROM activity_log a WHERE a.issue_id = i.id) AS entries FROM issues i WHERE i.id = $1`,
      [issueId],
    );
    return rows[0];
  }

  it('NUL and lone surrogates in any string field of any route: 400 validation_error naming the field; nothing changes', async () => {
    const issue = await checkedOut();
    const before = await snapshot(issue.id);
    const { rows: counts0 } = await stack.pool.query('SELECT (SELECT count(*) FROM companies) AS c, (SELECT count(*) FROM agents) AS a, (SELECT count(*) FROM issues) AS i');
    for (const bad of [NUL, HIGH, LOW]) {
      const cases: Array<[string, () => Promise<{ status: number; body: any }>, string]> = [
        ['company name', () => stack.admin.post('/api/companies', { name: bad }), 'name'],
        ['company rename', () => stack.admin.patch(`/api/companies/${companyId}`, { name: bad }), 'name'],
        ['agent name', () => stack.admin.post(`/api/companies/${companyId}/agents`, { name: bad }), 'name'],
        ['agent role', () => stack.admin.post(`/api/companies/${companyId}/agents`, { name: 'ok', role: bad }), 'role'],
        ['issue title', () => stack.admin.post(`/api/companies/${companyId}/issues`, { title: bad }), 'title'],
        ['issue description', () => stack.admin.post(`/api/companies/${companyId}/issues`, { title: 't', description: bad }), 'description'],
        ['issue goalId', () => stack.admin.post(`/api/companies/${companyId}/issues`, { title: 't', goalId: bad }), 'goalId'],
        ['rename', () => owner.http.patch(`/api/issues/${issue.id}`, { title: bad }), 'title'],
        ['new description', () => owner.http.patch(`/api/issues/${issue.id}`, { description: bad }), 'description'],
        ['patch comment', () => owner.http.patch(`/api/issues/${issue.id}`, { comment: bad }), 'comment'],
        ['comment body', () => owner.http.post(`/api/issues/${issue.id}/comments`, { body: bad }), 'body'],
        ['release comment', () => owner.http.post(`/api/issues/${issue.id}/release`, { comment: bad }), 'comment'],
        ['closing comment', () => owner.http.post(`/api/issues/${issue.id}/close`, { comment: `doc:x ${bad}` }), 'comment'],
        ['a field name', () => owner.http.post(`/api/issues/${issue.id}/comments`, { body: 'ok', [bad]: 1 }), bad],
      ];
      // A URL cannot carry a lone surrogate (percent-decoding yields U+FFFD), but it can carry %00.
      if (bad === NUL) cases.push(['query', () => owner.http.get(`/api/companies/${companyId}/issues?status=todo%00`), 'query.status']);
      for (const [what, call, field] of cases) {
        const res = await call();
        assert.equal(res.status, 400, `${what} ${JSON.stringify(bad)}: ${res.status} ${JSON.stringify(res.body)}`);
        assert.equal(res.body.code, 'validation_error', what);
        assert.equal(res.body.details.field, field, what);
      }
    }
    assert.deepEqual(await snapshot(issue.id), before);
    const { rows: counts1 } = await stack.pool.query('SELECT (SELECT count(*) FROM companies) AS c, (SELECT count(*) FROM agents) AS a, (SELECT count(*) FROM issues) AS i');
    assert.deepEqual(counts1, counts0);
    // And the task still works.
    assert.equal((await owner.http.post(`/api/issues/${issue.id}/comments`, { body: 'plain text' })).status, 201);
  });

  it('the workflow itself refuses unstorable text from a client that bypasses the API', async () => {
    const issue = await checkedOut();
    const handle = stack.client.workflow.getHandle(workflowIdFor(issue.id));
    await assert.rejects(
      handle.executeUpdate(commentUpdate, { args: [{ actor: { kind: 'agent', agentId: owner.id, runId: 'r' }, body: NUL }] }),
      (err: any) => err.cause?.type === 'validation_error' && /NUL/.test(err.cause.message),
    );
    assert.equal((await snapshot(issue.id)).comments, 0);
  });

  it('PATCH status=done on a done issue, or by a non-owner, answers like POST /close: 409, nothing written', async () => {
    const issue = await checkedOut();
    const closed = await owner.http.patch(`/api/issues/${issue.id}`, { status: 'done', comment: 'Inline result: fixed.' });
    assert.equal(closed.status, 200, JSON.stringify(closed.body));
    const before = await snapshot(issue.id);
    const again = await owner.http.patch(`/api/issues/${issue.id}`, { status: 'done', comment: 'Inline result: fixed again.' });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'status_conflict');
    const byOther = await other.http.patch(`/api/issues/${issue.id}`, { status: 'done', comment: 'I am done', priority: 'low' });
    assert.equal(byOther.status, 409);
    assert.equal(byOther.body.code, 'not_owner', 'another agent\'s issue: whose it is comes first');
    assert.deepEqual(await snapshot(issue.id), before);

    const assigned = await createIssue(stack, companyId, { status: 'todo', assigneeAgentId: owner.id });
    const before2 = await snapshot(assigned.id);
    const notMine = await other.http.patch(`/api/issues/${assigned.id}`, { status: 'done', comment: 'I am done', priority: 'low' });
    assert.equal(notMine.status, 409);
    assert.equal(notMine.body.code, 'not_owner');
    assert.deepEqual(await snapshot(assigned.id), before2);
  });

  it('an operator checking out for another company\'s agent, or an unknown one: 422 invalid_assignee, nothing changes', async () => {
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    const elsewhere = await seedCompany(stack, 1);
    for (const agentId of [elsewhere.agents[0]!.id, '00000000-0000-4000-8000-000000000000']) {
      const res = await stack.admin.post(`/api/issues/${issue.id}/checkout`, { agentId, expectedStatuses: ALL_TAKEABLE });
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.equal(res.body.code, 'invalid_assignee');
    }
    const read = await stack.admin.get(`/api/issues/${issue.id}`);
    assert.equal(read.body.status, 'todo');
    assert.equal(read.body.version, 1);
    assert.equal((await stack.admin.post(`/api/issues/${issue.id}/checkout`, { agentId: owner.id, expectedStatuses: ALL_TAKEABLE })).status, 200);
  });

  it('an answer that cannot be recorded for replay is still the answer; a retry changes nothing twice', async () => {
    const issue = await checkedOut();
    await stack.pool.query(`CREATE FUNCTION refuse_replays() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF NEW.status_code IS NOT NULL THEN RAISE EXCEPTION 'no replays today' USING ERRCODE = '22023'; END IF; RETURN NEW; END $$`);
    await stack.pool.query('CREATE TRIGGER refuse_replays BEFORE UPDATE ON idempotency_records FOR EACH ROW EXECUTE FUNCTION refuse_replays()');
    try {
      const first = await owner.http.post(`/api/issues/${issue.id}/comments`, { body: 'once' }, { 'Idempotency-Key': 'k-unrecordable' });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const retry = await owner.http.post(`/api/issues/${issue.id}/comments`, { body: 'once' }, { 'Idempotency-Key': 'k-unrecordable' });
      assert.equal(retry.status, 201, JSON.stringify(retry.body));
      assert.equal(retry.body.id, first.body.id, 'the workflow answered the same update id the same way');
    } finally {
      await stack.pool.query('DROP TRIGGER refuse_replays ON idempotency_records; DROP FUNCTION refuse_replays()');
    }
    const comments = (await owner.http.get(`/api/issues/${issue.id}/comments?order=asc`)).body;
    assert.deepEqual(comments.map((c: any) => c.body), ['once']);
  });

  it('Content-Encoding: gzip over a body that is not gzip: 400 invalid_body before authentication, no error logged', async () => {
    const errors: unknown[] = [];
    const original = logger.error.bind(logger);
    (logger as any).error = (...args: unknown[]) => (errors.push(args), original(...(args as [any])));
    try {
      for (const path of ['/api/companies', '/api/issues/00000000-0000-4000-8000-000000000000/comments']) {
        const res = await fetch(stack.url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: '{"name":"x"}' });
        assert.equal(res.status, 400, path);
        assert.equal((await res.json()).code, 'invalid_body');
      }
      const unknown = await fetch(stack.url + '/api/companies', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'br2' }, body: '{}' });
      assert.equal(unknown.status, 415);
      assert.equal((await unknown.json()).code, 'unsupported_encoding');
      // Real gzip is fine.
      const real = await fetch(stack.url + '/api/companies', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${stack.adminKey}` },
        body: gzipSync(JSON.stringify({ name: 'Gzipped' })),
      });
      assert.equal(real.status, 201);
    } finally {
      (logger as any).error = original;
    }
    assert.deepEqual(errors, []);
  });

  it('strange shapes: 100,000 levels of nesting, a path that does not decode, a 40 KB query, whitespace-only names — each a 4xx with a code, never a 5xx', async () => {
    const issue = await checkedOut();
    const before = await snapshot(issue.id);
    for (const body of ['['.repeat(100_000) + ']'.repeat(100_000), '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000)]) {
      const res = await owner.http.request('PATCH', `/api/issues/${issue.id}`, body);
      assert.equal(res.status, 400, JSON.stringify(res.body).slice(0, 200));
      assert.equal(res.body.code, 'validation_error');
    }
    const badPath = await owner.http.get('/api/issues/%E0%A4%A');
    assert.equal(badPath.status, 400);
    assert.equal(badPath.body.code, 'validation_error');
    const hugeQuery = await owner.http.get(`/api/companies/${companyId}/issues?${Array.from({ length: 5000 }, (_, i) => `p${i}=x`).join('&')}`);
    assert.equal(hugeQuery.status, 431);
    assert.equal(hugeQuery.body.code, 'headers_too_large');
    for (const [what, call] of [
      ['title', () => owner.http.patch(`/api/issues/${issue.id}`, { title: '   ' })],
      ['company name', () => stack.admin.post('/api/companies', { name: ' \t ' })],
      ['agent name', () => stack.admin.post(`/api/companies/${companyId}/agents`, { name: '  ' })],
    ] as const) {
      const res = await call();
      assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'validation_error');
    }
    assert.deepEqual(await snapshot(issue.id), before);
  });
});
