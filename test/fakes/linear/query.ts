/**
 * Relay connections with opaque cursors, and Linear's filter language (comparators, nested entity
 * filters, collection filters, and/or) evaluated over the fake's entities. A filter field the fake does
 * not model is an error naming it, never silently ignored (ignoring would widen the result).
 */
import { GraphQLError } from 'graphql';
import type { FakeLinear } from './fake.js';

export function notModelled(what: string): GraphQLError {
  return new GraphQLError(`fake-linear: ${what} is not modelled`, { extensions: { type: 'internal error', code: 'FAKE_NOT_MODELLED' } });
}

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  orderBy?: 'createdAt' | 'updatedAt' | null;
}

type Entity = { id: string; createdAt: string; updatedAt: string };

const encode = (key: string, id: string) => Buffer.from(JSON.stringify([key, id])).toString('base64url');
function decode(cursor: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string') return [v[0], v[1]];
  } catch {
    // fall through
  }
  throw new GraphQLError('Argument Validation Error - cursor is not valid', { extensions: { type: 'invalid input', code: 'INPUT_ERROR', userError: true, userPresentableMessage: 'Invalid pagination cursor.' } });
}

/**
 * Newest first by `orderBy` (default createdAt), ties by id: what Linear's docs describe for
 * `orderBy: updatedAt` ("most recently updated"). Cursors carry (sort key, id), so they stay valid
 * when other items change.
 */
export function connection<T extends Entity>(items: T[], args: ConnectionArgs) {
  const by = args.orderBy === 'updatedAt' ? 'updatedAt' : 'createdAt';
  const cmp = (ak: string, aid: string, bk: string, bid: string) => (ak === bk ? (aid < bid ? 1 : aid > bid ? -1 : 0) : ak < bk ? 1 : -1);
  const all = [...items].sort((a, b) => cmp(a[by], a.id, b[by], b.id));
  for (const n of [args.first, args.last]) if (n !== undefined && n !== null && (n < 0 || n > 250)) throw new GraphQLError('first/last must be between 0 and 250', { extensions: { type: 'invalid input', code: 'INPUT_ERROR', userError: true } });
  let start = 0;
  let end = all.length;
  if (args.after) {
    const [k, id] = decode(args.after);
    start = all.findIndex((x) => cmp(x[by], x.id, k, id) > 0);
    if (start < 0) start = all.length;
  }
  if (args.before) {
    const [k, id] = decode(args.before);
    const i = all.findIndex((x) => cmp(x[by], x.id, k, id) >= 0);
    end = i < 0 ? all.length : i;
  }
  if (args.last !== undefined && args.last !== null && args.first == null) start = Math.max(start, end - args.last);
  else end = Math.min(end, start + (args.first ?? 50));
  const page = all.slice(start, Math.max(start, end));
  const edges = page.map((node) => ({ node, cursor: encode(node[by], node.id) }));
  return {
    nodes: page,
    edges,
    pageInfo: { hasPreviousPage: start > 0, hasNextPage: end < all.length, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
  };
}

// ------------------------------------------------------------------ filters

type Field =
  | { kind: 'value'; get: (e: any, f: FakeLinear) => unknown }
  | { kind: 'entity'; get: (e: any, f: FakeLinear) => unknown; spec: () => Spec }
  | { kind: 'collection'; get: (e: any, f: FakeLinear) => unknown[]; spec: () => Spec };
export interface Spec {
  name: string;
  fields: Record<string, Field>;
}

const v = (get: (e: any, f: FakeLinear) => unknown): Field => ({ kind: 'value', get });
const own = (k: string) => v((e) => e[k]);

export const TEAM: Spec = { name: 'TeamFilter', fields: { id: own('id'), key: own('key'), name: own('name'), createdAt: own('createdAt'), updatedAt: own('updatedAt') } };
export const USER: Spec = { name: 'UserFilter', fields: { id: own('id'), name: own('name'), displayName: own('displayName'), email: own('email'), active: own('active') } };
export const STATE: Spec = {
  name: 'WorkflowStateFilter',
  fields: { id: own('id'), name: own('name'), type: own('type'), position: own('position'), createdAt: own('createdAt'), updatedAt: own('updatedAt'), team: { kind: 'entity', get: (s, f) => f.teams.get(s.teamId), spec: () => TEAM } },
};
export const LABEL: Spec = {
  name: 'IssueLabelFilter',
  fields: { id: own('id'), name: own('name'), createdAt: own('createdAt'), updatedAt: own('updatedAt'), team: { kind: 'entity', get: (l, f) => (l.teamId ? f.teams.get(l.teamId) : null), spec: () => TEAM } },
};
export const ISSUE: Spec = {
  name: 'IssueFilter',
  fields: {
    id: own('id'), number: own('number'), title: own('title'), description: own('description'), priority: own('priority'),
    createdAt: own('createdAt'), updatedAt: own('updatedAt'), completedAt: own('completedAt'), canceledAt: own('canceledAt'), startedAt: own('startedAt'),
    team: { kind: 'entity', get: (i, f) => f.teams.get(i.teamId), spec: () => TEAM },
    state: { kind: 'entity', get: (i, f) => f.states.get(i.stateId), spec: () => STATE },
    creator: { kind: 'entity', get: (i, f) => (i.creatorId ? f.users.get(i.creatorId) : null), spec: () => USER },
    labels: { kind: 'collection', get: (i, f) => i.labelIds.map((id: string) => f.labels.get(id)), spec: () => LABEL },
  },
};
export const COMMENT: Spec = {
  name: 'CommentFilter',
  fields: { id: own('id'), body: own('body'), createdAt: own('createdAt'), updatedAt: own('updatedAt'), user: { kind: 'entity', get: (c, f) => (c.userId ? f.users.get(c.userId) : null), spec: () => USER } },
};

export function matches(filter: Record<string, any> | null | undefined, e: unknown, spec: Spec, fake: FakeLinear): boolean {
  if (!filter) return true;
  return Object.entries(filter).every(([k, cond]) => {
    if (cond === null || cond === undefined) return true;
    if (k === 'and') return (cond as any[]).every((c) => matches(c, e, spec, fake));
    if (k === 'or') return (cond as any[]).some((c) => matches(c, e, spec, fake));
    const field = spec.fields[k];
    if (!field) throw notModelled(`filter ${spec.name}.${k}`);
    if (field.kind === 'value') return compare(cond, field.get(e, fake), `${spec.name}.${k}`);
    if (field.kind === 'entity') {
      const target = field.get(e, fake);
      const { null: isNull, ...rest } = cond;
      if (isNull !== undefined && isNull !== (target == null)) return false;
      return Object.keys(rest).length === 0 || (target != null && matches(rest, target, field.spec(), fake));
    }
    const items = field.get(e, fake);
    return Object.entries(cond as Record<string, any>).every(([ck, cv]) => {
      if (cv === null || cv === undefined) return true;
      if (ck === 'some') return items.some((x) => matches(cv, x, field.spec(), fake));
      if (ck === 'every') return items.every((x) => matches(cv, x, field.spec(), fake));
      if (ck === 'length') return compare(cv, items.length, `${spec.name}.${k}.length`);
      if (ck === 'null') return cv === (items.length === 0);
      return items.some((x) => matches({ [ck]: cv }, x, field.spec(), fake));
    });
  });
}

const ISO = /^\d{4}-\d\d-\d\dT/;

function compare(cond: Record<string, unknown>, actual: unknown, where: string): boolean {
  const norm = (x: unknown): unknown => {
    if (typeof actual === 'string' && ISO.test(actual) && typeof x === 'string') {
      const t = Date.parse(x);
      if (Number.isNaN(t)) throw notModelled(`relative date ${x} in ${where}`);
      return t;
    }
    return x;
  };
  const a = norm(actual) as any;
  const s = String(actual ?? '').toLowerCase();
  return Object.entries(cond).every(([op, raw]) => {
    if (raw === null || raw === undefined) return true;
    const x = Array.isArray(raw) ? raw.map(norm) : (norm(raw) as any);
    switch (op) {
      case 'eq': return a === x;
      case 'neq': return a !== x;
      case 'in': return (x as unknown[]).includes(a);
      case 'nin': return !(x as unknown[]).includes(a);
      case 'gt': return actual != null && a > x;
      case 'gte': return actual != null && a >= x;
      case 'lt': return actual != null && a < x;
      case 'lte': return actual != null && a <= x;
      case 'null': return raw === (actual == null);
      case 'eqIgnoreCase': return s === String(raw).toLowerCase();
      case 'neqIgnoreCase': return s !== String(raw).toLowerCase();
      case 'contains': return String(actual ?? '').includes(String(raw));
      case 'containsIgnoreCase': return s.includes(String(raw).toLowerCase());
      case 'startsWith': return String(actual ?? '').startsWith(String(raw));
      case 'endsWith': return String(actual ?? '').endsWith(String(raw));
      default: throw notModelled(`comparator ${op} on ${where}`);
    }
  });
}
