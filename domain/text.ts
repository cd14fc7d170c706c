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

/** The first unstorable string in a JSON value (keys included), or undefined. */
export function findUnstorableText(value: unknown, path = ''): UnstorableText | undefined {
  if (typeof value === 'string') {
    const problem = problemOf(value);
    return problem ? { path: path || '(value)', problem } : undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableText(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      const here = path ? `${path}.${key}` : key;
      const keyProblem = problemOf(key);
      if (keyProblem) return { path: here, problem: `field name ${keyProblem}` };
      const found = findUnstorableText(inner, here);
      if (found) return found;
    }
  }
  return undefined;
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
