/** Arbitraries for one field from its JSON Schema: valid values (with this world's ids where the name says so), its edges, and hostile values. */
import fc from 'fast-check';
import { STATUSES } from '../../../domain/statuses.js';
import { HOSTILE_PATTERNS, HOSTILE_TITLE } from '../hostile.js';
import { ALL_TAKEABLE } from '../seed.js';
import { CIRCLE_HOOK_ROUTE, LINEAR_HOOK_ROUTE, WEBHOOK_ROUTE, type JS } from './routes.js';
import { Big, S, nest, own } from './symbolic.js';

export type Arb = fc.Arbitrary<unknown>;
const BYTE_LIMITS: Record<string, number> = { description: 65_536, comment: 65_536, detailsMarkdown: 8_192 };
export const CLOSING = ['Inline result: done. Result: ok. Verified: by hand.', 'Short answer: yes. Verified: tests pass.', 'Shipped in commit 3f2a9c1b7d. Result: ok.', 'doc:plan asset:42', 'All tests passing.'];
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
  if (route === LINEAR_HOOK_ROUTE) return linearHookHint(path);
  if (route === CIRCLE_HOOK_ROUTE) return circleHookHint(path);
  // Linear's states as a source's filter, by name.
  if (path[path.length - 2] === 'states' && s.type === 'string') return fc.constantFrom('Todo', 'In Progress', 'Backlog', 'Triage', 'todo', 'Done');
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
      // CircleCI's API on the fake CircleCI, GitHub's on the fake GitHub: a test calls no one else.
      return fc.constant(path.includes('circleci') ? S('circleUrl') : S('fakeUrl'));
    case 'apiUrl':
      return fc.constant(S('linearUrl'));
    case 'teamKey':
      // The lane's own team (connected once; then source_exists), a team the lane already connected, one Linear does not have.
      return fc.constantFrom(S('teamKey'), S('teamKey'), S('teamKey'), S('teamKey'), S('hookTeamKey'), 'NOSUCHTEAM');
    case 'sourceId':
      // A Linear source's repository: the lane's GitHub source, another company's, or none.
      return fc.oneof({ weight: 6, arbitrary: fc.constant(S('ghSource')) }, { weight: 1, arbitrary: fc.constant(S('otherSource')) }, { weight: 1, arbitrary: fc.uuid() });
    case 'projectSlug':
      return fc.constantFrom(S('projectSlug'), S('projectSlug'), 'gh/acme/app', 'circleci/abc/def');
    case 'stateId':
      // The task's Linear team's states (mostly open ones: a closed one ends the task), or one Linear refuses (its 502 upstream_error).
      return fc.oneof({ weight: 12, arbitrary: fc.constant(S('linearState')) }, { weight: 1, arbitrary: fc.constant(S('linearClosedState')) }, { weight: 1, arbitrary: fc.constantFrom('00000000-0000-4000-8000-000000000000', 'not-a-state') });
    case 'token':
      return path.includes('circleci') ? fc.constantFrom(S('circleToken'), S('circleToken'), S('circleToken'), 'CCIPAT_not_a_token') : undefined;
    case 'owner':
      return fc.constant(S('laneOwner'));
    case 'repo':
      return route.includes('routing') ? fc.constantFrom(S('laneRepoFull'), 'acme/app') : fc.constant(S('laneRepo'));
    case 'credential': {
      // GitHub's token, or Linear's key (the lane's, mostly; one Linear does not know), as the schema's branches take.
      const github = fc.constantFrom({ token: 'ghp_fuzz_token' }, { token: 'ghp_other' });
      const linear = fc.constantFrom({ apiKey: S('linearKey') }, { apiKey: S('linearKey') }, { apiKey: S('linearKey') }, { apiKey: 'lin_api_not_a_key' });
      const kinds = [...(hasProperty(s, 'token') ? [github] : []), ...(hasProperty(s, 'apiKey') ? [linear] : [])];
      return kinds.length ? fc.oneof(...kinds) : undefined;
    }
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

/** Whether the schema (or one of its branches) has this property. */
function hasProperty(s: JS, name: string): boolean {
  return !!s.properties?.[name] || [...(s.anyOf ?? []), ...(s.oneOf ?? [])].some((b: JS) => hasProperty(b, name));
}

/** A Linear delivery's fields: the lane's hooked team and its issues, mostly; a timestamp of now, mostly. */
function linearHookHint(path: string[]): Arb | undefined {
  const at = path.join('.');
  const f = path[path.length - 1] ?? '';
  if (at === 'webhookTimestamp') return fc.oneof({ weight: 12, arbitrary: fc.constant(S('now')) }, { weight: 1, arbitrary: fc.constantFrom(S('stale'), S('future')) });
  if (at === 'data.id') return fc.oneof({ weight: 4, arbitrary: fc.constant(S('hookIssueId')) }, { weight: 1, arbitrary: fc.uuid() });
  if (at === 'data.identifier') return fc.constant(S('hookIssueIdentifier'));
  if (at === 'data.issueId') return fc.oneof({ weight: 4, arbitrary: fc.constant(S('hookIssueId')) }, { weight: 1, arbitrary: fc.constantFrom(null, '3f2b8c1e-6a4d-4e8f-9b1c-2d3e4f5a6b7c') });
  if (at === 'data.team.key') return fc.constantFrom(S('hookTeamKey'), S('hookTeamKey'), S('hookTeamKey'), 'OTHER');
  if (at === 'data.team.id') return fc.constant(S('hookTeamId'));
  if (at === 'data.url') return fc.constant('https://linear.app/fuzz/issue/FZ-1/an-issue');
  if (at === 'data.user.id') return fc.constantFrom(S('hookUserId'), 'a-person-1', 'a-person-2');
  if (path[1] === 'labels' && f === 'name') return fc.constantFrom('bug', 'feature', 'Bug');
  if (at === 'data.state') {
    return fc.constantFrom({ id: 'st-todo', name: 'Todo', type: 'unstarted' }, { id: 'st-progress', name: 'In Progress', type: 'started' }, { id: 'st-backlog', name: 'Backlog', type: 'backlog' }, { id: 'st-done', name: 'Done', type: 'completed' }, { id: 'st-canceled', name: 'Canceled', type: 'canceled' });
  }
  return undefined;
}

/** A CircleCI delivery's fields: the lane's project, mostly. */
function circleHookHint(path: string[]): Arb | undefined {
  const at = path.join('.');
  if (at === 'project.slug') return fc.constantFrom(S('projectSlug'), S('projectSlug'), S('projectSlug'), 'gh/someone/else');
  if (at === 'pipeline.vcs.revision') return fc.constantFrom(S('sha40'), 'a'.repeat(40), 'abcdef1');
  if (at === 'workflow.url') return fc.constant('https://app.circleci.com/pipelines/gh/acme/app/1/workflows/x');
  return undefined;
}

/**
 * Fields always sent with a value of this world, by their path in the body, wherever their object is sent:
 * a source's GitHub, Linear and CircleCI are the fakes (left out, each would be the real service, which a
 * test must not call; a source whose provider does not answer is an outage, 503, which is not what this
 * test is about).
 */
export const PINNED: Record<string, string[]> = {
  'POST /api/companies/{companyId}/sources': ['baseUrl', 'apiUrl', 'ci.circleci.baseUrl'],
  'PATCH /api/sources/{sourceId}': ['ci.circleci.baseUrl'],
};
/** The pinned fields of the object at `path` that its schema has. */
function pinnedAt(route: string, path: string[], props: Record<string, JS>): string[] {
  const here = path.join('.');
  return (PINNED[route] ?? []).flatMap((p) => {
    const i = p.lastIndexOf('.');
    const key = p.slice(i + 1);
    return (i < 0 ? '' : p.slice(0, i)) === here && key in props ? [key] : [];
  });
}

/** Schemas of an `anyOf`/`oneOf`, or the schema itself. */
export const branches = (s: JS): JS[] => s.anyOf ?? s.oneOf ?? [s];
export const typesOf = (s: JS): string[] => (Array.isArray(s.type) ? s.type : s.type ? [s.type] : []);

export function validArb(route: string, s: JS, path: string[]): Arb {
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
      const required: string[] = [...new Set([...(s.required ?? []), ...pinnedAt(route, path, props)])];
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
export const UUID_EDGES = ['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF', '123e4567e89b12d3a456426614174000', '{123e4567-e89b-12d3-a456-426614174000}', '123e4567-e89b-12d3-a456-42661417400', '123e4567-e89b-12d3-a456-4266141740000', ' 123e4567-e89b-42d3-a456-426614174000'];

const boundaryCache = new Map<string, Arb>();
/** The edges of what the field's schema allows, both sides. */
export function boundaryArb(route: string, s: JS, path: string[]): Arb {
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
      if (b.format === 'uri' && f !== 'baseUrl' && f !== 'apiUrl') values.push(`http://127.0.0.1:9/${'a'.repeat(1990)}`, 'http://127.0.0.1:9/');
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

export const HOSTILE_STRINGS: unknown[] = [
  'a\u0000b', '\u0000', '\ud800', '\udfff', 'x\udc00y', 'lone \ud83d end', '\u202eevil\u202c', '\u200b\u200d', '\ufeffbom', 'e\u0301'.repeat(200), '𝕏𝕐ℤ', '%00', '%s%n%x', '../../../../etc/passwd',
  "' OR 1=1 --", '"; DROP TABLE issues; --', '<script>alert(1)</script>', '{{7*7}}', '${7*7}', '${jndi:ldap://x/a}', 'NaN', 'Infinity', '-Infinity', '-0', '1e309', '0x10', 'null', 'undefined', 'true',
  '__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'X\r\nInjected: 1', '\\u0000', new Big('A', 70_000), new Big('😀', 40_000), new Big('\u0000', 5), new Big('\ud800', 3), HOSTILE_TITLE,
];
const HOSTILE_VALUES: unknown[] = [
  null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 53), 1e308, [], [null], [[[]]], {}, own([['__proto__', { polluted: 'yes' }]]), own([['constructor', { prototype: { polluted: 'yes' } }]]),
  own([['__proto__', null]]), nest(10), nest(40), Array(1000).fill('x'), { length: 1e9 }, { toString: 'x', valueOf: 1 },
];
export const hostileArb: Arb = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_VALUES) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
);
