/**
 * Issue 15 §4 against the real stack: AgentRail's key routes (create, list, read, rotate with and
 * without grace, revoke, usage), replays that show the same secret without storing it, expiry, a run
 * token's one task, and scopes narrowing availableActions.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mintRunToken } from '../../db/agent-keys.js';
import { hashKey } from '../../runtime/keys.js';
import { createIssue, seedCompany } from '../support/seed.js';
import { startStack, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';
import { idem, mintKey } from './support.js';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.stop());

test('create (201, AgentRail\'s shape, the secret once, only its hash stored), list, read, usage, revoke', async () => {
  const { agents } = await seedCompany(stack, 1);
  const agent = agents[0]!;
  const created = await stack.admin.post('/api/agent-api-keys', { agent: { id: agent.id, displayName: 'Coder', externalIdentities: [{ provider: 'github', subject: 'coder' }] }, scopes: ['tasks:write', 'tasks:read', 'tasks:read'], rateLimit: { windowSeconds: 30, maxRequests: 50 } }, idem());
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const d = created.body.data;
  assert.match(d.id, /^akey_[0-9a-f]{20}$/);
  assert.match(d.apiKey, /^sy_live_[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(Object.keys(d), ['id', 'apiKey', 'agent', 'scopes', 'rateLimit', 'status', 'createdAt', 'expiresAt', 'rotatedFromKeyId', 'availableActions']);
  assert.deepEqual(d.scopes, ['tasks:read', 'tasks:write'], 'de-duplicated and sorted');
  assert.deepEqual(d.rateLimit, { windowSeconds: 30, maxRequests: 50 });
  assert.deepEqual(d.agent, { id: agent.id, displayName: 'Coder', role: 'engineer', externalIdentities: [{ provider: 'github', subject: 'coder' }] });
  assert.deepEqual([d.status, d.expiresAt, d.rotatedFromKeyId], ['active', null, null]);
  assert.deepEqual(d.availableActions, ['rotate', 'view_usage']);
  assert.deepEqual(created.body.availableActions, ['rotate', 'view_usage']);
  const stored = await stack.pool.query('SELECT key_hash FROM agent_api_keys WHERE id = $1', [d.id]);
  assert.equal(stored.rows[0].key_hash, hashKey(d.apiKey));
  const everywhere = await stack.pool.query(`SELECT count(*)::int AS n FROM idempotency_records WHERE response_body::text LIKE '%' || $1 || '%'`, [d.apiKey]);
  assert.equal(everywhere.rows[0].n, 0, 'the secret is not in the idempotency record');

  const key = stack.as(d.apiKey, 'run-k1');
  assert.equal((await key.get('/api/agents/me')).body.id, agent.id, 'the key works as its agent');
  const list = await stack.admin.get(`/api/agent-api-keys?agentId=${agent.id}`);
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.data.map((k: any) => k.kind).sort(), ['agent_key', 'api_key'], 'the agent\'s own key and the new one');
  assert.ok(!JSON.stringify(list.body).includes(d.apiKey) && !JSON.stringify(list.body).includes(agent.key), 'never a secret');
  const one = await stack.admin.get(`/api/agent-api-keys/${d.id}`);
  assert.equal(one.body.data.lastUsedAt !== null, true);

  const usage = await stack.admin.get(`/api/agent-api-keys/${d.id}/usage`);
  assert.equal(usage.status, 200);
  const u = usage.body.data;
  assert.deepEqual(Object.keys(u), ['keyId', 'agent', 'scopes', 'status', 'lastUsedAt', 'totals', 'byScope', 'byOperation', 'rateLimit', 'availableActions']);
  assert.deepEqual(u.totals, { accepted: 1, denied: 0 });
  assert.deepEqual(u.byScope, [{ scope: 'tasks:read', count: 1 }]);
  assert.deepEqual(u.byOperation, [{ operation: 'get_my_agent', count: 1 }]);
  assert.deepEqual([u.rateLimit.windowSeconds, u.rateLimit.maxRequests, u.rateLimit.currentWindow.used, u.rateLimit.currentWindow.remaining], [30, 50, 1, 49]);
  assert.deepEqual(usage.body.availableActions, ['rotate']);

  // A scope it lacks: 403, counted as denied, not in the window.
  const denied = await key.get(`/api/agent-api-keys/${d.id}/usage`);
  assert.equal(denied.status, 403);
  assert.deepEqual(denied.body.error, { code: 'insufficient_scope', message: denied.body.error.message, details: { requiredScope: 'usage:read', grantedScopes: ['tasks:read', 'tasks:write'], availableActions: ['request_scope'] } });
  const after403 = (await stack.admin.get(`/api/agent-api-keys/${d.id}/usage`)).body.data;
  assert.deepEqual(after403.totals, { accepted: 1, denied: 1 });
  assert.equal(after403.rateLimit.currentWindow.used, 1);

  const revoked = await stack.admin.request('DELETE', `/api/agent-api-keys/${d.id}`);
  assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
  assert.equal(revoked.body.data.status, 'revoked');
  const again = await stack.admin.request('DELETE', `/api/agent-api-keys/${d.id}`);
  assert.deepEqual(again.body, revoked.body, 'revoking twice answers the same');
  const refused = await key.get('/api/agents/me');
  assert.equal(refused.status, 401);
  assert.deepEqual(refused.body.details, { availableActions: ['reauthenticate'] });
  assert.equal(refused.body.code, 'unauthorized');
  const arRefused = await key.get('/api/tasks/mine');
  assert.deepEqual(arRefused.body, { error: { code: 'unauthorized', message: 'Authentication failed.', details: { availableActions: ['reauthenticate'] } } });
});

test('20 concurrent creates with one Idempotency-Key: one key, twenty equal answers with the same secret; a later replay too; another body is 409', async () => {
  const { agents } = await seedCompany(stack, 1);
  const headers = idem();
  const body = { agent: { id: agents[0]!.id }, scopes: ['tasks:read'] };
  const answers = await Promise.all(Array.from({ length: 20 }, () => stack.admin.post('/api/agent-api-keys', body, headers)));
  for (const a of answers) assert.equal(a.status, 201, JSON.stringify(a.body));
  for (const a of answers) assert.deepEqual(a.body, answers[0]!.body);
  const rows = await stack.pool.query(`SELECT id FROM agent_api_keys WHERE agent_id = $1 AND kind = 'api_key'`, [agents[0]!.id]);
  assert.equal(rows.rowCount, 1);
  const replay = await stack.admin.post('/api/agent-api-keys', body, headers);
  assert.equal(replay.status, 201);
  assert.deepEqual(replay.body, answers[0]!.body, 'the replay shows the same secret, derived again');
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  assert.equal((await stack.as(replay.body.data.apiKey).get('/api/agents/me')).status, 200);
  const other = await stack.admin.post('/api/agent-api-keys', { ...body, scopes: ['tasks:write'] }, headers);
  assert.equal(other.status, 409);
  assert.equal(other.body.error.code, 'idempotency_key_reused');
});

test('create refuses: no or short Idempotency-Key, an unknown scope, AgentRail\'s agt_ ids, another agent (of any company) for an agent\'s key, a caller without auth:admin', async () => {
  const { agents } = await seedCompany(stack, 2);
  const [a, b] = agents as [(typeof agents)[0], (typeof agents)[0]];
  const stranger = (await seedCompany(stack, 1)).agents[0]!;
  const body = { agent: { id: a.id }, scopes: ['tasks:read'] };
  for (const headers of [{}, { 'idempotency-key': 'short' }] as Array<Record<string, string>>) {
    const r = await stack.admin.post('/api/agent-api-keys', body, headers);
    assert.equal(r.status, 400);
    assert.equal(r.body.error.message, 'Idempotency-Key header is required.');
  }
  const bad = await stack.admin.post('/api/agent-api-keys', { ...body, scopes: ['tasks:read', 'tasks:everything'] }, idem());
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'validation_error');
  assert.equal(bad.body.error.details.unsupportedScope, 'tasks:everything');
  assert.equal(bad.body.error.details.supportedScopes.length, 14);
  for (const id of ['agt_coder_1', '3f2b8c1e-6a4d-4e8f-9b1c-2d3e4f5a6b7c']) {
    const r = await stack.admin.post('/api/agent-api-keys', { ...body, agent: { id } }, idem());
    assert.equal(r.status, 404, id);
  }
  for (const limit of [{ windowSeconds: 9, maxRequests: 1 }, { windowSeconds: 60, maxRequests: 10_001 }, { windowSeconds: 60.5, maxRequests: 5 }]) {
    assert.equal((await stack.admin.post('/api/agent-api-keys', { ...body, rateLimit: limit }, idem())).status, 400, JSON.stringify(limit));
  }
  // An agent key holding auth:admin (every agent's own key does) mints for its own agent only: another
  // agent of its company (it would act as that agent) or of another company does not exist for it.
  const mine = await a.http.post('/api/agent-api-keys', { agent: { id: a.id }, scopes: ['tasks:read'] }, idem());
  assert.equal(mine.status, 201, JSON.stringify(mine.body));
  const sibling = await a.http.post('/api/agent-api-keys', { agent: { id: b.id }, scopes: ['tasks:read'] }, idem());
  assert.equal(sibling.status, 404, JSON.stringify(sibling.body));
  const theirs = await a.http.post('/api/agent-api-keys', { agent: { id: stranger.id }, scopes: ['tasks:read'] }, idem());
  assert.equal(theirs.status, 404);
  const bKey = (await stack.admin.get(`/api/agent-api-keys?agentId=${b.id}`)).body.data[0].id;
  for (const path of [`/api/agent-api-keys/${bKey}`, `/api/agent-api-keys/${(await stack.admin.get(`/api/agent-api-keys?agentId=${stranger.id}`)).body.data[0].id}`]) {
    assert.equal((await a.http.get(path)).status, 404, 'another agent\'s key does not exist for it');
  }
  assert.equal((await a.http.request('DELETE', `/api/agent-api-keys/${bKey}`)).status, 404, 'nor can it revoke one');
  assert.equal((await a.http.post(`/api/agent-api-keys/${bKey}/rotate`, undefined)).status, 401, 'nor rotate one (AgentRail\'s unknown-key answer)');
  assert.ok((await a.http.get('/api/agent-api-keys')).body.data.every((k: any) => k.agent.id === a.id), 'its list is its own keys');
  // A narrower key mints nothing wider than itself.
  const readOnly = await mintKey(stack, a.id, ['auth:admin']);
  assert.equal((await stack.as(readOnly.apiKey).post('/api/agent-api-keys', { agent: { id: a.id }, scopes: ['ship:write'] }, idem())).status, 201, 'auth:admin stands for every scope');
  const narrow = await mintKey(stack, a.id, ['tasks:read', 'tasks:write']);
  const r = await stack.as(narrow.apiKey).post('/api/agent-api-keys', body, idem());
  assert.equal(r.status, 403);
  assert.equal(r.body.error.details.requiredScope, 'auth:admin');
});

test('rotate: the old key stops at once; with graceSeconds it works until the grace ends; rotating a key that is not active is 409', async () => {
  const { agents } = await seedCompany(stack, 1);
  const agent = agents[0]!;
  const first = await mintKey(stack, agent.id, ['tasks:read']);
  const rotated = await stack.admin.post(`/api/agent-api-keys/${first.id}/rotate`, undefined);
  assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
  assert.equal(rotated.body.data.rotatedFromKeyId, first.id);
  assert.deepEqual(rotated.body.data.scopes, ['tasks:read'], 'inherited');
  assert.notEqual(rotated.body.data.apiKey, first.apiKey);
  assert.equal((await stack.as(first.apiKey).get('/api/agents/me')).status, 401, 'the old key stopped at once');
  assert.equal((await stack.as(rotated.body.data.apiKey).get('/api/agents/me')).status, 200);
  const stale = await stack.admin.post(`/api/agent-api-keys/${first.id}/rotate`, {});
  assert.equal(stale.status, 409);
  assert.deepEqual(stale.body.error, { code: 'conflict', message: 'Agent API key is not active.', details: { keyId: first.id, currentStatus: 'rotated', availableActions: ['retry'] } });

  // With an Idempotency-Key, a retried rotation answers the same new key.
  const headers = idem();
  const withKey = await stack.admin.post(`/api/agent-api-keys/${rotated.body.data.id}/rotate`, { graceSeconds: 3600, scopes: ['tasks:read', 'ci:read'] }, headers);
  assert.equal(withKey.status, 201, JSON.stringify(withKey.body));
  const retried = await stack.admin.post(`/api/agent-api-keys/${rotated.body.data.id}/rotate`, { graceSeconds: 3600, scopes: ['tasks:read', 'ci:read'] }, headers);
  assert.deepEqual(retried.body, withKey.body);
  assert.equal((await stack.as(rotated.body.data.apiKey).get('/api/agents/me')).status, 200, 'in its grace, the rotated key still works');
  const view = await stack.admin.get(`/api/agent-api-keys/${rotated.body.data.id}`);
  assert.equal(view.body.data.status, 'rotated');
  assert.ok(view.body.data.graceEndsAt);

  // A short grace: it ends by the database's clock, and then the key is refused.
  const third = await stack.admin.post(`/api/agent-api-keys/${withKey.body.data.id}/rotate`, { graceSeconds: 1 });
  assert.equal((await stack.as(withKey.body.data.apiKey).get('/api/agents/me')).status, 200, 'still in its grace');
  await waitFor('the grace to end', async () => (await stack.pool.query('SELECT grace_until <= now() AS over FROM agent_api_keys WHERE id = $1', [withKey.body.data.id])).rows[0].over, (over) => over === true);
  assert.equal((await stack.as(withKey.body.data.apiKey).get('/api/agents/me')).status, 401, 'after its grace it is refused');
  assert.equal(third.status, 201);

  for (const graceSeconds of [-1, 86_401, 1.5]) assert.equal((await stack.admin.post(`/api/agent-api-keys/${third.body.data.id}/rotate`, { graceSeconds })).status, 400);
  // AgentRail's answers for ids it does not know.
  const unknown = await stack.admin.post('/api/agent-api-keys/akey_00000000000000000000/rotate', {});
  assert.equal(unknown.status, 401);
  assert.equal(unknown.body.error.message, 'Agent API key was not found.');
  assert.equal((await stack.admin.get('/api/agent-api-keys/akey_00000000000000000000/usage')).status, 401);
  assert.equal((await stack.admin.get('/api/agent-api-keys/akey_00000000000000000000')).status, 404);
  assert.deepEqual((await stack.admin.get('/api/agent-api-keys/not-a-key')).body.error.message, 'Not found');
});

test('an expired key is 401 "Agent API key has expired." naming the key, and counted as denied', async () => {
  const { agents } = await seedCompany(stack, 1);
  const k = await mintKey(stack, agents[0]!.id, ['tasks:read'], { expiresAt: '2020-01-01T00:00:00Z' });
  const r = await stack.as(k.apiKey).get('/api/tasks/mine');
  assert.equal(r.status, 401);
  assert.deepEqual(r.body, { error: { code: 'unauthorized', message: 'Agent API key has expired.', details: { keyId: k.id, availableActions: ['reauthenticate'] } } });
  const usage = (await stack.admin.get(`/api/agent-api-keys/${k.id}/usage`)).body.data;
  assert.equal(usage.status, 'expired');
  assert.deepEqual(usage.totals, { accepted: 0, denied: 1 });
  assert.equal((await stack.admin.post(`/api/agent-api-keys/${k.id}/rotate`, {})).body.error.details.currentStatus, 'expired');
});

test('a run token is its task\'s: every other task is 404 on /api/issues, /api/tasks and the Linear task routes, and lists leave them out', async () => {
  const { companyId, agents } = await seedCompany(stack, 1);
  const agent = agents[0]!;
  const own = await createIssue(stack, companyId, { status: 'todo', assigneeAgentId: agent.id });
  const other = await createIssue(stack, companyId, { status: 'todo', assigneeAgentId: agent.id });
  const token = await mintRunToken(stack.pool, { agentId: agent.id, issueId: own.id, runId: 'run-one-task', ttlSeconds: 600 });
  const run = stack.as(token);
  assert.equal((await run.get(`/api/tasks/${own.id}`)).status, 200);
  assert.equal((await run.get(`/api/issues/${own.id}`)).status, 200);
  const missing = await run.get(`/api/tasks/${other.id}`);
  const nowhere = await run.get('/api/tasks/3f2b8c1e-6a4d-4e8f-9b1c-2d3e4f5a6b7c');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.message, nowhere.body.error.message, 'as if it did not exist');
  for (const [method, path, body] of [
    ['GET', `/api/issues/${other.id}`], ['GET', `/api/issues/${other.id}/comments`], ['POST', `/api/issues/${other.id}/comments`, { body: 'hi' }],
    ['GET', `/api/tasks/${other.id}/ci-status`], ['POST', `/api/tasks/${other.id}/start`, {}],
    ['POST', `/api/providers/linear/tasks/${other.id}/comments`, { body: 'hi' }],
  ] as Array<[string, string, unknown?]>) {
    const r = await run.request(method, path, body, { 'idempotency-key': `k-${Math.random()}` });
    assert.equal(r.status, 404, `${method} ${path}: ${JSON.stringify(r.body)}`);
  }
  assert.deepEqual((await run.get('/api/tasks/mine')).body.data.map((t: any) => t.id), [own.id]);
  assert.deepEqual((await run.get(`/api/companies/${companyId}/issues`)).body.map((t: any) => t.id), [own.id]);
  assert.equal((await agent.http.get(`/api/tasks/${other.id}`)).status, 200, 'the agent\'s own key sees both');
  // It may not mint keys nor read other keys' usage.
  assert.equal((await run.post('/api/agent-api-keys', { agent: { id: agent.id }, scopes: ['auth:admin'] }, idem())).status, 403);
  const started = await run.post(`/api/tasks/${own.id}/start`, {});
  assert.equal(started.status, 202, JSON.stringify(started.body));
});

test('scopes narrow availableActions: no tasks:write, no write actions; no ship:write, no ship; the workflow\'s own offer is never widened', async () => {
  const { companyId, agents } = await seedCompany(stack, 1);
  const agent = agents[0]!;
  const issue = await createIssue(stack, companyId, { status: 'todo', assigneeAgentId: agent.id });
  const full = (await agent.http.get(`/api/tasks/${issue.id}`)).body;
  assert.ok(full.availableActions.includes('start'), JSON.stringify(full.availableActions));
  const reader = stack.as((await mintKey(stack, agent.id, ['tasks:read'])).apiKey);
  const read = await reader.get(`/api/tasks/${issue.id}`);
  assert.deepEqual(read.body.availableActions, []);
  assert.deepEqual(read.body.data.availableActions, []);
  const issueView = await reader.get(`/api/issues/${issue.id}`);
  assert.deepEqual(issueView.body.availableActions, [], 'the issue half too');
  const refused = await reader.post(`/api/tasks/${issue.id}/start`, {});
  assert.equal(refused.status, 403, 'and the write route needs the scope');
  const worker = stack.as((await mintKey(stack, agent.id, ['tasks:read', 'tasks:write'])).apiKey, 'run-narrow');
  const started = await worker.post(`/api/tasks/${issue.id}/start`, {});
  assert.equal(started.status, 202, JSON.stringify(started.body));
  assert.deepEqual(started.body.availableActions, (await agent.http.get(`/api/tasks/${issue.id}`)).body.availableActions.filter((a: string) => !['ship', 'rollback', 'view_ci_status', 'view_review_feedback', 'sync_linear'].includes(a)));
  // A submission in artifact mode, then CI and review pass: ship is offered to the agent's own key, not to one without ship:write.
  const sha = 'c'.repeat(40);
  const submitted = await worker.post(`/api/tasks/${issue.id}/submit`, { mode: 'artifact', summary: 'done', artifacts: [{ type: 'commit', url: `https://git.example/a/b/commit/${sha}` }], checks: [{ name: 'ci', status: 'passed' }] }, idem());
  assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
  assert.ok((await stack.admin.post(`/api/tasks/${issue.id}/checks`, { headSha: sha, checks: [{ name: 'ci', status: 'passed' }] })).status < 300);
  assert.ok((await stack.admin.post(`/api/tasks/${issue.id}/review`, { outcome: 'approved' })).status < 300);
  assert.ok((await agent.http.get(`/api/tasks/${issue.id}`)).body.availableActions.includes('ship'));
  const mine = await worker.get(`/api/tasks/${issue.id}`);
  assert.ok(!mine.body.availableActions.includes('ship'), JSON.stringify(mine.body.availableActions));
  const ship = await worker.post(`/api/tasks/${issue.id}/ship`, { expectedHeadSha: sha }, idem());
  assert.equal(ship.status, 403);
  assert.equal(ship.body.error.details.requiredScope, 'ship:write');
});
