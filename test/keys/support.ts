/** Minting keys for tests through the API, as an operator would. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Stack } from '../support/stack.js';

export const idem = () => ({ 'idempotency-key': `test-${randomBytes(8).toString('hex')}` });

export async function mintKey(stack: Stack, agentId: string, scopes: string[], extra: Record<string, unknown> = {}) {
  const res = await stack.admin.post('/api/agent-api-keys', { agent: { id: agentId }, scopes, ...extra }, idem());
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.data as { id: string; apiKey: string; scopes: string[] };
}
