/**
 * GitHub's own published schemas, as the fake's conscience: every REST response is checked against
 * `@octokit/openapi` (api.github.com.json, loaded on its own) and every webhook against
 * `@octokit/openapi-webhooks`. The same schemas drive `build()`, which fills the required fields the
 * fake's state does not model with plausible values, so bodies are complete without hand-copying them.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import AjvModule from 'ajv';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

type Json = any;
const require = createRequire(import.meta.url);
const Ajv = (AjvModule as any).default ?? AjvModule;
const Ajv2020 = (Ajv2020Module as any).default ?? Ajv2020Module;
const addFormats = (addFormatsModule as any).default ?? addFormatsModule;

function loadJson(specifier: string): Json {
  return JSON.parse(readFileSync(require.resolve(specifier), 'utf8'));
}

/** OpenAPI 3.0 → JSON Schema: `nullable` becomes a null alternative, local refs point at a named document. */
function normalize(node: Json, docId: string): Json {
  if (Array.isArray(node)) return node.map((n) => normalize(n, docId));
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'nullable' || k === 'example' || k === 'examples' || k === 'discriminator' || k === 'xml' || k === 'externalDocs') continue;
    out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${docId}${v}` : normalize(v, docId);
  }
  if (node.nullable === true) {
    if (typeof out.type === 'string') {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    } else return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

class SchemaSet {
  readonly ajv: any;
  private readonly cache = new Map<string, any>();

  constructor(
    readonly doc: Json,
    readonly docId: string,
    draft2020: boolean,
  ) {
    this.ajv = draft2020 ? new Ajv2020({ strict: false, allErrors: true }) : new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: docId, components: doc.components });
  }

  resolve(schema: Json): Json {
    let s = schema;
    while (s && s.$ref) {
      const path = String(s.$ref).replace(`${this.docId}#/`, '').split('/');
      s = path.reduce((acc: Json, key: string) => acc?.[key], { components: this.doc.components });
      if (!s) throw new Error(`unresolvable $ref ${schema.$ref}`);
    }
    return s;
  }

  validator(key: string, schema: Json): any {
    let v = this.cache.get(key);
    if (!v) this.cache.set(key, (v = this.ajv.compile(schema)));
    return v;
  }

  /** A body with every required field, the given values merged over generated ones. */
  build(schema: Json, override?: Json, depth = 0, name = ''): Json {
    const s = this.resolve(schema);
    if (override === null) return null;
    if (depth > 25) return override ?? null;
    if (s.allOf) return s.allOf.reduce((acc: Json, part: Json) => deepMerge(acc, this.build(part, override, depth + 1, name)), {});
    const alts = s.anyOf ?? s.oneOf;
    if (alts) {
      const nonNull = alts.filter((a: Json) => this.resolve(a).type !== 'null');
      if (override === undefined && nonNull.length < alts.length) return null;
      return this.build(pickAlternative(nonNull.map((a: Json) => this.resolve(a)), override), override, depth + 1, name);
    }
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (override === undefined && types.includes('null')) return null;
    const type = types.find((t: string) => t !== 'null') ?? (s.properties ? 'object' : undefined);
    if (type === 'object') {
      const out: Json = {};
      const props = s.properties ?? {};
      for (const key of s.required ?? []) if (!(key in (override ?? {}))) out[key] = this.build(props[key] ?? {}, undefined, depth + 1, key);
      for (const [key, value] of Object.entries(override ?? {})) out[key] = props[key] ? this.build(props[key], value, depth + 1) : value;
      return out;
    }
    if (type === 'array') {
      if (override !== undefined) return (override as Json[]).map((item) => this.build(s.items ?? {}, item, depth + 1));
      return [];
    }
    if (override !== undefined) return override;
    if (s.enum) return s.enum.find((e: Json) => e !== null);
    if (type === 'string') return placeholder(s.format ?? (name === 'url' || name.endsWith('_url') || name === 'href' ? 'uri' : undefined));
    if (type === 'integer' || type === 'number') return s.minimum ?? 1;
    if (type === 'boolean') return false;
    return null;
  }
}

function pickAlternative(alts: Json[], override: Json): Json {
  if (override === undefined || override === null) return alts[0] ?? {};
  const kind = Array.isArray(override) ? 'array' : typeof override === 'object' ? 'object' : typeof override;
  return (
    alts.find((a) => {
      const t = Array.isArray(a.type) ? a.type : [a.type ?? (a.properties ? 'object' : undefined)];
      return t.includes(kind) || (kind === 'number' && t.includes('integer'));
    }) ?? alts[0]
  );
}

function placeholder(format?: string): string {
  if (format === 'date-time') return new Date().toISOString();
  if (format === 'uri' || format === 'uri-template') return 'https://fake-github.invalid/';
  if (format === 'email') return 'noreply@fake-github.invalid';
  if (format === 'uuid') return '00000000-0000-4000-8000-000000000000';
  return '';
}

function deepMerge(a: Json, b: Json): Json {
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? deepMerge(out[k], v) : v;
    return out;
  }
  return b ?? a;
}

export interface SchemaError {
  instancePath: string;
  message?: string;
  schemaPath: string;
}

/** REST: responses by operation (method + path template + status). */
export class RestSchemas {
  private readonly set: SchemaSet;

  constructor() {
    const raw = loadJson('@octokit/openapi/generated/api.github.com.json');
    this.set = new SchemaSet({ components: normalize(raw.components, 'gh'), paths: normalize(raw.paths, 'gh') }, 'gh', false);
  }

  responseSchema(method: string, path: string, status: number): Json | undefined {
    const op = this.set.doc.paths[path]?.[method.toLowerCase()];
    if (!op) throw new Error(`the GitHub spec has no operation ${method} ${path}`);
    const response = this.set.resolve(op.responses[String(status)] ?? {});
    return response.content?.['application/json']?.schema;
  }

  /** Errors, or [] when the body matches what GitHub documents for this operation and status. */
  validateResponse(method: string, path: string, status: number, body: unknown): SchemaError[] {
    const schema = this.responseSchema(method, path, status);
    if (!schema) return body === undefined || body === '' ? [] : [{ instancePath: '', schemaPath: '', message: `GitHub documents no JSON body for ${status}` }];
    const validate = this.set.validator(`${method} ${path} ${status}`, schema);
    return validate(body) ? [] : validate.errors;
  }

  /** A component (e.g. "pull-request") with every required field, given values merged in. */
  build(component: string, values: Json): Json {
    return this.set.build({ $ref: `gh#/components/schemas/${component}` }, values);
  }
}

/** Webhooks: payloads by `<event>-<action>` (e.g. "pull-request-opened"), OpenAPI 3.1. */
export class WebhookSchemas {
  private readonly set: SchemaSet;

  constructor() {
    const raw = loadJson('@octokit/openapi-webhooks/generated/api.github.com.json');
    this.set = new SchemaSet({ components: normalize(raw.components, 'ghwh'), webhooks: normalize(raw.webhooks, 'ghwh') }, 'ghwh', true);
  }

  private schemaOf(key: string): Json {
    const hook = this.set.doc.webhooks[key];
    if (!hook) throw new Error(`the GitHub webhook spec has no ${key}`);
    return hook.post.requestBody.content['application/json'].schema;
  }

  validate(key: string, payload: unknown): SchemaError[] {
    const validate = this.set.validator(key, this.schemaOf(key));
    return validate(payload) ? [] : validate.errors;
  }

  build(key: string, values: Json): Json {
    return this.set.build(this.schemaOf(key), values);
  }
}
