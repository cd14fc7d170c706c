/**
 * Issue 13 §8: requests generated from the OpenAPI document (whose bodies and queries are the zod
 * schemas, as JSON Schema) and from the webhook payload schemas, with fast-check: valid, boundary and
 * hostile values for every field of every route, as every principal (the operator, the task's holder,
 * another agent of its company, an agent of another company, no key, a garbage key).
 *
 * The requests run in lanes: one lane per task (a few tasks in every stage), one request at a time, so a
 * refusal's before and after are its own; the company-wide routes run in lanes of their own companies.
 * Many lanes run at once. Every answer is < 500; every 4xx carries a code of the error table with its
 * status; a 4xx (and a read, and a replay) changes nothing, neither in the read model nor in the
 * workflow. Afterwards every task of the run has its read model equal to its workflow's `state` Query
 * and still takes a normal change from its holder.
 *
 * FUZZ_SEED (default below) and FUZZ_RUNS (default 10,000) steer it; a failure names the seed, the
 * lane and the request's number, route, principal, body and answer. FUZZ_TRACE=<file> writes every
 * request and answer there, one line each.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import http from 'node:http';
import { test } from 'node:test';
import fc from 'fast-check';
import AjvModule from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { z } from 'zod';
import { openApiDocument } from '../../api/openapi.js';
import { hashKey } from '../../api/auth.js';
import { eventPayloads } from '../../activities/github/payloads.js';
import { rowToState, type IssueRow } from '../../db/issues-sql.js';
import { ERROR_HTTP_STATUS } from '../../domain/errors.js';
import { fingerprintOf } from '../../domain/projection.js';
import { STATUSES } from '../../domain/statuses.js';
import type { IssueState } from '../../domain/task.js';
import { stateQuery, workflowIdFor } from '../../workflows/messages.js';
import { stackWithFakeGitHub } from '../support/delivery.js';
import { HOSTILE_PATTERNS, HOSTILE_TITLE } from '../support/hostile.js';
import { ALL_TAKEABLE, seedCompany, type SeededAgent } from '../support/seed.js';
import { waitFor } from '../support/wait.js';

const Ajv2020 = (AjvModule as any).default ?? AjvModule;
const addFormats = (addFormatsModule as any).default ?? addFormatsModule;

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed13);
/** A file to write every request and its answer to, one line each (to replay a lane by hand). */
const TRACE = process.env.FUZZ_TRACE;
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
/** Share of the requests that go to the company-wide lanes. */
const COMPANY_SHARE = 0.2;

// Leases at the production minimum (30 s): a lease the fuzz sets expires by the workflow's own timer, which is told apart below.
const env = stackWithFakeGitHub({ config: { minLeaseSeconds: 30 } });

// ---------------------------------------------------------------- values the generator leaves symbolic

/** A value known only when the request is sent (ids, the lane's SHA, its latest comment …). */
class Sym {
  constructor(readonly name: string) {}
  toJSON() {
    return `<${this.name}>`;
  }
}
/** A long string, built when sent (the generated requests stay small in memory). */
class Big {
  constructor(readonly unit: string, readonly count: number) {}
  toJSON() {
    return `<${JSON.stringify(this.unit)} × ${this.count}>`;
  }
}
/** Text sent exactly as is: a body that is not JSON, a path or query segment not to be encoded. */
class Raw {
  constructor(readonly parts: Array<string | Big>) {}
  toJSON() {
    return `<raw ${this.parts.map((p) => (typeof p === 'string' ? p.slice(0, 60) : p.toJSON())).join('')}>`;
  }
  text(): string {
    return this.parts.map((p) => (typeof p === 'string' ? p : p.unit.repeat(p.count))).join('');
  }
}
const S = (name: string) => new Sym(name);
const NO_BODY = Symbol('no body');

/** An object with exactly these own keys, `__proto__` and `constructor` included. */
function own(entries: Array<[string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}
const nest = (depth: number): unknown => (depth === 0 ? 'deep' : { a: nest(depth - 1) });

/** The value as sent: symbols looked up, long strings built, own keys kept (`__proto__` too). */
function resolve(v: unknown, sym: (name: string) => unknown): unknown {
  if (v instanceof Sym) return sym(v.name);
  if (v instanceof Big) return v.unit.repeat(v.count);
  if (v instanceof Raw) return v;
  if (Array.isArray(v)) return v.map((x) => resolve(x, sym));
  if (v && typeof v === 'object') return own(Object.keys(v).map((k) => [k, resolve((v as Record<string, unknown>)[k], sym)]));
  return v;
}

// ---------------------------------------------------------------- the routes, from the OpenAPI document

type JS = Record<string, any>;
interface RouteDef {
  key: string;
  method: string;
  template: string;
  scope: 'task' | 'company';
  body?: JS;
  query: Array<{ name: string; schema: JS }>;
  write: boolean;
}

function routesOfDocument(): RouteDef[] {
  const out: RouteDef[] = [];
  for (const [template, ops] of Object.entries(openApiDocument.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(ops)) {
      const params: Array<{ name: string; in: string; schema: JS }> = op.parameters ?? [];
      const write = method !== 'get';
      out.push({
        key: `${method.toUpperCase()} ${template}`,
        method: method.toUpperCase(),
        template,
        scope: template.includes('{issueId}') ? 'task' : 'company',
        body: op.requestBody?.content?.['application/json']?.schema ?? (write ? { type: 'object', properties: {}, additionalProperties: false } : undefined),
        query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema })),
        write,
      });
    }
  }
  return out;
}
const ROUTES = routesOfDocument();
const WEBHOOK_ROUTE = 'POST /api/providers/github/webhooks/{sourceId}';
/** Company-wide routes only one lane takes (their snapshot is global: the count of companies, the sink agent's wake target). */
const PRIMARY_ONLY = new Set(['POST /api/companies', 'PUT /api/agents/{agentId}/wake-target', WEBHOOK_ROUTE]);

/** The webhook payloads (zod) as JSON Schema, per event. */
const WEBHOOK_SCHEMAS: Record<string, JS> = Object.fromEntries(
  Object.entries(eventPayloads).map(([event, s]) => {
    const { $schema: _d, ...rest } = z.toJSONSchema(s as z.ZodType, { io: 'input', unrepresentable: 'any' }) as JS;
    return [event, rest];
  }),
);

// ---------------------------------------------------------------- arbitraries from JSON Schema

type Arb = fc.Arbitrary<unknown>;
const BYTE_LIMITS: Record<string, number> = { description: 65_536, comment: 65_536, detailsMarkdown: 8_192 };
const CLOSING = ['Inline result: done. Result: ok. Verified: by hand.', 'Short answer: yes. Verified: tests pass.', 'Shipped in commit 3f2a9c1b7d. Result: ok.', 'doc:plan asset:42', 'All tests passing.'];
const TEXTS = [...CLOSING, HOSTILE_TITLE, '@agent-1 please look', '[@agent-0](agent://00000000-0000-4000-8000-000000000000)', 'café ☕ 漢字 🚀', 'line\nbreak\ttab', '   padded   '];
const word = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ,.:_-]{0,24}$/);
const text = (min: number, max: number): Arb =>
  fc
    .oneof({ weight: 6, arbitrary: word }, { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 }) }, { weight: 1, arbitrary: fc.constantFrom(...TEXTS) })
    // Within the bounds however they are counted: code points (JSON Schema) and UTF-16 units (zod).
    .filter((s) => [...s].length >= min && s.length <= max);

const NON_STRING_HINTS = new Set(['leaseSeconds', 'defaultLeaseSeconds', 'expectedStatuses', 'credential', 'env']);
/** What a field means here, where the schema alone cannot say (ids of this world, a closing comment, a fake GitHub). */
function hint(route: string, path: string[], s: JS): Arb | undefined {
  const f = path[path.length - 1] ?? '';
  const goals = route.includes('/goals');
  const webhook = route === WEBHOOK_ROUTE;
  if (webhook) {
    if (f === 'full_name') return fc.constantFrom(S('hookRepo'), S('hookRepo'), 'someone/else');
    if (path.join('.') === 'repository.id') return fc.constantFrom(null, S('hookRepoId'), 7);
    if (f === 'sha' || f === 'head_sha') return fc.constantFrom(S('sha40'), 'a'.repeat(40));
    if (f === 'number') return fc.integer({ min: 1, max: 50 });
    return undefined;
  }
  // Named fields are strings (ids, URLs, texts), but for these; a `null` branch of a string field stays null.
  if (s.type !== 'string' && !NON_STRING_HINTS.has(f)) return undefined;
  switch (f) {
    case 'agentId':
    case 'assigneeAgentId':
    case 'ownerAgentId':
      return fc.constantFrom(S('self'), S('holder'), S('peer'), S('stranger'));
    case 'parentId':
      return goals ? fc.constantFrom(S('goal0'), S('goal1'), S('goalB')) : fc.constantFrom(S('refLink0'), S('refLink1'), S('otherTask'));
    case 'goalId':
      return fc.constantFrom(S('goal0'), S('goal1'), S('goalB'));
    case 'reviewInteractionId':
      return fc.constantFrom(S('interaction'));
    case 'sourceCommentId':
      return fc.constantFrom(S('comment'));
    case 'baseRevisionId':
    case 'revisionId':
      return fc.constant(S('rev'));
    case 'documentId':
      return fc.constantFrom(S('rev'));
    case 'expectedHeadSha':
      return fc.constantFrom(S('sha'), S('sha'), S('sha'), S('sha40'));
    case 'headSha':
      return fc.constantFrom(S('sha'), S('sha7'));
    case 'url':
      return route.includes('wake-target') ? fc.constantFrom('http://127.0.0.1:9/wake', 'https://wake.invalid/hook') : fc.constantFrom(S('commitUrl'), 'https://ci.example/run/1');
    case 'comment':
      return fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...CLOSING) }, { weight: 3, arbitrary: text(1, 200) });
    case 'leaseSeconds':
    case 'defaultLeaseSeconds':
      return fc.constantFrom(30, 60, 900, 3600, 86_400);
    case 'baseUrl':
      return fc.constant(S('fakeUrl'));
    case 'owner':
      return fc.constant(S('laneOwner'));
    case 'repo':
      return route.includes('routing') ? fc.constantFrom(S('laneRepoFull'), 'acme/app') : fc.constant(S('laneRepo'));
    case 'credential':
      return fc.constantFrom({ token: 'ghp_fuzz_token' }, { token: 'ghp_other' });
    case 'webhookSecret':
      return fc.constantFrom('whsec_fuzz_secret', 'another-secret-1');
    case 'command':
      return fc.constantFrom('/bin/true', 'true');
    case 'cwd':
      return fc.constant('/tmp');
    case 'user':
      return fc.constantFrom('nobody', '65534');
    case 'env':
      return fc.constantFrom({ FOO: 'bar' }, {});
    case 'expectedStatuses':
      return fc.constantFrom(ALL_TAKEABLE, ['todo'], ['todo', 'in_progress'], [...STATUSES], ['backlog', 'todo', 'blocked', 'in_review', 'paused']);
    case 'titlePattern':
      return fc.constantFrom('bug', '^Fix', ...HOSTILE_PATTERNS);
    case 'idempotencyKey':
      return fc.constantFrom('k1', 'k2', 'k3');
    default:
      return undefined;
  }
}

/**
 * Fields always sent with a value of this world: a source's GitHub is the fake one (left out, it would be
 * github.com, which a test must not call).
 */
const PINNED: Record<string, string[]> = { 'POST /api/companies/{companyId}/sources': ['baseUrl'] };

/** Schemas of an `anyOf`/`oneOf`, or the schema itself. */
const branches = (s: JS): JS[] => s.anyOf ?? s.oneOf ?? [s];
const typesOf = (s: JS): string[] => (Array.isArray(s.type) ? s.type : s.type ? [s.type] : []);

function validArb(route: string, s: JS, path: string[]): Arb {
  const h = hint(route, path, s);
  if (h) return h;
  if ('const' in s) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...(s.enum as unknown[]));
  if (s.anyOf || s.oneOf) return fc.oneof(...branches(s).map((b) => validArb(route, b, path)));
  const types = typesOf(s);
  if (types.length > 1) return fc.oneof(...types.map((t) => validArb(route, { ...s, type: t }, path)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
    case 'number': {
      const min = Math.max(s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1000), -1000);
      const max = Math.min(s.maximum ?? 100_000, 100_000);
      return fc.integer({ min, max: Math.max(min, max) });
    }
    case 'string': {
      const maxLength = s.maxLength ?? 200;
      const minLength = s.minLength ?? 0;
      if (s.format === 'uuid') return fc.uuid();
      if (s.format === 'date-time') return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
      if (s.format === 'uri') return fc.constantFrom('https://example.invalid/x', 'http://127.0.0.1:9/');
      if (s.pattern) {
        try {
          return fc.stringMatching(new RegExp(s.pattern)).filter((x) => [...x].length >= minLength && x.length <= maxLength);
        } catch {
          return word;
        }
      }
      return text(Math.max(1, minLength), maxLength);
    }
    case 'array': {
      const items = validArb(route, s.items ?? {}, [...path, '0']);
      const minLength = s.minItems ?? 0;
      return fc.array(items, { minLength, maxLength: Math.max(minLength, Math.min(s.maxItems ?? 3, 3)) });
    }
    case 'object': {
      const props: Record<string, JS> = s.properties ?? {};
      const required: string[] = [...(s.required ?? []), ...(path.length === 0 ? (PINNED[route] ?? []) : [])];
      const optional = Object.keys(props).filter((k) => !required.includes(k));
      if (!s.properties && s.additionalProperties && typeof s.additionalProperties === 'object') {
        return fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/), validArb(route, s.additionalProperties, [...path, '*']), { maxKeys: 3 });
      }
      // A few optional fields at a time: a body with every field set is refused for one of them.
      return fc.subarray(optional, { maxLength: Math.min(3, optional.length) }).chain((chosen) =>
        fc.record(Object.fromEntries([...required, ...chosen].map((k) => [k, validArb(route, props[k]!, [...path, k])]))),
      );
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const NUMBER_EDGES = [0, -1, 1, 0.5, 1.5, -0, 29, 30, 86_400, 86_401, 2 ** 31, 2 ** 31 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1e308, -1e308, 5e-324];
const UUID_EDGES = ['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF', '123e4567e89b12d3a456426614174000', '{123e4567-e89b-12d3-a456-426614174000}', '123e4567-e89b-12d3-a456-42661417400', '123e4567-e89b-12d3-a456-4266141740000', ' 123e4567-e89b-42d3-a456-426614174000'];

const boundaryCache = new Map<string, Arb>();
/** The edges of what the field's schema allows, both sides. */
function boundaryArb(route: string, s: JS, path: string[]): Arb {
  const cacheKey = `${route}|${path.join('.')}|${JSON.stringify(s)}`;
  const cached = boundaryCache.get(cacheKey);
  if (cached) return cached;
  const arb = boundaryArbOf(route, s, path);
  boundaryCache.set(cacheKey, arb);
  return arb;
}
function boundaryArbOf(route: string, s: JS, path: string[]): Arb {
  const f = path[path.length - 1] ?? '';
  const values: unknown[] = [];
  for (const b of branches(s)) {
    const types = typesOf(b);
    if (b.enum) values.push(...(b.enum as string[]).flatMap((v) => (typeof v === 'string' ? [v.toUpperCase(), `${v} `, '', `${v}\u0301`] : [])));
    if ('const' in b) values.push(typeof b.const === 'number' ? b.const + 1 : `${String(b.const)}x`, typeof b.const === 'number' ? String(b.const) : String(b.const).toUpperCase());
    if (types.includes('string')) {
      const max: number | undefined = b.maxLength;
      const min: number = b.minLength ?? 0;
      values.push('', ' ', '\t\n ');
      if (max !== undefined) values.push(new Big('a', max), new Big('a', max + 1), new Big('é', max), new Big('😀', Math.ceil(max / 2)), new Big('😀', max));
      if (min > 1) values.push(new Big('a', min - 1), new Big('a', min));
      const bytes = BYTE_LIMITS[f] ?? (route.endsWith('/comments') && f === 'body' ? 65_536 : undefined);
      if (bytes) values.push(new Big('a', bytes), new Big('a', bytes + 1), new Big('é', bytes / 2), new Big('é', bytes / 2 + 1), new Big('😀', bytes / 4), new Big('😀', bytes / 4 + 1));
      if (route.includes('/documents/') && f === 'body') values.push(new Big('a', 512 * 1024), new Big('a', 512 * 1024 + 1));
      if (b.format === 'uuid') values.push(...UUID_EDGES);
      if (b.format === 'date-time') values.push('2024-02-30T00:00:00Z', '2024-01-01T00:00:00+01:00', '9999-12-31T23:59:59.999Z', '0000-01-01T00:00:00Z', '2024-01-01');
      if (b.format === 'uri') values.push('http://', 'ftp://example.com/', 'http://user:pass@127.0.0.1:9/', 'javascript:alert(1)', `http://127.0.0.1:9/${'a'.repeat(1991)}`);
      // Valid addresses other than the fake GitHub only where nothing calls them (a wake target is never woken here):
      // a source on a GitHub that does not answer is a provider outage (503), which is not what this test is about.
      if (b.format === 'uri' && f !== 'baseUrl') values.push(`http://127.0.0.1:9/${'a'.repeat(1990)}`, 'http://127.0.0.1:9/');
      if (f.toLowerCase().includes('sha')) values.push('a'.repeat(39), 'a'.repeat(41), 'A'.repeat(40), 'g'.repeat(40), 'abcdef1', 'abcdef');
    }
    if (types.includes('integer') || types.includes('number')) {
      values.push(...NUMBER_EDGES);
      for (const edge of [b.minimum, b.maximum, b.exclusiveMinimum]) if (typeof edge === 'number') values.push(edge - 1, edge, edge + 1);
    }
    if (types.includes('array')) {
      values.push([]);
      const item = b.items ?? {};
      const sample = fc.sample(validArb(route, item, [...path, '0']), { seed: 1, numRuns: 1 })[0];
      const max: number = b.maxItems ?? 200;
      values.push(Array(max).fill(sample), Array(max + 1).fill(sample), [sample, sample], Array(5000).fill(sample));
    }
    if (types.includes('object')) values.push({}, own([['extra', 1]]));
    if (types.includes('boolean')) values.push('true', 0, 1, 'false', null);
    if (types.includes('null')) values.push('null', 0, '');
  }
  return values.length ? fc.constantFrom(...values) : hostileArb;
}

const HOSTILE_STRINGS: unknown[] = [
  'a\u0000b', '\u0000', '\ud800', '\udfff', 'x\udc00y', 'lone \ud83d end', '\u202eevil\u202c', '\u200b\u200d', '\ufeffbom', 'e\u0301'.repeat(200), '𝕏𝕐ℤ', '%00', '%s%n%x', '../../../../etc/passwd',
  "' OR 1=1 --", '"; DROP TABLE issues; --', '<script>alert(1)</script>', '{{7*7}}', '${7*7}', '${jndi:ldap://x/a}', 'NaN', 'Infinity', '-Infinity', '-0', '1e309', '0x10', 'null', 'undefined', 'true',
  '__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'X\r\nInjected: 1', '\\u0000', new Big('A', 70_000), new Big('😀', 40_000), new Big('\u0000', 5), new Big('\ud800', 3), HOSTILE_TITLE,
];
const HOSTILE_VALUES: unknown[] = [
  null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 53), 1e308, [], [null], [[[]]], {}, own([['__proto__', { polluted: 'yes' }]]), own([['constructor', { prototype: { polluted: 'yes' } }]]),
  own([['__proto__', null]]), nest(10), nest(40), Array(1000).fill('x'), { length: 1e9 }, { toString: 'x', valueOf: 1 },
];
const hostileArb: Arb = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_VALUES) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
);

/** Every field of a body schema, nested objects and array items included. */
function fieldsOf(s: JS, prefix: string[] = []): Array<{ path: string[]; schema: JS }> {
  const out: Array<{ path: string[]; schema: JS }> = [];
  const obj = branches(s).find((b) => typesOf(b).includes('object') && b.properties);
  for (const [k, sub] of Object.entries((obj?.properties ?? {}) as Record<string, JS>)) {
    const path = [...prefix, k];
    out.push({ path, schema: sub });
    if (prefix.length > 4) continue;
    out.push(...fieldsOf(sub, path));
    const arr = branches(sub).find((b) => typesOf(b).includes('array') && b.items);
    if (arr) {
      out.push({ path: [...path, '0'], schema: arr.items });
      out.push(...fieldsOf(arr.items, [...path, '0']));
    }
  }
  return out;
}

/** A copy of `body` with `path` set to `value` (or removed), making the containers on the way. */
function setAt(body: unknown, path: string[], value: unknown, remove = false): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  const base: any = Array.isArray(body) ? [...body] : body && typeof body === 'object' ? own(Object.entries(body)) : head === '0' ? [] : {};
  if (rest.length === 0 && remove) {
    if (Array.isArray(base)) base.splice(Number(head), 1);
    else delete base[head];
    return base;
  }
  const next = setAt(base[head], rest, value, remove);
  if (Array.isArray(base)) base[Number(head)] = next;
  else Object.defineProperty(base, head, { value: next, enumerable: true, writable: true, configurable: true });
  return base;
}

const EXTRA_KEYS = ['__proto__', 'constructor', 'prototype', 'extra', '', ' ', 'a\u0000b', '\ud800', 'toString', 'id', 'version', 'companyId', 'status ', 'Title', '$where', 'checkout'];
const RAW_BODIES: Raw[] = [
  '', 'not json', '{', '{"a":', 'nul', 'null', 'true', '[]', '"x"', '123', '1e999', '-0', 'NaN', '{"a":NaN}', '\ufeff{}', "{'a':1}", '{"title":"a","title":"b"}', '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}', '[{"a":1}]', '{"a":1}garbage', '{"body":"\\ud800"}', '{"body":"\\u0000"}', '{"comment":"x\\udc00"}',
].map((t) => new Raw([t]));
RAW_BODIES.push(
  new Raw([new Big('[', 5000), new Big(']', 5000)]),
  new Raw([new Big('{"a":', 3000), '1', new Big('}', 3000)]),
  new Raw([new Big('[', 200_000), new Big(']', 200_000)]),
  new Raw(['{"title":"', new Big('a', 600 * 1024), '"}']),
  new Raw(['{"body":"', new Big('\\u0001', 100_000), '"}']),
);

/** A body for the route: valid, or with one field at an edge, hostile, missing, or an extra field, or no JSON at all. */
function bodyArb(route: RouteDef): Arb {
  const schema = route.body!;
  const valid = validArb(route.key, schema, []);
  const fields = fieldsOf(schema);
  const mutate = (mode: 'boundary' | 'hostile' | 'missing'): Arb =>
    fields.length === 0
      ? valid
      : valid.chain((b) =>
          fc.constantFrom(...fields).chain((f) => {
            if (mode === 'missing') return fc.constant(PINNED[route.key]?.includes(f.path.join('.')) ? b : setAt(b, f.path, undefined, true));
            return (mode === 'boundary' ? boundaryArb(route.key, f.schema, f.path) : hostileArb).map((v) => setAt(b, f.path, v));
          }),
        );
  return fc.oneof(
    { weight: 40, arbitrary: valid },
    { weight: 22, arbitrary: mutate('boundary') },
    { weight: 20, arbitrary: mutate('hostile') },
    { weight: 4, arbitrary: mutate('missing') },
    { weight: 6, arbitrary: valid.chain((b) => fc.tuple(fc.constantFrom(...EXTRA_KEYS), hostileArb).map(([k, v]) => (b && typeof b === 'object' && !Array.isArray(b) ? own([...Object.entries(b), [k, v]]) : b))) },
    { weight: 3, arbitrary: hostileArb },
    { weight: 5, arbitrary: fc.constantFrom<unknown>(...RAW_BODIES, NO_BODY) },
  );
}

/** Query strings from the route's query parameters: valid, at an edge, hostile, unknown, or not decodable. */
function queryArb(route: RouteDef): fc.Arbitrary<Array<[string, unknown]>> {
  if (route.query.length === 0) return fc.oneof({ weight: 9, arbitrary: fc.constant<Array<[string, unknown]>>([]) }, { weight: 1, arbitrary: fc.constantFrom<Array<[string, unknown]>>([['x', '1']], [['limit', '5']], [['__proto__', 'x']]) });
  const hints: Record<string, Arb> = {
    limit: fc.constantFrom('1', '50', '500', '0', '-1', '501', '1e309', 'abc', '1.5', '9007199254740993', ''),
    assigneeAgentId: fc.constantFrom('me', S('holder'), S('peer'), 'nobody'),
    status: fc.constantFrom('todo', 'todo,in_progress', 'done, cancelled', ',,,', 'TODO', 'todo,nope', ''),
    priority: fc.constantFrom('high', 'low,medium', 'urgent', ''),
    parentId: fc.constantFrom(S('task'), S('refLink0'), S('otherTask')),
    parentIssueId: fc.constantFrom(S('task'), S('refLink0')),
    descendantOf: fc.constantFrom(S('task'), S('refLink0')),
    after: fc.constantFrom(S('comment'), 'nope'),
    afterCommentId: fc.constantFrom(S('comment')),
    wakeCommentId: fc.constantFrom(S('comment'), 'x'),
    cursor: fc.constantFrom('', 'abc', new Big('c', 101)),
  };
  const one = fc.constantFrom(...route.query).chain((q) =>
    fc.oneof(
      { weight: 5, arbitrary: hints[q.name] ?? validArb(route.key, q.schema, [q.name]) },
      { weight: 2, arbitrary: boundaryArb(route.key, q.schema, [q.name]) },
      { weight: 2, arbitrary: fc.constantFrom<unknown>(...HOSTILE_STRINGS, new Raw(['%ZZ']), new Raw(['%00']), new Raw(['%F0%9F']), new Raw(['a&b=c'])) },
    ).map((v): [string, unknown] => [q.name, v]),
  );
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant<Array<[string, unknown]>>([]) },
    { weight: 6, arbitrary: fc.array(one, { minLength: 1, maxLength: 3 }) },
    { weight: 1, arbitrary: fc.constantFrom<Array<[string, unknown]>>([['unknown', '1']], [['__proto__', 'x']], [['limit', '1'], ['limit', '2']], [['a\u0000', '1']]) },
  );
}

// ---------------------------------------------------------------- a request, as generated

type Principal = 'operator' | 'holder' | 'peer' | 'stranger' | 'anonymous' | 'garbage';
const PRINCIPALS: Principal[] = ['operator', 'holder', 'peer', 'stranger', 'anonymous', 'garbage'];

interface Spec {
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
  webhook?: { event: string; delivery: unknown; sign: 'valid' | 'wrong' | 'none' };
}

const PATH_HOSTILE: unknown[] = [
  'not-a-uuid', '0', '-1', ' ', new Raw(['%00']), new Raw(['%ZZ']), new Raw(['..%2F..%2Fcompanies']), new Raw(['%F0%9F%92']), new Raw(['%C0%AE']), 'ACME-0', 'ACME-999999999999999999', '__proto__', 'constructor',
  new Big('a', 3000), new Big('a', 20_000), ...UUID_EDGES,
];
function pathArb(name: string, scope: RouteDef['scope']): Arb {
  const pick = (usual: unknown[], weight = 85) => fc.oneof({ weight, arbitrary: fc.constantFrom(...usual) }, { weight: 100 - weight - 5, arbitrary: fc.constantFrom(...PATH_HOSTILE) }, { weight: 5, arbitrary: fc.uuid() });
  switch (name) {
    case 'issueId':
      return fc.oneof({ weight: 86, arbitrary: fc.constant(S('task')) }, { weight: 3, arbitrary: fc.constantFrom(S('identifier'), S('TASK')) }, { weight: 3, arbitrary: fc.constantFrom(S('otherTask')) }, { weight: 8, arbitrary: pick([S('task')], 0) });
    case 'companyId':
      return pick([S('company'), S('company'), S('company'), S('otherCompany')]);
    case 'goalId':
      return pick([S('laneGoal'), S('laneGoal'), S('goalB')]);
    case 'sourceId':
      return pick([S('source'), S('source'), S('source'), S('otherSource')]);
    case 'agentId':
      // Only the sink agent (its own company, never assigned nor mentioned) may get a wake target: nothing is ever started.
      return pick([S('sink')]);
    case 'interactionId':
      return pick([S('interaction')]);
    case 'commentId':
      return pick([S('comment')]);
    case 'key':
      return fc.oneof({ weight: 7, arbitrary: fc.constantFrom('notes', 'plan', 'notes') }, { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,63}$/) }, { weight: 3, arbitrary: fc.constantFrom<unknown>('a'.repeat(64), 'a'.repeat(65), 'Notes', '-x', '_x', '..', new Raw(['%2e%2e']), 'caf\u00e9', ...PATH_HOSTILE) });
    default:
      throw new Error(`no values for path parameter ${name} (${scope})`);
  }
}

const specCache = new Map<string, fc.Arbitrary<Spec>>();
/** The usual value of a path parameter: the lane's own task, company, goal, source, confirmation, comment. */
const USUAL_PATH: Record<string, unknown[]> = {
  issueId: [S('task')], companyId: [S('company')], goalId: [S('laneGoal')], sourceId: [S('source')], agentId: [S('sink')],
  interactionId: [S('interaction')], commentId: [S('comment')], key: ['notes', 'plan'],
};
const KEY_REQUIRED = (route: RouteDef) => /\/(submit|ship|rollback)$/.test(route.template);

/**
 * A request for the route: one in four well formed (the holder or the operator, a valid body, a run id, a
 * fresh key where one is needed), so that the rules, not only the parsers, see the fuzz; the others with
 * every principal and anything in every field, header and parameter.
 */
function specArbOf(route: RouteDef): fc.Arbitrary<Spec> {
  const cached = specCache.get(route.key);
  if (cached) return cached;
  const names = [...route.template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const isWebhook = route.key === WEBHOOK_ROUTE;
  const events = Object.keys(WEBHOOK_SCHEMAS);
  const webhookBody = (wellFormed: boolean): fc.Arbitrary<{ event: string; b: unknown }> =>
    fc.constantFrom(...events, ...(wellFormed ? [] : ['ping', 'installation'])).chain((event) =>
      WEBHOOK_SCHEMAS[event]
        ? (wellFormed ? validArb(WEBHOOK_ROUTE, WEBHOOK_SCHEMAS[event]!, []) : bodyArb({ ...route, key: WEBHOOK_ROUTE, body: WEBHOOK_SCHEMAS[event] })).map((b) => ({ event, b }))
        : fc.constant({ event, b: { zen: 'hi' } as unknown }),
    );
  const noBody = route.method === 'GET' || isWebhook;
  const anything = fc.record({
    principal: fc.constantFrom(...PRINCIPALS),
    garbage: fc.nat(9),
    path: fc.record(Object.fromEntries(names.map((n) => [n, pathArb(n, route.scope)]))),
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
    principal: fc.constantFrom<Principal>('holder', 'holder', 'operator'),
    garbage: fc.constant(1),
    path: fc.record(Object.fromEntries(names.map((n) => [n, fc.constantFrom(...(USUAL_PATH[n] ?? []))]))),
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
    webhook: r.webhook ? { event: r.webhook.body.event, delivery: r.webhook.delivery, sign: r.webhook.sign } : undefined,
  }));
  specCache.set(route.key, arb);
  return arb;
}

function specsFor(routes: RouteDef[], count: number, seed: number): Spec[] {
  const arb = fc.oneof(...routes.map((r) => ({ weight: r.write ? 3 : 1, arbitrary: specArbOf(r) })));
  return fc.sample(arb, { seed, numRuns: count });
}

// ---------------------------------------------------------------- the world

interface Agent { id: string; key: string }
interface World {
  adminKey: string;
  holder: Agent;
  peer: Agent;
  stranger: Agent;
  expiredToken: string;
  companyA: string;
  companyB: string;
  otherTask: string;
  refLinks: string[];
  goals: string[];
  goalB: string;
  sink: string;
  keys: Map<string, string>;
}
interface TaskLane {
  kind: 'task';
  name: string;
  id: string;
  identifier: string;
  sha: string;
  sourced: boolean;
  comments: string[];
  interactions: string[];
  revisions: string[];
  /** Children made by this lane's accepted requests, and those of them that wait on the lane's task. */
  children: string[];
  dependents: string[];
}
interface CompanyLane {
  kind: 'company';
  name: string;
  primary: boolean;
  companyId: string;
  members: [Agent, Agent];
  sourceId: string;
  hookSecret: string;
  owner: string;
  repo: string;
  repoId: number;
  goals: string[];
  sources: string[];
}
type Lane = TaskLane | CompanyLane;

interface Answer { status: number; body: any; text: string; replayed: boolean }
interface Sent { method: string; path: string; principal: Principal; auth: string; headers: Record<string, string>; body: string | undefined }

/** JSON with its keys sorted (Postgres' jsonb keeps its own key order). */
function canon(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]));
  return v;
}
/**
 * The fingerprint of a state. domain/projection.ts remembers the hash of the last description it saw; this
 * makes it hash another one first, so the answer does not depend on what this process hashed before.
 */
function fingerprintOfState(state: IssueState): string {
  fingerprintOf({ ...state, description: '\u0001another description' });
  return fingerprintOf(state);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cut = (s: string | undefined, n = 400) => (s === undefined ? '(none)' : s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

function encodeSegment(v: string): string {
  try {
    return encodeURIComponent(v);
  } catch {
    // A lone surrogate has no UTF-8: send the bytes a careless client would (CESU-8).
    return v.replace(/[\ud800-\udfff]/g, '\u0000').split('\u0000').map((p) => encodeURIComponent(p)).join('%ED%A0%80');
  }
}

// ---------------------------------------------------------------- the test

/** Symbols as values of their shape, for checking bodies against their schemas without a world. */
function placeholder(name: string): unknown {
  const shapes: Record<string, unknown> = {
    sha: 'a'.repeat(40), sha40: 'b'.repeat(40), sha7: 'abcdef1', commitUrl: `https://git.example/acme/app/commit/${'a'.repeat(40)}`, fakeUrl: 'http://127.0.0.1:1',
    laneOwner: 'acme', laneRepo: 'app', laneRepoFull: 'acme/app', hookRepo: 'acme/app', hookRepoId: 1, runId: 'run-1', freshKey: 'key-1', identifier: 'ACME-1',
  };
  return name in shapes ? shapes[name] : name === 'TASK' ? '3F2B8C1E-6A4D-4E8F-9B1C-2D3E4F5A6B7C' : '3f2b8c1e-6a4d-4e8f-9b1c-2d3e4f5a6b7c';
}

test('the generator is honest: valid bodies pass each route\'s schema, boundary and hostile ones leave it; every parameter has values', () => {
  const ajv = new Ajv2020({ strict: false, allErrors: false });
  addFormats(ajv);
  const bodies: Array<[string, JS, RouteDef]> = [
    ...ROUTES.filter((r) => r.body).map((r): [string, JS, RouteDef] => [r.key, r.body!, r]),
    ...Object.entries(WEBHOOK_SCHEMAS).map(([event, schema]): [string, JS, RouteDef] => [`${WEBHOOK_ROUTE} (${event})`, schema, { ...ROUTES.find((r) => r.key === WEBHOOK_ROUTE)!, key: WEBHOOK_ROUTE, body: schema }]),
  ];
  assert.ok(bodies.length >= 40, `${bodies.length} bodies`);
  for (const [name, schema, route] of bodies) {
    const validate = ajv.compile(schema);
    for (const b of fc.sample(validArb(route.key, schema, []), { seed: SEED, numRuns: 40 })) {
      const body = resolve(b, placeholder);
      assert.ok(validate(body), `${name}: a "valid" body its schema refuses: ${cut(JSON.stringify(body), 300)}: ${ajv.errorsText(validate.errors)}`);
    }
    if (fieldsOf(schema).length === 0) continue;
    const outside = fc.sample(bodyArb(route), { seed: SEED, numRuns: 200 }).filter((b) => b !== NO_BODY && !(b instanceof Raw) && !validate(resolve(b, placeholder)));
    assert.ok(outside.length >= 10, `${name}: only ${outside.length} of 200 generated bodies are outside its schema`);
  }
  const names = new Set(ROUTES.flatMap((r) => [...r.template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!)));
  for (const n of names) {
    assert.doesNotThrow(() => pathArb(n, 'task'), `a path parameter without values: ${n}`);
    assert.ok(USUAL_PATH[n], `a path parameter without a usual value: ${n}`);
  }
  assert.ok(ROUTES.length >= 60, `${ROUTES.length} routes`);
});

test(`fuzz: ${RUNS} generated requests as every principal; no 5xx, every 4xx coded and harmless, read model = workflow after`, { timeout: 900_000 }, async (t) => {
  const { stack, fake } = env;
  const started = Date.now();
  t.diagnostic(`FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`);

  // --- companies and principals
  const a = await seedCompany(stack, 2);
  const b = await seedCompany(stack, 1);
  const w = await seedCompany(stack, 1);
  const [holder, peer] = a.agents as [SeededAgent, SeededAgent];
  const stranger = b.agents[0]!;
  const expiredToken = `sy_run_${randomBytes(24).toString('base64url')}`;
  await stack.pool.query(`INSERT INTO run_tokens (token_hash, agent_id, run_id, issue_id, expires_at) VALUES ($1, $2, 'run-expired', NULL, now() - interval '1 minute')`, [hashKey(expiredToken), holder.id]);
  const ok = (r: { status: number; body: any }, what: string) => assert.ok(r.status >= 200 && r.status < 300, `setup: ${what}: ${r.status} ${JSON.stringify(r.body)}`);
  const goal = async (companyId: string, title: string) => {
    const r = await stack.admin.post(`/api/companies/${companyId}/goals`, { title });
    ok(r, 'goal');
    return r.body.id as string;
  };
  const issue = async (companyId: string, body: Record<string, unknown>) => {
    const r = await stack.admin.post(`/api/companies/${companyId}/issues`, body);
    ok(r, 'issue');
    return r.body as { id: string; identifier: string };
  };
  const world: World = {
    adminKey: stack.adminKey,
    holder: { id: holder.id, key: holder.key },
    peer: { id: peer.id, key: peer.key },
    stranger: { id: stranger.id, key: stranger.key },
    expiredToken,
    companyA: a.companyId,
    companyB: b.companyId,
    otherTask: (await issue(b.companyId, { title: 'the other company\'s', status: 'todo', assigneeAgentId: stranger.id })).id,
    refLinks: [(await issue(a.companyId, { title: 'linked, never a target', status: 'todo' })).id, (await issue(a.companyId, { title: 'linked too', status: 'backlog' })).id],
    goals: [await goal(a.companyId, 'Goal zero'), await goal(a.companyId, 'Goal one')],
    goalB: await goal(b.companyId, 'Their goal'),
    sink: w.agents[0]!.id,
    keys: new Map([[holder.id, holder.key], [peer.id, peer.key], [stranger.id, stranger.key]]),
  };

  // --- a GitHub repository and source for company A: tasks that came from it, routed to the holder
  const ghOwner = `orgfz${randomBytes(3).toString('hex')}`;
  await fake.fake.createRepo(ghOwner, 'widgets', { 'README.md': '# widgets\n', 'src/app.txt': 'v1\n' });
  const secretA = `whsec_${randomBytes(12).toString('hex')}`;
  ok(await stack.admin.request('PUT', `/api/companies/${a.companyId}/routing`, { rules: [{ id: 'bugs', name: 'Bugs', match: { labelsAny: ['bug'] }, target: { agentId: holder.id } }] }), 'routing');
  const sourceA = await stack.admin.post(`/api/companies/${a.companyId}/sources`, { provider: 'github', owner: ghOwner, repo: 'widgets', baseUrl: fake.url, credential: { token: 'ghp_fuzz_token' }, webhookSecret: secretA, pollIntervalSeconds: null });
  ok(sourceA, 'source');
  fake.fake.hooks.subscribe(`${stack.url}/api/providers/github/webhooks/${sourceA.body.id}`, secretA);

  // --- task lanes: a few tasks in every stage
  const closing = CLOSING[0]!;
  const key = () => ({ 'idempotency-key': randomBytes(8).toString('hex') });
  const artifactSubmit = (sha: string) => ({ mode: 'artifact', summary: 'the work', artifacts: [{ type: 'commit', url: `https://git.example/acme/app/commit/${sha}` }], checks: [{ name: 'ci', status: 'running' }] });
  type Stage = 'unassigned' | 'todo' | 'backlog' | 'in_progress' | 'blocked' | 'done' | 'cancelled' | 'in_ci' | 'ready_to_ship' | 'shipped' | 'plan_pending' | 'sourced_todo' | 'sourced_review';
  const STAGES: Stage[] = ['unassigned', 'todo', 'backlog', 'in_progress', 'blocked', 'done', 'cancelled', 'in_ci', 'ready_to_ship', 'shipped', 'plan_pending'];
  async function taskAt(stage: Stage, n: number): Promise<TaskLane> {
    const lane = (id: string, identifier: string, sha: string, sourced = false): TaskLane => ({ kind: 'task', name: `${stage}#${n}`, id, identifier, sha, sourced, comments: [], interactions: [], revisions: [], children: [], dependents: [] });
    const sha = randomBytes(20).toString('hex');
    if (stage === 'sourced_todo' || stage === 'sourced_review') {
      const title = `fuzz upstream ${stage} ${n}`;
      await fake.fake.openIssue(ghOwner, 'widgets', { title, labels: ['bug'] });
      const found = await waitFor(`the task of "${title}"`, async () => (await stack.pool.query(`SELECT id, identifier FROM issues WHERE company_id = $1 AND title = $2 AND assignee_agent_id = $3`, [a.companyId, title, holder.id])).rows[0], (r) => !!r, 30_000);
      if (stage === 'sourced_todo') return lane(found.id, found.identifier, sha, true);
      const branch = `fz-${n}`;
      const head = await fake.fake.pushCommit(ghOwner, 'widgets', branch, { 'src/app.txt': `fuzz ${n}\n` });
      ok(await holder.http.post(`/api/tasks/${found.id}/submit`, { summary: 'the work', pullRequest: { head: branch } }, key()), 'submit (PR)');
      return lane(found.id, found.identifier, head, true);
    }
    const created = await issue(a.companyId, { title: `fuzz ${stage} ${n}`, status: stage === 'backlog' ? 'backlog' : 'todo', ...(stage === 'unassigned' ? {} : { assigneeAgentId: holder.id }) });
    const l = lane(created.id, created.identifier, sha);
    const id = created.id;
    if (stage === 'unassigned' || stage === 'todo' || stage === 'backlog') return l;
    if (stage === 'blocked') {
      ok(await holder.http.post(`/api/tasks/${id}/blocker`, { reason: 'needs a person' }), 'block');
      return l;
    }
    if (stage === 'cancelled') {
      ok(await stack.admin.patch(`/api/issues/${id}`, { status: 'cancelled' }), 'cancel');
      return l;
    }
    ok(await holder.http.post(`/api/issues/${id}/checkout`, { agentId: holder.id, expectedStatuses: ALL_TAKEABLE }), 'checkout');
    if (stage === 'in_progress') return l;
    if (stage === 'plan_pending') {
      const ask = await holder.http.post(`/api/issues/${id}/interactions`, { kind: 'request_confirmation', payload: { version: 1, prompt: 'Is this plan fine?' } });
      ok(ask, 'confirmation');
      l.interactions.push(ask.body.id);
      return l;
    }
    if (stage === 'done') {
      ok(await holder.http.post(`/api/issues/${id}/close`, { comment: closing }), 'close');
      return l;
    }
    ok(await holder.http.post(`/api/tasks/${id}/submit`, artifactSubmit(sha), key()), 'submit');
    if (stage === 'in_ci') return l;
    ok(await stack.admin.post(`/api/tasks/${id}/checks`, { headSha: sha, checks: [{ name: 'ci', status: 'passed' }] }), 'checks');
    ok(await stack.admin.post(`/api/tasks/${id}/review`, { outcome: 'approved' }), 'review');
    if (stage === 'ready_to_ship') return l;
    ok(await holder.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha }, key()), 'ship');
    return l;
  }
  const taskLanes: TaskLane[] = [];
  for (const n of [0, 1]) taskLanes.push(...(await Promise.all(STAGES.map((s) => taskAt(s, n)))));
  taskLanes.push(await taskAt('sourced_todo', 0), await taskAt('sourced_review', 0));

  // --- company lanes: companies of their own, with members, a source (on its own repository) and goals
  async function companyLane(n: number): Promise<CompanyLane> {
    const c = await seedCompany(stack, 2);
    const owner = `orgfzc${n}${randomBytes(3).toString('hex')}`;
    const repo = await fake.fake.createRepo(owner, 'app', { 'README.md': '# app\n' });
    const hookSecret = `whsec_${randomBytes(12).toString('hex')}`;
    const src = await stack.admin.post(`/api/companies/${c.companyId}/sources`, { provider: 'github', owner, repo: 'app', baseUrl: fake.url, credential: { token: 'ghp_fuzz_token' }, webhookSecret: hookSecret, pollIntervalSeconds: null });
    ok(src, 'lane source');
    const [m1, m2] = c.agents as [SeededAgent, SeededAgent];
    for (const m of [m1, m2]) world.keys.set(m.id, m.key);
    return { kind: 'company', name: `company#${n}`, primary: n === 0, companyId: c.companyId, members: [{ id: m1.id, key: m1.key }, { id: m2.id, key: m2.key }], sourceId: src.body.id, hookSecret, owner, repo: 'app', repoId: Number((repo as { id?: number }).id ?? 0), goals: [await goal(c.companyId, 'Lane goal')], sources: [src.body.id] };
  }
  const companyLanes = await Promise.all([0, 1, 2].map(companyLane));
  t.diagnostic(`setup: ${taskLanes.length} task lanes, ${companyLanes.length} company lanes in ${Date.now() - started} ms`);

  // --- the requests, generated before anything is sent
  const taskRoutes = ROUTES.filter((r) => r.scope === 'task');
  const companyRoutes = ROUTES.filter((r) => r.scope === 'company');
  const companyCount = Math.ceil((RUNS * COMPANY_SHARE) / companyLanes.length);
  const taskCount = Math.ceil((RUNS - companyCount * companyLanes.length) / taskLanes.length);
  const plans = new Map<Lane, Spec[]>();
  taskLanes.forEach((l, i) => plans.set(l, specsFor(taskRoutes, taskCount, SEED + i)));
  companyLanes.forEach((l, i) => plans.set(l, specsFor(companyRoutes.filter((r) => l.primary || !PRIMARY_ONLY.has(r.key)), companyCount, SEED + 1000 + i)));

  // --- sending
  const findings: Array<{ kind: string; where: string; detail: string }> = [];
  const stats = { sent: 0, byClass: new Map<string, number>(), byRoute: new Map<string, { ok: number; refused: number }>(), excused: 0 };
  const find = (kind: string, where: string, detail: string): void => {
    findings.push({ kind, where, detail });
  };

  function resolver(lane: Lane, spec: Spec, n: number) {
    const self = (): string => {
      const p = spec.principal;
      if (lane.kind === 'company') return p === 'peer' ? lane.members[1].id : p === 'stranger' ? world.stranger.id : lane.members[0].id;
      return p === 'peer' ? world.peer.id : p === 'stranger' ? world.stranger.id : world.holder.id;
    };
    const last = (xs: string[], fallback: string) => xs[xs.length - 1] ?? fallback;
    return (name: string): unknown => {
      switch (name) {
        case 'task': return lane.kind === 'task' ? lane.id : world.refLinks[0];
        case 'TASK': return lane.kind === 'task' ? lane.id.toUpperCase() : world.refLinks[0];
        case 'identifier': return lane.kind === 'task' ? lane.identifier : 'ACME-1';
        case 'otherTask': return world.otherTask;
        case 'refLink0': return world.refLinks[0];
        case 'refLink1': return world.refLinks[1];
        case 'self': return self();
        case 'holder': return lane.kind === 'company' ? lane.members[0].id : world.holder.id;
        case 'peer': return lane.kind === 'company' ? lane.members[1].id : world.peer.id;
        case 'stranger': return world.stranger.id;
        case 'sink': return world.sink;
        case 'goal0': return lane.kind === 'company' ? lane.goals[0] : world.goals[0];
        case 'goal1': return lane.kind === 'company' ? last(lane.goals, world.goalB) : world.goals[1];
        case 'goalB': return world.goalB;
        case 'laneGoal': return lane.kind === 'company' ? lane.goals[n % lane.goals.length] : world.goals[0];
        case 'interaction': return lane.kind === 'task' ? last(lane.interactions, '5f0c2a57-0d1e-4c57-9a43-7c1b7a0e4f11') : '5f0c2a57-0d1e-4c57-9a43-7c1b7a0e4f11';
        case 'comment': return lane.kind === 'task' ? last(lane.comments, '6a1b3c57-0d1e-4c57-9a43-7c1b7a0e4f12') : '6a1b3c57-0d1e-4c57-9a43-7c1b7a0e4f12';
        case 'rev': return lane.kind === 'task' ? last(lane.revisions, '7b2c4d57-0d1e-4c57-9a43-7c1b7a0e4f13') : '7b2c4d57-0d1e-4c57-9a43-7c1b7a0e4f13';
        case 'sha': return lane.kind === 'task' ? lane.sha : 'a'.repeat(40);
        case 'sha7': return lane.kind === 'task' ? lane.sha.slice(0, 7) : 'abcdef1';
        case 'sha40': return randomBytes(20).toString('hex');
        case 'commitUrl': return `https://git.example/acme/app/commit/${lane.kind === 'task' ? lane.sha : 'a'.repeat(40)}`;
        case 'company': return lane.kind === 'company' ? lane.companyId : world.companyA;
        case 'otherCompany': return world.companyB;
        case 'source': return lane.kind === 'company' ? lane.sources[n % lane.sources.length] : sourceA.body.id;
        case 'otherSource': return sourceA.body.id;
        case 'fakeUrl': return fake.url;
        case 'laneOwner': return lane.kind === 'company' ? lane.owner : ghOwner;
        case 'laneRepo': return lane.kind === 'company' ? lane.repo : 'widgets';
        case 'laneRepoFull': return lane.kind === 'company' ? `${lane.owner}/${lane.repo}` : `${ghOwner}/widgets`;
        case 'hookRepo': return lane.kind === 'company' ? `${lane.owner}/${lane.repo}` : 'x/y';
        case 'hookRepoId': return lane.kind === 'company' ? lane.repoId : 1;
        case 'runId': return `fz-${lane.name}-${n}`;
        case 'freshKey': return `fz-${SEED}-${lane.name}-${n}`;
        default: throw new Error(`unknown symbol ${name}`);
      }
    };
  }

  function authOf(lane: Lane, spec: Spec): string | undefined {
    const p = spec.principal;
    const agentKey = (a: Agent) => `Bearer ${a.key}`;
    if (p === 'operator') return spec.garbage === 0 ? `bearer ${world.adminKey}` : `Bearer ${world.adminKey}`;
    if (p === 'holder') return agentKey(lane.kind === 'company' ? lane.members[0] : world.holder);
    if (p === 'peer') return agentKey(lane.kind === 'company' ? lane.members[1] : world.peer);
    if (p === 'stranger') return agentKey(world.stranger);
    if (p === 'anonymous') return undefined;
    return [
      `Bearer sy_agent_${randomBytes(24).toString('base64url')}`, 'Basic YWRtaW46YWRtaW4=', 'Bearer', `Bearer ${world.expiredToken}`, `Bearer ${world.adminKey}x`, `Token ${world.adminKey}`,
      `Bearer ${world.holder.key} ${world.holder.key}`, `Bearer ${'A'.repeat(20_000)}`, `Bearer ${world.adminKey.slice(0, -1)}`, 'Bearer null',
    ][spec.garbage];
  }

  function build(lane: Lane, spec: Spec, n: number): Sent {
    const sym = resolver(lane, spec, n);
    const segment = (v: unknown): string => {
      const r = resolve(v, sym);
      return r instanceof Raw ? r.text() : encodeSegment(String(r));
    };
    let path = spec.route.template.replace(/\{(\w+)\}/g, (_m, name: string) => segment(spec.path[name]));
    if (spec.query.length) path += `?${spec.query.map(([k, v]) => `${encodeSegment(k)}=${segment(v)}`).join('&')}`;
    const headers: Record<string, string> = {};
    const auth = authOf(lane, spec);
    if (auth !== undefined && !spec.webhook) headers.authorization = auth;
    const runId = resolve(spec.runId, sym);
    if (typeof runId === 'string') headers['x-run-id'] = runId;
    const idem = resolve(spec.idempotencyKey, sym);
    if (typeof idem === 'string') headers['idempotency-key'] = idem;
    let body: string | undefined;
    if (spec.body !== NO_BODY) {
      const resolved = resolve(spec.body, sym);
      body = resolved instanceof Raw ? resolved.text() : JSON.stringify(resolved === undefined ? null : resolved);
      headers['content-type'] = spec.contentType ?? 'application/json';
      if (spec.contentEncoding) headers['content-encoding'] = spec.contentEncoding;
    }
    if (spec.webhook && lane.kind === 'company') {
      headers['content-type'] = 'application/json';
      headers['x-github-event'] = spec.webhook.event;
      const delivery = resolve(spec.webhook.delivery, sym);
      if (typeof delivery === 'string') headers['x-github-delivery'] = delivery;
      if (spec.webhook.sign !== 'none') {
        const secret = spec.webhook.sign === 'valid' ? lane.hookSecret : 'not-the-secret';
        headers['x-hub-signature-256'] = `sha256=${createHmac('sha256', secret).update(body ?? '').digest('hex')}`;
      }
    }
    return { method: spec.route.method, path, principal: spec.principal, auth: auth === undefined ? '(none)' : cut(auth, 40), headers, body };
  }

  const timing = { send: 0, db: 0, query: 0, queries: 0, settle: 0 };
  async function send(req: Sent): Promise<Answer> {
    const t0 = Date.now();
    try {
      return await sendOnce(req);
    } finally {
      timing.send += Date.now() - t0;
    }
  }
  // node:http rather than fetch: a third of the test process's time went to fetch's streams and abort signals.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const base = new URL(stack.url);
  function sendOnce(req: Sent): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const r = http.request({ host: base.hostname, port: base.port, method: req.method, path: req.path, headers: req.headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, body, text, replayed: res.headers['idempotent-replayed'] === 'true' });
        });
      });
      r.setTimeout(60_000, () => r.destroy(new Error('no answer within 60 s')));
      r.on('error', reject);
      // Framed explicitly: node's client sends a DELETE's body with neither Content-Length nor chunking.
      if (req.body !== undefined) r.setHeader('content-length', Buffer.byteLength(req.body));
      r.end(req.body);
    });
  }

  const describe = (lane: Lane, n: number, spec: Spec, req: Sent, ans?: Answer) =>
    `seed ${SEED} · lane ${lane.name} · request #${n} · ${spec.route.key} · as ${spec.principal} (${req.auth})\n    ${req.method} ${cut(req.path, 300)}\n    headers ${cut(JSON.stringify({ ...req.headers, authorization: undefined }), 300)}\n    body ${cut(req.body, 400)}` +
    (ans ? `\n    → ${ans.status} ${cut(ans.text, 500)}` : '');

  /** Every answer: below 500, and a 4xx names a code of the table with the status the table gives it. */
  function judge(lane: Lane, n: number, spec: Spec, req: Sent, ans: Answer): void {
    if (TRACE) appendFileSync(TRACE, `${new Date().toISOString()} ${lane.name} #${n} ${spec.principal} ${req.method} ${cut(req.path, 200)} ${cut(req.body, 200)} → ${ans.status} ${cut(ans.text, 200)}\n`);
    const cls = `${Math.floor(ans.status / 100)}xx`;
    stats.byClass.set(cls, (stats.byClass.get(cls) ?? 0) + 1);
    const r = stats.byRoute.get(spec.route.key) ?? { ok: 0, refused: 0 };
    if (ans.status < 300) r.ok++;
    else r.refused++;
    stats.byRoute.set(spec.route.key, r);
    if (ans.status >= 500) return find(`${ans.status} answer`, spec.route.key, describe(lane, n, spec, req, ans));
    if (ans.status >= 400) {
      const code = ans.body?.code ?? ans.body?.error?.code;
      if (typeof code !== 'string' || !(code in ERROR_HTTP_STATUS)) return find('4xx without a stable code', spec.route.key, describe(lane, n, spec, req, ans));
      if (ERROR_HTTP_STATUS[code as keyof typeof ERROR_HTTP_STATUS] !== ans.status) find(`code ${code} with status ${ans.status}`, spec.route.key, describe(lane, n, spec, req, ans));
      return;
    }
    if (ans.status < 200 || ans.status >= 300) find(`${ans.status} answer`, spec.route.key, describe(lane, n, spec, req, ans));
  }

  // --- what a refusal must leave alone

  /** The workflow's `state` Query (asked again, twice at most, when the server dropped it under load). */
  async function workflowState(id: string): Promise<IssueState> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await stack.client.workflow.getHandle(workflowIdFor(id)).query(stateQuery);
      } catch (err) {
        if (attempt >= 3) throw err;
        await sleep(200);
      }
    }
  }

  interface TaskSnap { row: Record<string, unknown>; workflow?: Record<string, unknown>; rowKey: string; workflowKey?: string }
  /** The task's read model (its row and everything hanging off it) and, when asked, its workflow's own state. */
  async function taskSnapshot(id: string, withWorkflow = true): Promise<TaskSnap> {
    const t0 = Date.now();
    const [{ rows }, wf] = await Promise.all([
      stack.pool.query(
        `SELECT i.version, i.status, i.priority, i.title, md5(coalesce(i.description, '')) AS description, i.assignee_agent_id, i.goal_id, i.checkout, i.fingerprint, i.collab, i.lifecycle, i.workflow_status,
                (SELECT count(*)::int FROM comments c WHERE c.issue_id = i.id) AS comments,
                (SELECT count(*)::int FROM activity_log x WHERE x.issue_id = i.id) AS activity,
                (SELECT count(*)::int FROM issues c WHERE c.parent_id = i.id) AS children,
                (SELECT count(*)::int FROM issue_documents d WHERE d.issue_id = i.id) AS documents,
                (SELECT count(*)::int FROM document_revisions d WHERE d.issue_id = i.id AND d.revision_number IS NOT NULL) AS revisions,
                (SELECT coalesce(string_agg(x.status, ',' ORDER BY x.id), '') FROM issue_interactions x WHERE x.issue_id = i.id) AS interactions,
                (SELECT count(*)::int FROM issue_blockers x WHERE x.issue_id = i.id OR x.blocker_issue_id = i.id) AS blockers
         FROM issues i WHERE i.id = $1`,
        [id],
      ),
      withWorkflow ? workflowState(id).finally(() => ((timing.query += Date.now() - t0), timing.queries++)) : undefined,
    ]);
    timing.db += Date.now() - t0;
    const workflow = wf ? (canon(wf) as Record<string, unknown>) : undefined;
    return { row: rows[0], rowKey: JSON.stringify(canon(rows[0])), ...(workflow ? { workflow, workflowKey: JSON.stringify(workflow) } : {}) };
  }
  /** Equal where both looked (the read model always; the workflow when both asked it). */
  const unchanged = (x: TaskSnap, y: TaskSnap) => x.rowKey === y.rowKey && (!x.workflowKey || !y.workflowKey || x.workflowKey === y.workflowKey);
  const same = (x: unknown, y: unknown) => JSON.stringify(canon(x)) === JSON.stringify(canon(y));

  /**
   * The task once nothing is moving: the read model at the workflow's version (and still there a moment later),
   * and the workflow told of every child this lane made. The baseline the next refusal is held to.
   */
  async function settle(lane: TaskLane): Promise<TaskSnap> {
    const t0 = Date.now();
    try {
      return await settleOnce(lane);
    } finally {
      timing.settle += Date.now() - t0;
    }
  }
  async function settleOnce(lane: TaskLane): Promise<TaskSnap> {
    let prev: TaskSnap | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      const cur = await taskSnapshot(lane.id);
      if (cur.row.version === cur.workflow!.version && awaited(lane, cur.workflow as unknown as IssueState)) {
        // The read model at the workflow's version, and still there a moment later.
        await sleep(40);
        if ((await taskSnapshot(lane.id, false)).rowKey === cur.rowKey) return cur;
      }
      prev = cur;
      await sleep(40);
    }
    prev ??= await taskSnapshot(lane.id);
    find('a task that does not settle', lane.name, `after 10 s: workflow version ${prev.workflow?.version}, read model version ${prev.row.version}, children ${JSON.stringify((prev.workflow as any)?.collab?.children)} (expected ${JSON.stringify(lane.children)})`);
    return prev;
  }

  /** What an accepted request set going after its answer has arrived: its children's start notices (they come from the children's workflows). */
  function awaited(lane: TaskLane, wf: IssueState): boolean {
    const children = new Set((wf.collab?.children ?? []).map((c) => c.id));
    const blocks = new Set(wf.collab?.blocks ?? []);
    return lane.children.every((c) => children.has(c)) && lane.dependents.every((d) => blocks.has(d));
  }

  /**
   * Changes no request made: a lease the workflow's timer ended; the late start notice of a child this lane
   * made (child_added, blocks_added: system entries naming it); on a task from GitHub, the provider's own news.
   */
  async function excused(lane: TaskLane, before: TaskSnap): Promise<boolean> {
    const { rows } = await stack.pool.query<{ action: string; actor_agent_id: string | null; actor_user: string | null; details: Record<string, unknown> }>(
      'SELECT action, actor_agent_id, actor_user, details FROM activity_log WHERE issue_id = $1 AND version > $2',
      [lane.id, before.row.version],
    );
    if (rows.length === 0) return false;
    if (rows.some((r) => r.action === 'issue.lease_expired' && r.actor_agent_id === null)) return true;
    const mine = (id: unknown) => lane.children.includes(String(id));
    if (rows.every((r) => r.actor_agent_id === null && ((r.action === 'issue.child_added' && mine(r.details.childIssueId)) || (r.action === 'issue.blocks_added' && mine(r.details.issueId))))) return true;
    return lane.sourced && rows.every((r) => r.actor_agent_id === null && r.actor_user !== 'board');
  }

  /** The fields that differ between two snapshots, each with both values. */
  function diffOf(x: TaskSnap | Record<string, unknown>, y: TaskSnap | Record<string, unknown>): string {
    const out: string[] = [];
    const walk = (a: any, b: any, at: string) => {
      for (const k of new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])) {
        if (same(a?.[k], b?.[k])) continue;
        if (a?.[k] && b?.[k] && typeof a[k] === 'object' && typeof b[k] === 'object' && !Array.isArray(a[k]) && at.split('.').length < 3) walk(a[k], b[k], `${at}${k}.`);
        else out.push(`${at}${k}: ${cut(JSON.stringify(a?.[k]), 200)} → ${cut(JSON.stringify(b?.[k]), 200)}`);
      }
    };
    walk(x, y, '');
    return out.join('\n      ');
  }

  function harvest(lane: Lane, spec: Spec, ans: Answer): void {
    const k = spec.route.key;
    const id = ans.body?.id ?? ans.body?.data?.id;
    if (lane.kind === 'task') {
      if (k === 'POST /api/issues/{issueId}/comments' && typeof id === 'string') lane.comments.push(id);
      if (k === 'PATCH /api/issues/{issueId}' && typeof ans.body?.comment?.id === 'string') lane.comments.push(ans.body.comment.id);
      if (k === 'POST /api/issues/{issueId}/interactions' && typeof id === 'string') lane.interactions.push(id);
      if (k === 'PUT /api/issues/{issueId}/documents/{key}' && typeof ans.body?.latestRevisionId === 'string') lane.revisions.push(ans.body.latestRevisionId);
      if (typeof id === 'string' && ans.body?.parentId === lane.id && (k === 'POST /api/issues/{issueId}/children' || k === 'POST /api/companies/{companyId}/issues')) {
        lane.children.push(id);
        if (Array.isArray(ans.body.blockedByIssueIds) && ans.body.blockedByIssueIds.includes(lane.id)) lane.dependents.push(id);
      }
      if (k === 'POST /api/tasks/{issueId}/submit' && typeof ans.body?.data?.headSha === 'string' && /^[0-9a-f]{40}$/.test(ans.body.data.headSha)) lane.sha = ans.body.data.headSha;
    } else {
      if (k === 'POST /api/companies/{companyId}/goals' && typeof id === 'string') lane.goals.push(id);
      if (k === 'POST /api/companies/{companyId}/sources' && typeof id === 'string') lane.sources.push(id);
    }
  }

  async function runTaskLane(lane: TaskLane): Promise<void> {
    let base = await settle(lane);
    let previous = '(none)';
    for (const [n, spec] of plans.get(lane)!.entries()) {
      const req = build(lane, spec, n);
      let ans: Answer;
      try {
        ans = await send(req);
      } catch (err) {
        find('no answer', spec.route.key, `${describe(lane, n, spec, req)}\n    ${(err as Error).message}`);
        base = await settle(lane);
        continue;
      }
      stats.sent++;
      judge(lane, n, spec, req, ans);
      const replayed = ans.replayed;
      if (ans.status >= 200 && ans.status < 300 && spec.route.method !== 'GET' && !replayed) {
        harvest(lane, spec, ans);
        base = await settle(lane);
      } else if (ans.status < 500) {
        // A refusal, a read, a replay: the task is as it was, in the read model and in the workflow. The workflow is
        // asked after the refusals it gives (409, 422, and 403 naming the action) and after one request in twelve; a change it made
        // and the read model has not shown yet shows at the next look (which names the request before it).
        const fromWorkflow = ans.status === 409 || ans.status === 422 || (ans.status === 403 && (ans.body?.details?.action ?? ans.body?.error?.details?.action) !== undefined);
        const after = await taskSnapshot(lane.id, fromWorkflow || n % 12 === 0);
        if (!unchanged(base, after)) {
          const settled = await settle(lane);
          if (await excused(lane, base)) stats.excused++;
          else find(ans.status >= 400 ? 'a change after a 4xx' : replayed ? 'a change after a replay' : 'a change after a read', spec.route.key, `${describe(lane, n, spec, req, ans)}\n    changed: ${diffOf({ row: base.row, workflow: base.workflow }, { row: after.row, workflow: after.workflow ?? base.workflow })}\n    (the request before it: ${previous})`);
          base = settled;
        }
      } else {
        base = await settle(lane);
      }
      previous = `#${n} ${spec.route.key} as ${spec.principal} → ${ans.status}`;
    }
  }

  async function companySnapshot(lane: CompanyLane) {
    const { rows } = await stack.pool.query(
      `SELECT c.name, c.settings,
              (SELECT count(*)::int FROM agents x WHERE x.company_id = c.id) AS agents,
              (SELECT coalesce(string_agg(concat_ws('|', g.id, g.title, g.status, g.level, g.parent_id, g.owner_agent_id, md5(coalesce(g.description, ''))), ',' ORDER BY g.id), '') FROM goals g WHERE g.company_id = c.id) AS goals,
              (SELECT coalesce(string_agg(concat_ws('|', s.id, s.paused, s.poll_interval_seconds, s.review_policy, s.default_branch, s.deleted_at, md5(s.credential_sealed), md5(coalesce(s.webhook_secret_sealed, '')), s.labels::text), ',' ORDER BY s.id), '') FROM sources s WHERE s.company_id = c.id) AS sources,
              (SELECT concat_ws('|', r.version, r.rules::text) FROM routing_rules r WHERE r.company_id = c.id) AS routing,
              (SELECT count(*)::int FROM issues i WHERE i.company_id = c.id AND coalesce(i.lifecycle->'source', 'null'::jsonb) = 'null'::jsonb) AS issues,
              (SELECT count(*)::int FROM webhook_deliveries d JOIN sources s ON s.id = d.source_id WHERE s.company_id = c.id) AS deliveries,
              CASE WHEN $2 THEN (SELECT count(*)::int FROM companies) END AS companies,
              CASE WHEN $2 THEN (SELECT md5(coalesce(wake_target_sealed, '')) FROM agents WHERE id = $3) END AS sink
       FROM companies c WHERE c.id = $1`,
      [lane.companyId, lane.primary, world.sink],
    );
    return rows[0];
  }

  async function runCompanyLane(lane: CompanyLane): Promise<void> {
    let base = await companySnapshot(lane);
    let previous = '(none)';
    for (const [n, spec] of plans.get(lane)!.entries()) {
      const req = build(lane, spec, n);
      let ans: Answer;
      try {
        ans = await send(req);
      } catch (err) {
        find('no answer', spec.route.key, `${describe(lane, n, spec, req)}\n    ${(err as Error).message}`);
        continue;
      }
      stats.sent++;
      judge(lane, n, spec, req, ans);
      const replayed = ans.replayed;
      if (ans.status >= 200 && ans.status < 300 && spec.route.method !== 'GET' && !replayed) {
        harvest(lane, spec, ans);
        base = await companySnapshot(lane);
      } else if (ans.status < 500) {
        const after = await companySnapshot(lane);
        if (!same(base, after)) {
          find(ans.status >= 400 ? 'a change after a 4xx' : 'a change after a read or replay', spec.route.key, `${describe(lane, n, spec, req, ans)}\n    changed: ${diffOf(base, after)}\n    (the request before it: ${previous})`);
          base = after;
        }
      } else {
        base = await companySnapshot(lane);
      }
      previous = `#${n} ${spec.route.key} as ${spec.principal} → ${ans.status}`;
    }
  }

  const fuzzStarted = Date.now();
  await Promise.all([...taskLanes.map(runTaskLane), ...companyLanes.map(runCompanyLane)]);
  agent.destroy();
  const fuzzMs = Date.now() - fuzzStarted;
  t.diagnostic(`fuzz: ${stats.sent} requests in ${fuzzMs} ms (${Math.round((stats.sent * 1000) / fuzzMs)}/s); ${[...stats.byClass].map(([c, k]) => `${c}: ${k}`).join(', ')}; excused (lease timer, provider): ${stats.excused}`);
  t.diagnostic(`time (summed over lanes): ${JSON.stringify(timing)}`);
  t.diagnostic(`accepted per route: ${[...stats.byRoute].sort().map(([r, s]) => `${r} ${s.ok}/${s.ok + s.refused}`).join(' · ')}`);

  // --- afterwards: every task of the run, read model = workflow, and it still takes a normal change from its holder
  const { rows: all } = await stack.pool.query<{ id: string }>('SELECT id FROM issues ORDER BY created_at');
  const agentKeys = new Map(world.keys);
  async function consistent(id: string, what: string): Promise<IssueState | undefined> {
    let wf: IssueState | undefined;
    let row: IssueRow | undefined;
    try {
      await waitFor(`${id}: read model at the workflow's version`, async () => {
        wf = await workflowState(id);
        row = (await stack.pool.query<IssueRow>('SELECT * FROM issues WHERE id = $1', [id])).rows[0];
        return row?.version === wf.version;
      }, (done) => done, 20_000);
    } catch (err) {
      find('read model never reaches the workflow\'s version', what, `task ${id}: ${(err as Error).message}; workflow version ${wf?.version}, read model version ${row?.version}`);
      return wf;
    }
    const fromRow = JSON.parse(JSON.stringify(rowToState(row!)));
    const fromWorkflow = JSON.parse(JSON.stringify(wf));
    const diff = Object.keys({ ...fromRow, ...fromWorkflow }).filter((k) => !same(fromRow[k], fromWorkflow[k]));
    if (diff.length) find('read model ≠ workflow state', diff.join(', '), `task ${id}, ${what}: fields ${diff.join(', ')} differ: ${diff.map((k) => `${k}: read model ${cut(JSON.stringify(fromRow[k]), 300)} · workflow ${cut(JSON.stringify(fromWorkflow[k]), 300)}`).join('; ')}`);
    else if (row!.fingerprint !== fingerprintOfState(wf!)) find('read model fingerprint ≠ the fingerprint of the workflow\'s state', `fingerprint, description ${wf!.description === null ? 'null' : wf!.description === '' ? 'empty' : 'set'}`, `task ${id} (description ${JSON.stringify(wf!.description)?.slice(0, 40)}), ${what}: read model ${row!.fingerprint}, the workflow's state ${fingerprintOfState(wf!)}`);
    return wf;
  }
  let checked = 0;
  const queue = [...all];
  await Promise.all([...Array(12)].map(async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const wf = await consistent(next.id, 'after the fuzz');
      if (!wf) continue;
      const holderId = wf.checkout?.agentId ?? wf.assigneeAgentId;
      const key = holderId ? agentKeys.get(holderId) : undefined;
      const who = key ? `its holder ${holderId}` : holderId ? `the operator (holder ${holderId} is not an agent of this test)` : 'the operator (nobody holds it)';
      const client = key ? stack.as(key, `fz-after-${next.id.slice(0, 8)}`) : stack.admin;
      const r = await client.post(`/api/issues/${next.id}/comments`, { body: 'Still here after the fuzz.' });
      if (r.status !== 201) find('a normal change refused after the fuzz', `${r.status} ${r.body?.code}`, `POST /api/issues/${next.id}/comments as ${who} (status ${wf.status}) → ${r.status} ${cut(JSON.stringify(r.body), 400)}`);
      else await consistent(next.id, 'after its holder\'s comment');
      checked++;
    }
  }));
  const { rows: leftovers } = await stack.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM document_revisions WHERE revision_number IS NULL');
  if (leftovers[0]!.n > 0) find('unpublished document revisions left behind', 'PUT /api/issues/{issueId}/documents/{key}', `${leftovers[0]!.n} revision bodies no decision published`);
  const { rows: failures } = await stack.pool.query('SELECT issue_id, version, code, message FROM projection_failures WHERE resolved_at IS NULL LIMIT 5');
  if (failures.length) find('read-model writes Postgres refused', 'projection', JSON.stringify(failures));
  if (fake.violations.length || fake.errors.length) t.diagnostic(`the fake GitHub: ${fake.violations.length} schema violations (${cut(JSON.stringify(fake.violations.slice(0, 3)), 600)}), ${fake.errors.length} errors (${cut(fake.errors.slice(0, 3).join(' | '), 600)})`);
  t.diagnostic(`afterwards: ${checked} of ${all.length} tasks checked against their workflow and changed by their holder; ${Date.now() - started} ms in all`);

  // --- the verdict: every finding, grouped, with one reproduction each
  const groups = new Map<string, { count: number; first: string }>();
  for (const f of findings) {
    const g = `${f.kind} · ${f.where}`;
    const got = groups.get(g);
    if (got) got.count++;
    else groups.set(g, { count: 1, first: f.detail });
  }
  const report = [...groups].map(([g, { count, first }]) => `\n[${count}×] ${g}\n  ${first}`).join('\n');
  assert.equal(findings.length, 0, `FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}: ${findings.length} findings in ${groups.size} groups:${report}`);

  // And the run did what it says: enough requests, every route reached, the lanes' tasks really changed.
  assert.ok(stats.sent >= RUNS, `${stats.sent} requests sent, ${RUNS} asked`);
  const unreached = ROUTES.filter((r) => !stats.byRoute.has(r.key)).map((r) => r.key);
  if (RUNS >= ROUTES.length * 50) assert.deepEqual(unreached, [], 'every route of the document was sent requests');
  const accepted = [...stats.byRoute.values()].reduce((s, r) => s + r.ok, 0);
  assert.ok(accepted >= RUNS * 0.05, `only ${accepted} of ${stats.sent} requests were accepted: the generator no longer reaches the rules`);
});
