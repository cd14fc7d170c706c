/** The OpenAPI document names every route the app serves (and bodies come from the validating schemas). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createApp } from '../../api/app.js';
import { openApiDocument } from '../../api/openapi.js';
import { loadConfig } from '../../runtime/config.js';

type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };

function routes(stack: Layer[]): Array<[string, string]> {
  return stack.flatMap((layer) => {
    if (layer.route) return Object.keys(layer.route.methods).map((m) => [m, layer.route!.path] as [string, string]);
    return layer.handle?.stack ? routes(layer.handle.stack) : [];
  });
}

test('every route of the app is in /api/openapi.json, with its method', () => {
  const app = createApp({ config: loadConfig({}), pool: {} as never, reads: {} as never, tasks: {} as never, adminKey: 'x' });
  const served = routes((app as unknown as { router: { stack: Layer[] } }).router.stack).filter(([, p]) => p !== '/api/openapi.json');
  assert.ok(served.length > 30, `found ${served.length} routes`);
  const documented = openApiDocument.paths as Record<string, Record<string, unknown>>;
  const missing = served.filter(([method, p]) => {
    const key = p.replace(/:(\w+)/g, '{$1}');
    const alias = key.replace('/api/companies/{companyId}/sources/{sourceId}', '/api/sources/{sourceId}');
    return !documented[key]?.[method] && !documented[alias]?.[method];
  });
  assert.deepEqual(missing, []);
});

test('request bodies are the zod schemas\' JSON Schema (strict: unknown fields refused)', () => {
  const ship = (openApiDocument.paths as any)['/api/tasks/{issueId}/ship'].post.requestBody.content['application/json'].schema;
  assert.equal(ship.additionalProperties, false);
  assert.deepEqual(ship.required, ['expectedHeadSha']);
  const codes = JSON.stringify((openApiDocument.paths as any)['/api/tasks/{issueId}/ship'].post.responses[409]);
  for (const code of ['head_sha_mismatch', 'not_shippable', 'idempotency_in_progress']) assert.match(codes, new RegExp(code));
});
