/**
 * Text Postgres cannot store: a NUL character (text columns and jsonb both refuse U+0000) and a lone
 * UTF-16 surrogate (jsonb refuses the escape; text would silently turn it into U+FFFD). Such text is
 * refused at the edge and by the workflow's validators, so no task ever holds what its read model
 * could not show.
 */

export interface UnstorableText {
  /** Where it is, as a dotted path (`comment`, `settings.name`, `[2].title`). */
  path: string;
  problem: string;
}

const NUL = '\u0000';
// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function problemOf(text: string): string | undefined {
  const nul = text.indexOf(NUL);
  if (nul >= 0) return `contains a NUL character (U+0000) at offset ${nul}, which cannot be stored`;
  const lone = LONE_SURROGATE.exec(text);
  if (lone) return `contains a lone UTF-16 surrogate (U+${lone[0].charCodeAt(0).toString(16).toUpperCase()}) at offset ${lone.index}, which is not valid Unicode`;
  return undefined;
}

/**
 * The first unstorable string in a JSON value (keys included), or undefined. Iterative, so a hostile
 * body nested a hundred thousand levels deep is walked, not a stack overflow.
 */
export function findUnstorableText(value: unknown, path = ''): UnstorableText | undefined {
  const stack: Array<[unknown, string]> = [[value, path]];
  while (stack.length > 0) {
    const [current, here] = stack.pop()!;
    if (typeof current === 'string') {
      const problem = problemOf(current);
      if (problem) return { path: here || '(value)', problem };
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push([current[i], `${here}[${i}]`]);
    } else if (current !== null && typeof current === 'object') {
      const entries = Object.entries(current);
      for (const [key] of entries) {
        const keyProblem = problemOf(key);
        if (keyProblem) return { path: here ? `${here}.${key}` : key, problem: `field name ${keyProblem}` };
      }
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, inner] = entries[i]!;
        stack.push([inner, here ? `${here}.${key}` : key]);
      }
    }
  }
  return undefined;
}

/** How deeply a JSON value nests (a scalar is 0), counted without recursion and only up to `limit + 1`. */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > limit) return deepest;
    for (const inner of Object.values(current)) stack.push([inner, depth + 1]);
  }
  return deepest;
}

/**
 * The same text made storable (NUL and lone surrogates become U+FFFD). Only the read-model writer
 * uses it, as a last line: a write must never be refused for its text, whatever slipped through.
 */
export function storable<T>(value: T): T {
  if (typeof value === 'string') {
    return (problemOf(value) ? value.replaceAll(NUL, '\uFFFD').replace(new RegExp(LONE_SURROGATE, 'g'), '\uFFFD') : value) as T;
  }
  if (Array.isArray(value)) return value.map(storable) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k), storable(v)])) as T;
  }
  return value;
}

/** `s` within `max` UTF-16 units, ending in `tail` when cut, never splitting a surrogate pair. */
export function cutText(s: string, max: number, tail = '…'): string {
  if (s.length <= max) return s;
  const keep = max - tail.length;
  return `${s.slice(0, /[\uD800-\uDBFF]/.test(s[keep - 1] ?? '') ? keep - 1 : keep)}${tail}`;
}
