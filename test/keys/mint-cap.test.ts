/** An agent minting keys for itself is capped (each key has its own rate window), also when it mints many at once. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { seedCompany } from '../support/seed.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack({ config: { maxKeysPerAgent: 3 } });
});
after(() => stack.stop());

test('an agent holds at most SWITCHYARD_MAX_KEYS_PER_AGENT live keys it minted, however many it asks for at once; revoking one makes room', async () => {
  const { agents } = await seedCompany(stack, 1);
  const agent = agents[0]!;
  const mint = (i: number) => agent.http.post('/api/agent-api-keys', { agent: { id: agent.id }, scopes: ['tasks:read'] }, { 'idempotency-key': `mint-cap-${i}-xxxx` });
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => mint(i)));
  const made = answers.filter((a) => a.status === 201);
  const refused = answers.filter((a) => a.status === 409);
  assert.equal(made.length, 3, JSON.stringify(answers.map((a) => a.status)));
  assert.equal(refused.length, 7);
  assert.equal(refused[0]!.body.error.details.limit, 3);
  assert.equal((await agent.http.request('DELETE', `/api/agent-api-keys/${made[0]!.body.data.id}`)).status, 200);
  assert.equal((await mint(100)).status, 201, 'room again after a revoke');
  // The operator is not capped: it decides what an agent holds.
  assert.equal((await stack.admin.post('/api/agent-api-keys', { agent: { id: agent.id }, scopes: ['tasks:read'] }, { 'idempotency-key': 'mint-cap-operator' })).status, 201);
});
