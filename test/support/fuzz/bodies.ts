/** Whole bodies and query strings for a route: valid, or with one field at an edge, hostile, missing or extra, or not JSON at all. */
import fc from 'fast-check';
import { HOSTILE_STRINGS, PINNED, boundaryArb, branches, hostileArb, typesOf, validArb, type Arb } from './field-arbitraries.js';
import type { JS, RouteDef } from './routes.js';
import { Big, NO_BODY, Raw, S, own } from './symbolic.js';

/** Every field of a body schema, nested objects and array items included. */
export function fieldsOf(s: JS, prefix: string[] = []): Array<{ path: string[]; schema: JS }> {
  const out: Array<{ path: string[]; schema: JS }> = [];
  // Every object branch's fields (a discriminated union's too: a field of another branch is an extra one to this).
  const seen = new Set<string>();
  const properties = branches(s).filter((b) => typesOf(b).includes('object') && b.properties).flatMap((b) => Object.entries(b.properties as Record<string, JS>));
  for (const [k, sub] of properties) {
    const id = `${k} ${JSON.stringify(sub)}`;
    if (seen.has(id)) continue;
    seen.add(id);
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
export function bodyArb(route: RouteDef): Arb {
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
export function queryArb(route: RouteDef): fc.Arbitrary<Array<[string, unknown]>> {
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
