/** `npm run cli -- keys …` against the real API: create, list, rotate, usage, revoke, with exit codes a script can use. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runCli } from '../support/cli.js';
import { seedCompany } from '../support/seed.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.stop());

test('keys create, list, rotate --grace, usage, revoke; a refusal exits 1', async () => {
  const { agents } = await seedCompany(stack, 1);
  const agent = agents[0]!;
  const cli = (args: string[]) => runCli(stack.url, stack.adminKey, args);
  const created = await cli(['keys', 'create', agent.id, '--scopes', 'tasks:read,ci:read', '--window', '30', '--max', '100', '--idempotency-key', 'cli-key-create-1']);
  assert.equal(created.code, 0, created.stderr);
  const key = created.out.data;
  assert.deepEqual([key.scopes, key.rateLimit], [['ci:read', 'tasks:read'], { windowSeconds: 30, maxRequests: 100 }]);
  const again = await cli(['keys', 'create', agent.id, '--scopes', 'tasks:read,ci:read', '--window', '30', '--max', '100', '--idempotency-key', 'cli-key-create-1']);
  assert.equal(again.out.data.apiKey, key.apiKey, 'a retry with the same key shows the same secret');
  assert.equal((await stack.as(key.apiKey).get('/api/tasks/mine')).status, 200);

  const listed = await cli(['keys', 'list', '--agent', agent.id, '--kind', 'api_key']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(listed.out.data.map((k: any) => k.id), [key.id]);

  const rotated = await cli(['keys', 'rotate', key.id, '--grace', '600']);
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.equal(rotated.out.data.rotatedFromKeyId, key.id);
  assert.match(rotated.stderr, /Idempotency-Key: cli-/, 'the key it made up is printed, to retry with');
  const usage = await cli(['keys', 'usage', key.id]);
  assert.equal(usage.code, 0, usage.stderr);
  assert.deepEqual(usage.out.data.byOperation, [{ operation: 'list_my_tasks', count: 1 }]);

  const revoked = await cli(['keys', 'revoke', rotated.out.data.id]);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.equal(revoked.out.data.status, 'revoked');
  const refused = await cli(['keys', 'create', agent.id, '--scopes', 'tasks:all']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /HTTP 400[\s\S]*unsupportedScope/);
});
