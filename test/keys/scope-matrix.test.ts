/**
 * Issue 15 §4, the scope matrix generated from the route table: every route × an agent key missing
 * exactly its scope (403 insufficient_scope naming it) and a key holding only that scope (never 403
 * insufficient_scope). A route added to the table is in the matrix the day it lands.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ROUTE_SCOPES } from '../../api/route-scopes.js';
import { ADMIN_SCOPE, SCOPES, type Scope } from '../../domain/scopes.js';
import { seedCompany } from '../support/seed.js';
import { startStack, type Stack } from '../support/stack.js';
import { mintKey } from './support.js';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.stop());

/** Values no resource has: the answer is decided by the gate, or by a 4xx of the route's own. */
const PARAMS: Record<string, string> = {
  issueId: '3f2b8c1e-6a4d-4e8f-9b1c-2d3e4f5a6b7c', companyId: '3f2b8c1e-6a4d-4e8f-9b1c-2d3e4f5a6b7d', goalId: '3f2b8c1e-6a4d-4e8f-9b1c-2d3e4f5a6b7e',
  sourceId: '3f2b8c1e-6a4d-4e8f-9b1c-2d3e4f5a6b7f', agentId: '3f2b8c1e-6a4d-4e8f-9b1c-2d3e4f5a6b70', commentId: '3f2b8c1e-6a4d-4e8f-9b1c-2d3e4f5a6b71',
  interactionId: '3f2b8c1e-6a4d-4e8f-9b1c-2d3e4f5a6b72', key: 'notes', keyId: 'akey_00000000000000000000', subscriptionId: 'evsub_00000000000000000000',
};

/** One request as a key; an event stream is answered by its status and headers, then closed (it never ends by itself). */
async function probe(key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const abort = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${key}`, 'x-run-id': 'run-matrix' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(stack.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: abort.signal });
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    abort.abort();
    return { status: res.status, body: undefined };
  }
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed };
}

test('every route of the table: a key missing exactly its scope is 403 insufficient_scope; a key with only that scope is not', async () => {
  const { agents } = await seedCompany(stack, 1);
  const agent = agents[0]!;
  const limit = { windowSeconds: 3600, maxRequests: 10_000 };
  const without = new Map<Scope, string>();
  const only = new Map<Scope, string>();
  for (const scope of SCOPES) {
    // auth:admin satisfies every scope: a key missing any scope lacks it too.
    without.set(scope, (await mintKey(stack, agent.id, SCOPES.filter((s) => s !== scope && s !== ADMIN_SCOPE), { rateLimit: limit })).apiKey);
    only.set(scope, (await mintKey(stack, agent.id, [scope], { rateLimit: limit })).apiKey);
  }
  const gated = ROUTE_SCOPES.filter((r) => r.scope !== null);
  assert.ok(gated.length > 70, `${gated.length} routes`);
  const wrong: string[] = [];
  for (const route of gated) {
    const path = route.path.replace(/:(\w+)/g, (_m, name: string) => PARAMS[name] ?? 'x');
    const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : {};
    const refused = await probe(without.get(route.scope!)!, route.method, path, body);
    const details = refused.body?.error?.details ?? refused.body?.details;
    const code = refused.body?.error?.code ?? refused.body?.code;
    if (refused.status !== 403 || code !== 'insufficient_scope' || details?.requiredScope !== route.scope) wrong.push(`${route.method} ${route.path} without ${route.scope}: ${refused.status} ${JSON.stringify(refused.body)}`);
    const allowed = await probe(only.get(route.scope!)!, route.method, path, body);
    const allowedCode = allowed.body?.error?.code ?? allowed.body?.code;
    // A 401 of the route's own (AgentRail's for a key id it does not know) is an answer; the key's own refusal is not.
    const keyRefused = allowed.status === 401 && (allowed.body?.error?.message ?? allowed.body?.error) === 'Authentication failed.';
    if (allowedCode === 'insufficient_scope' || keyRefused || allowed.status === 429) wrong.push(`${route.method} ${route.path} with ${route.scope}: ${allowed.status} ${JSON.stringify(allowed.body)}`);
  }
  assert.deepEqual(wrong, []);
});

test('the operator key passes every route\'s gate; a path the table does not name needs auth:admin', async () => {
  const { agents } = await seedCompany(stack, 1);
  for (const route of ROUTE_SCOPES.filter((r) => r.scope !== null && r.method === 'GET')) {
    const r = await probe(stack.adminKey, 'GET', route.path.replace(/:(\w+)/g, (_m, name: string) => PARAMS[name] ?? 'x'));
    assert.notEqual(r.body?.error?.code ?? r.body?.code, 'insufficient_scope', route.path);
  }
  const reader = stack.as((await mintKey(stack, agents[0]!.id, ['tasks:read'])).apiKey);
  const unlisted = await reader.request('PUT', '/api/tasks/mine');
  assert.equal(unlisted.status, 403);
  assert.equal(unlisted.body.error.details.requiredScope, 'auth:admin');
  assert.equal((await agents[0]!.http.request('PUT', '/api/tasks/mine')).status, 404, 'an agent\'s own key (every scope) hears there is no such route');
});
