/** Temporal unreachable: every call ends under its deadline as 503 temporal_unavailable with Retry-After, and nothing is left half-done. */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../api/app.js';
import { ReadModel } from '../../api/read-model.js';
import { TaskGateway } from '../../api/task-gateway.js';
import { createTemporalClient } from '../../runtime/temporal.js';
import { HttpClient } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';
import { ALL_TAKEABLE, createIssue, seedCompany } from '../support/seed.js';
import { freePort } from '../../scripts/stack/ports.js';

describe('Temporal down', { timeout: 60_000 }, () => {
  let stack: Stack;
  let server: Server;
  let down: HttpClient;
  let closeClient: () => Promise<void>;

  before(async () => {
    stack = await startStack();
    // A second facade over the same database whose Temporal address has nothing listening.
    const config = { ...stack.config, temporalAddress: `127.0.0.1:${await freePort()}`, temporalCallTimeoutMs: 1_500 };
    const { client, connection } = createTemporalClient(config);
    closeClient = () => connection.close().catch(() => {});
    const app = createApp({ config, pool: stack.pool, reads: new ReadModel(stack.pool), tasks: new TaskGateway(client, config), adminKey: stack.adminKey });
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    down = new HttpClient(`http://127.0.0.1:${(server.address() as { port: number }).port}`, stack.adminKey);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await closeClient();
    await stack.stop();
  });

  it('an update answers 503 temporal_unavailable with Retry-After instead of hanging; nothing changes', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const issue = await createIssue(stack, companyId, { status: 'todo' });
    const agent = new HttpClient(down.baseUrl, agents[0]!.key, 'run-down');
    const res = await agent.post(`/api/issues/${issue.id}/checkout`, { agentId: agents[0]!.id, expectedStatuses: ALL_TAKEABLE });
    assert.equal(res.status, 503);
    assert.equal(res.body.code, 'temporal_unavailable');
    assert.ok(Number(res.headers.get('retry-after')) > 0);
    assert.equal((await stack.admin.get(`/api/issues/${issue.id}`)).body.status, 'todo');
    // Reads come from Postgres and keep working.
    assert.equal((await agent.get(`/api/issues/${issue.id}`)).status, 200);
  });

  it('creating an issue while Temporal is down leaves no row behind', async () => {
    const { companyId } = await seedCompany(stack, 0);
    const res = await down.post(`/api/companies/${companyId}/issues`, { title: 'orphan?' });
    assert.equal(res.status, 503);
    assert.equal(res.body.code, 'temporal_unavailable');
    const { rows } = await stack.pool.query('SELECT count(*)::int AS n FROM issues WHERE company_id = $1', [companyId]);
    assert.equal(rows[0].n, 0);
  });

  it('/readyz says which dependency is down', async () => {
    const res = await down.get('/readyz');
    assert.equal(res.status, 503);
    assert.equal(res.body.checks.temporal.ok, false);
    assert.equal(res.body.checks.postgres.ok, true);
  });
  it('saving routing rules while Temporal is down: 503 saying the rules are saved and which tasks were not told, never a silent 200 (hostile pass)', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const issue = await createIssue(stack, companyId, { status: 'backlog' });
    // An unroutable tracker task as the read model shows it (the rule change asks such tasks to route again).
    await stack.pool.query(`UPDATE issues SET lifecycle = '{"stage":"routing","routing":{"state":"unroutable"}}'::jsonb WHERE id = $1`, [issue.id]);
    const rules = [{ id: 'all', name: 'All', match: {}, target: { agentId: agents[0]!.id } }];
    const res = await down.request('PUT', `/api/companies/${companyId}/routing`, { rules });
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.code, 'temporal_unavailable');
    assert.deepEqual([res.body.details.rulesSaved, res.body.details.notRerouted], [true, [issue.id]]);
    assert.deepEqual((await stack.admin.get(`/api/companies/${companyId}/routing`)).body.rules.map((r: { id: string }) => r.id), ['all'], 'the rules are saved');
  });
});
