/** Values the generator leaves symbolic (ids, long strings, raw text) and how they resolve when a request is sent. */

/** A value known only when the request is sent (ids, the lane's SHA, its latest comment …). */
class Sym {
  constructor(readonly name: string) {}
  toJSON() {
    return `<${this.name}>`;
  }
}
/** A long string, built when sent (the generated requests stay small in memory). */
export class Big {
  constructor(readonly unit: string, readonly count: number) {}
  toJSON() {
    return `<${JSON.stringify(this.unit)} × ${this.count}>`;
  }
}
/** Text sent exactly as is: a body that is not JSON, a path or query segment not to be encoded. */
export class Raw {
  constructor(readonly parts: Array<string | Big>) {}
  toJSON() {
    return `<raw ${this.parts.map((p) => (typeof p === 'string' ? p.slice(0, 60) : p.toJSON())).join('')}>`;
  }
  text(): string {
    return this.parts.map((p) => (typeof p === 'string' ? p : p.unit.repeat(p.count))).join('');
  }
}
export const S = (name: string) => new Sym(name);
export const NO_BODY = Symbol('no body');

/** An object with exactly these own keys, `__proto__` and `constructor` included. */
export function own(entries: Array<[string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}
export const nest = (depth: number): unknown => (depth === 0 ? 'deep' : { a: nest(depth - 1) });

/** The value as sent: symbols looked up, long strings built, own keys kept (`__proto__` too). */
export function resolve(v: unknown, sym: (name: string) => unknown): unknown {
  if (v instanceof Sym) return sym(v.name);
  if (v instanceof Big) return v.unit.repeat(v.count);
  if (v instanceof Raw) return v;
  if (Array.isArray(v)) return v.map((x) => resolve(x, sym));
  if (v && typeof v === 'object') return own(Object.keys(v).map((k) => [k, resolve((v as Record<string, unknown>)[k], sym)]));
  return v;
}
