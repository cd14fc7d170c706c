/**
 * Issue 15 §4: the one route table of scopes names every route the app serves (a route added without
 * an entry fails here), and matches paths as Express does, so no spelling of a path slips past it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createApp } from '../../api/app.js';
import { ROUTE_SCOPES, ruleFor } from '../../api/route-scopes.js';
import { ACTION_SCOPES, SCOPES, narrowActions } from '../../domain/scopes.js';
import { loadConfig } from '../../runtime/config.js';

type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };

function served(stack: Layer[]): Array<[string, string]> {
  return stack.flatMap((layer) => {
    if (layer.route) return Object.keys(layer.route.methods).filter((m) => m !== '_all').map((m) => [m.toUpperCase(), layer.route!.path] as [string, string]);
    return layer.handle?.stack ? served(layer.handle.stack) : [];
  });
}

/** Routes the events change serves; in the table already, so they are scoped the day they land. */
const PENDING = new Set(['GET /api/task-events/stream', 'GET /api/event-subscriptions', 'GET /api/event-subscriptions/:subscriptionId', 'POST /api/event-subscriptions', 'DELETE /api/event-subscriptions/:subscriptionId']);

const sample = (path: string) => path.replace(/:(\w+)/g, (_m, name: string) => `${name}-value`);

test('every route the app serves under /api has its entry in the route table, and every entry is served', () => {
  const app = createApp({ config: loadConfig({}), pool: {} as never, reads: {} as never, tasks: {} as never, adminKey: 'x' });
  const routes = served((app as unknown as { router: { stack: Layer[] } }).router.stack).filter(([, p]) => p.startsWith('/api/'));
  assert.ok(routes.length > 60, `found ${routes.length} routes`);
  const missing = routes.filter(([method, path]) => ruleFor(method, sample(path))?.path !== path).map(([m, p]) => `${m} ${p}`);
  assert.deepEqual(missing, [], 'a served route needs its scope and operation in api/route-scopes.ts');
  const servedKeys = new Set(routes.map(([m, p]) => `${m} ${p}`));
  const unserved = ROUTE_SCOPES.map((r) => `${r.method} ${r.path}`).filter((k) => !servedKeys.has(k) && !PENDING.has(k));
  assert.deepEqual(unserved, [], 'every entry names a route that exists');
  for (const r of ROUTE_SCOPES) assert.ok(r.scope === null || (SCOPES as readonly string[]).includes(r.scope), `${r.path}: ${r.scope}`);
  assert.equal(new Set(ROUTE_SCOPES.map((r) => `${r.method} ${r.path}`)).size, ROUTE_SCOPES.length, 'one entry per route');
});

test('paths match as Express matches them: any case, a trailing slash, the more literal route first; unknown paths match nothing', () => {
  assert.equal(ruleFor('GET', '/api/tasks/mine')?.operation, 'list_my_tasks');
  assert.equal(ruleFor('GET', '/API/Tasks/MINE/')?.operation, 'list_my_tasks');
  assert.equal(ruleFor('GET', '/api/tasks/abc')?.operation, 'get_task');
  assert.equal(ruleFor('HEAD', '/api/tasks/abc')?.operation, 'get_task');
  assert.equal(ruleFor('POST', '/api/TASKS/abc/Ship/')?.scope, 'ship:write');
  assert.equal(ruleFor('GET', '/api/tasks/a%2Fb/ci-status')?.scope, 'ci:read');
  assert.equal(ruleFor('GET', '/api/tasks/a/b/ci-status'), undefined);
  assert.equal(ruleFor('PUT', '/api/tasks/abc'), undefined);
  assert.equal(ruleFor('GET', '/api/tasks//ci-status'), undefined);
});

test('every action the API offers has the scope it needs; scopes only ever remove actions', () => {
  const offered = ['checkout', 'update', 'comment', 'release', 'close', 'heartbeat', 'delegate', 'request_confirmation', 'start', 'submit', 'fix', 'ship', 'rollback', 'resolve_blocker', 'blocker', 'view_ci_status', 'view_review_feedback', 'get_task', 'sync_linear', 'report_checks', 'record_review'];
  assert.deepEqual(offered.filter((a) => !ACTION_SCOPES[a]), []);
  assert.deepEqual(narrowActions(['submit', 'ship', 'view_ci_status', 'retry'], ['tasks:read']), ['retry']);
  assert.deepEqual(narrowActions(['submit', 'ship', 'view_ci_status'], ['tasks:write', 'ci:read']), ['submit', 'view_ci_status']);
  assert.deepEqual(narrowActions(['submit', 'ship'], ['auth:admin']), ['submit', 'ship']);
});
