/** A request as generated: the route, the principal, and every path parameter, query, header and body, still symbolic. */
import fc from 'fast-check';
import { UUID_EDGES, validArb, type Arb } from './field-arbitraries.js';
import { bodyArb, queryArb } from './bodies.js';
import { CIRCLE_HOOK_ROUTE, HOOKS, LINEAR_HOOK_ROUTE, LINEAR_TASK_ROUTES, OPERATOR_ROUTES, type RouteDef } from './routes.js';
import { Big, NO_BODY, Raw, S } from './symbolic.js';

export type Principal = 'operator' | 'holder' | 'peer' | 'stranger' | 'anonymous' | 'garbage';
const PRINCIPALS: Principal[] = ['operator', 'holder', 'peer', 'stranger', 'anonymous', 'garbage'];

export interface Spec {
  route: RouteDef;
  principal: Principal;
  garbage: number;
  path: Record<string, unknown>;
  query: Array<[string, unknown]>;
  body: unknown;
  runId: unknown;
  idempotencyKey: unknown;
  contentType?: string;
  contentEncoding?: string;
  webhook?: { provider: 'github' | 'linear' | 'circleci'; event: string; delivery: unknown; sign: 'valid' | 'wrong' | 'none' };
}

const PATH_HOSTILE: unknown[] = [
  'not-a-uuid', '0', '-1', ' ', new Raw(['%00']), new Raw(['%ZZ']), new Raw(['..%2F..%2Fcompanies']), new Raw(['%F0%9F%92']), new Raw(['%C0%AE']), 'ACME-0', 'ACME-999999999999999999', '__proto__', 'constructor',
  new Big('a', 3000), new Big('a', 20_000), ...UUID_EDGES,
];
/** The source a webhook route is usually sent for: a Linear delivery to the lane's Linear source, a CircleCI one to its repository's. */
const HOOK_SOURCE: Record<string, unknown> = { [LINEAR_HOOK_ROUTE]: S('linearSource'), [CIRCLE_HOOK_ROUTE]: S('ghSource') };
export function pathArb(name: string, scope: RouteDef['scope'], route?: string): Arb {
  const pick = (usual: unknown[], weight = 85) => fc.oneof({ weight, arbitrary: fc.constantFrom(...usual) }, { weight: 100 - weight - 5, arbitrary: fc.constantFrom(...PATH_HOSTILE) }, { weight: 5, arbitrary: fc.uuid() });
  switch (name) {
    case 'issueId':
      return fc.oneof({ weight: 86, arbitrary: fc.constant(S('task')) }, { weight: 3, arbitrary: fc.constantFrom(S('identifier'), S('TASK')) }, { weight: 3, arbitrary: fc.constantFrom(S('otherTask')) }, { weight: 8, arbitrary: pick([S('task')], 0) });
    case 'companyId':
      return pick([S('company'), S('company'), S('company'), S('otherCompany')]);
    case 'goalId':
      return pick([S('laneGoal'), S('laneGoal'), S('goalB')]);
    case 'sourceId': {
      const usual = route && HOOK_SOURCE[route];
      return pick(usual ? [usual, usual, usual, S('source')] : [S('source'), S('source'), S('source'), S('otherSource')]);
    }
    case 'agentId':
      // Only the sink agent (its own company, never assigned nor mentioned) may get a wake target: nothing is ever started.
      return pick([S('sink')]);
    case 'interactionId':
      return pick([S('interaction')]);
    case 'commentId':
      return pick([S('comment')]);
    case 'subscriptionId':
      return pick([S('sinkSubscription')]);
    case 'keyId':
      // Only the sink agent's own minted key: never a key a principal of the run calls with.
      return pick([S('sinkKey')]);
    case 'key':
      return fc.oneof({ weight: 7, arbitrary: fc.constantFrom('notes', 'plan', 'notes') }, { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,63}$/) }, { weight: 3, arbitrary: fc.constantFrom<unknown>('a'.repeat(64), 'a'.repeat(65), 'Notes', '-x', '_x', '..', new Raw(['%2e%2e']), 'caf\u00e9', ...PATH_HOSTILE) });
    default:
      throw new Error(`no values for path parameter ${name} (${scope})`);
  }
}

/** A delivery of an event no schema here describes, shaped as its provider sends such (taken and ignored, or refused as not its shape). */
function unknownEventBody(provider: 'github' | 'linear' | 'circleci', event: string): unknown {
  if (provider === 'linear') return { action: 'create', type: event, createdAt: '2026-01-01T00:00:00.000Z', data: { id: 'x' }, webhookTimestamp: S('now'), webhookId: 'wh-1', organizationId: 'org-1' };
  if (provider === 'circleci') return { type: event, id: '5f0c2a57-0d1e-4c57-9a43-7c1b7a0e4f99', happened_at: '2026-01-01T00:00:00.000Z' };
  return { zen: 'hi' };
}

const specCache = new Map<string, fc.Arbitrary<Spec>>();
/** The usual value of a path parameter: the lane's own task, company, goal, source, confirmation, comment. */
export const USUAL_PATH: Record<string, unknown[]> = {
  issueId: [S('task')], companyId: [S('company')], goalId: [S('laneGoal')], sourceId: [S('source')], agentId: [S('sink')],
  interactionId: [S('interaction')], commentId: [S('comment')], key: ['notes', 'plan'], keyId: [S('sinkKey')], subscriptionId: [S('sinkSubscription')],
};
const KEY_REQUIRED = (route: RouteDef) => /\/(submit|ship|rollback)$/.test(route.template) || LINEAR_TASK_ROUTES.has(route.key);

/**
 * A request for the route: one in four well formed (the holder or the operator, the operator mostly on the
 * operator's routes; a valid body, a run id, a fresh key where one is needed; a webhook signed for the lane's
 * source), so that the rules, not only the parsers, see the fuzz; the others with every principal and
 * anything in every field, header and parameter.
 */
function specArbOf(route: RouteDef): fc.Arbitrary<Spec> {
  const cached = specCache.get(route.key);
  if (cached) return cached;
  const names = [...route.template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const hook = HOOKS[route.key];
  const isWebhook = !!hook;
  const webhookBody = (wellFormed: boolean): fc.Arbitrary<{ event: string; b: unknown }> =>
    fc.constantFrom(...Object.keys(hook!.schemas), ...(wellFormed ? [] : hook!.unknown)).chain((event) =>
      hook!.schemas[event]
        ? (wellFormed ? validArb(route.key, hook!.schemas[event]!, []) : bodyArb({ ...route, body: hook!.schemas[event] })).map((b) => ({ event, b }))
        : fc.constant({ event, b: unknownEventBody(hook!.provider, event) }),
    );
  const noBody = route.method === 'GET' || isWebhook;
  const anything = fc.record({
    principal: fc.constantFrom(...PRINCIPALS),
    garbage: fc.nat(9),
    path: fc.record(Object.fromEntries(names.map((n) => [n, pathArb(n, route.scope, route.key)]))),
    query: queryArb(route),
    body: noBody ? fc.constant<unknown>(NO_BODY) : bodyArb(route),
    runId: fc.oneof({ weight: 90, arbitrary: fc.constant<unknown>(S('runId')) }, { weight: 10, arbitrary: fc.constantFrom<unknown>(undefined, '', '   ', new Big('r', 200), new Big('r', 201), 'run caf\u00e9', 'a,b') }),
    idempotencyKey: fc.oneof(
      { weight: KEY_REQUIRED(route) ? 10 : 75, arbitrary: fc.constant<unknown>(undefined) },
      { weight: 20, arbitrary: fc.constantFrom<unknown>(S('freshKey'), S('freshKey'), 'k1', 'k2') },
      { weight: 3, arbitrary: fc.constantFrom<unknown>('', new Big('k', 255), new Big('k', 256), ' k ') },
    ),
    contentType: fc.oneof({ weight: 95, arbitrary: fc.constant<string | undefined>(undefined) }, { weight: 5, arbitrary: fc.constantFrom<string | undefined>('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data; boundary=x') }),
    contentEncoding: fc.oneof({ weight: 96, arbitrary: fc.constant<string | undefined>(undefined) }, { weight: 4, arbitrary: fc.constantFrom<string | undefined>('gzip', 'deflate', 'br', 'identity', 'compress', 'x-unknown') }),
    webhook: isWebhook
      ? fc.record({ body: webhookBody(false), delivery: fc.oneof({ weight: 9, arbitrary: fc.constant<unknown>(S('freshKey')) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, 'd1', new Big('d', 201)) }), sign: fc.constantFrom<'valid' | 'wrong' | 'none'>('valid', 'valid', 'valid', 'wrong', 'none') })
      : fc.constant(undefined),
  });
  const wellFormed = fc.record({
    principal: OPERATOR_ROUTES.has(route.key) ? fc.constantFrom<Principal>('operator', 'operator', 'holder') : fc.constantFrom<Principal>('holder', 'holder', 'operator'),
    garbage: fc.constant(1),
    path: fc.record(Object.fromEntries(names.map((n) => [n, n === 'sourceId' && HOOK_SOURCE[route.key] ? fc.constant(HOOK_SOURCE[route.key]) : fc.constantFrom(...(USUAL_PATH[n] ?? []))]))),
    query: route.query.length ? fc.array(fc.constantFrom(...route.query).chain((q) => validArb(route.key, q.schema, [q.name]).map((v): [string, unknown] => [q.name, v])), { maxLength: 2 }) : fc.constant<Array<[string, unknown]>>([]),
    body: noBody ? fc.constant<unknown>(NO_BODY) : validArb(route.key, route.body!, []),
    runId: fc.constant<unknown>(S('runId')),
    idempotencyKey: fc.constant<unknown>(KEY_REQUIRED(route) ? S('freshKey') : undefined),
    contentType: fc.constant<string | undefined>(undefined),
    contentEncoding: fc.constant<string | undefined>(undefined),
    webhook: isWebhook ? fc.record({ body: webhookBody(true), delivery: fc.constant<unknown>(S('freshKey')), sign: fc.constant<'valid' | 'wrong' | 'none'>('valid') }) : fc.constant(undefined),
  });
  const arb = fc.oneof({ weight: 3, arbitrary: anything }, { weight: 1, arbitrary: wellFormed }).map((r): Spec => ({
    route,
    principal: r.principal,
    garbage: r.garbage,
    path: r.path,
    query: r.query,
    body: r.webhook ? r.webhook.body.b : r.body,
    runId: r.runId,
    idempotencyKey: r.idempotencyKey,
    contentType: r.contentType,
    contentEncoding: r.contentEncoding,
    webhook: r.webhook ? { provider: hook!.provider, event: r.webhook.body.event, delivery: r.webhook.delivery, sign: r.webhook.sign } : undefined,
  }));
  specCache.set(route.key, arb);
  return arb;
}

export function specsFor(routes: RouteDef[], count: number, seed: number): Spec[] {
  const arb = fc.oneof(...routes.map((r) => ({ weight: r.write ? 3 : 1, arbitrary: specArbOf(r) })));
  return fc.sample(arb, { seed, numRuns: count });
}
