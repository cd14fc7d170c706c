/**
 * A small CircleCI API v2 client: `Circle-Token` auth, `next_page_token` paging (bounded), a timeout per
 * request, every answer checked against a schema written from CircleCI's API reference. Errors are ours
 * at this boundary: a refused token or a missing project is a verdict (ProviderRefusal); an outage, a
 * timeout, a malformed answer or a rate limit we gave up waiting on is a plain retryable Error.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ErrorCode } from '../../domain/errors.js';
import { ProviderRefusal } from '../providers/ports.js';

export const DEFAULT_CIRCLECI_API = 'https://circleci.com/api/v2';

export interface CircleCIClientOptions {
  token: string;
  /** Default https://circleci.com/api/v2 (CircleCI server, or the fake in tests). */
  baseUrl?: string;
  /** Per request (default 15 s). */
  timeoutMs?: number;
  /** The most one call waits out rate limits in total before giving up (default 60 s). */
  maxRateLimitWaitMs?: number;
}

/** CircleCI did not answer usefully (5xx, network, timeout, malformed body, rate limit outlasting our budget): try again later. */
export class CircleCIUnavailable extends Error {
  constructor(message: string, readonly status: number | null = null) {
    super(message);
    this.name = 'CircleCIUnavailable';
  }
}

// Schemas: the fields we read, as CircleCI's v2 reference describes them. Statuses stay strings: CircleCI
// adds statuses, and domain/ci.ts maps an unknown one to a failure rather than this layer crashing on it.
const iso = z.string().min(1);
const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), next_page_token: z.string().nullish() });

export const pipelineSchema = z.object({
  id: z.string().min(1),
  number: z.number().int(),
  project_slug: z.string(),
  state: z.string(),
  created_at: iso,
  updated_at: iso.optional(),
  vcs: z.object({ revision: z.string(), branch: z.string().optional(), tag: z.string().optional() }).optional(),
  // GitHub App and GitLab pipelines carry the commit here instead of `vcs`.
  trigger_parameters: z.record(z.string(), z.unknown()).optional(),
});
export const workflowSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  status: z.string(),
  created_at: iso,
  stopped_at: iso.nullish(),
  pipeline_id: z.string(),
  pipeline_number: z.number().int(),
});
export const jobSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  status: z.string(),
  type: z.string().optional(),
  // Approval jobs have no number.
  job_number: z.number().int().optional(),
  started_at: iso.nullish(),
  stopped_at: iso.nullish(),
  web_url: z.string().optional(),
});
export const testSchema = z.object({
  name: z.string(),
  classname: z.string().nullish(),
  file: z.string().nullish(),
  message: z.string().nullish(),
  result: z.string(),
});
const rerunSchema = z.object({ workflow_id: z.string().min(1) });

export type CirclePipeline = z.infer<typeof pipelineSchema>;
export type CircleWorkflow = z.infer<typeof workflowSchema>;
export type CircleJob = z.infer<typeof jobSchema>;
export type CircleTest = z.infer<typeof testSchema>;

/** Until when each token must not call (epoch ms), shared by every client with that token in this process. */
const rateLimitedUntil = new Map<string, number>();
const tokenKey = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 24);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RequestOptions {
  query?: Record<string, string | null | undefined>;
  body?: unknown;
  /** What a 404 means here (default: CircleCI refused the request). */
  notFound?: ErrorCode;
}

export class CircleCIClient {
  private readonly baseUrl: string;
  private readonly key: string;

  constructor(private readonly opts: CircleCIClientOptions) {
    this.baseUrl = (opts.baseUrl ?? DEFAULT_CIRCLECI_API).replace(/\/+$/, '');
    this.key = tokenKey(opts.token);
  }

  /** The project as CircleCI names it (a token that cannot see it: 404 → repository_not_found). */
  project(slug: string): Promise<{ slug: string; name: string; id: string }> {
    return this.request('GET', `/project/${slugPath(slug)}`, z.object({ slug: z.string(), name: z.string(), id: z.string() }), { notFound: 'repository_not_found' });
  }

  /** `/project/{slug}/pipeline`, newest first, page by page, until `stop` says enough or `maxPages` were read. */
  async pipelines(slug: string, branch: string | null, stop: (seen: CirclePipeline[]) => boolean, maxPages = 5): Promise<CirclePipeline[]> {
    return this.list(`/project/${slugPath(slug)}/pipeline`, pipelineSchema, { query: { branch }, notFound: 'repository_not_found' }, maxPages, stop);
  }

  workflows(pipelineId: string): Promise<CircleWorkflow[]> {
    return this.list(`/pipeline/${encodeURIComponent(pipelineId)}/workflow`, workflowSchema, {}, 10);
  }

  jobs(workflowId: string): Promise<CircleJob[]> {
    return this.list(`/workflow/${encodeURIComponent(workflowId)}/job`, jobSchema, {}, 10);
  }

  /** A job's test results; `enough` stops paging once what the caller needs is in hand. */
  tests(slug: string, jobNumber: number, enough: (seen: CircleTest[]) => boolean, maxPages = 3): Promise<CircleTest[]> {
    return this.list(`/project/${slugPath(slug)}/${jobNumber}/tests`, testSchema, {}, maxPages, enough);
  }

  async rerunFromFailed(workflowId: string): Promise<string> {
    const res = await this.request('POST', `/workflow/${encodeURIComponent(workflowId)}/rerun`, rerunSchema, { body: { from_failed: true } });
    return res.workflow_id;
  }

  private async list<T>(path: string, item: z.ZodType<T>, opts: RequestOptions, maxPages: number, stop?: (seen: T[]) => boolean): Promise<T[]> {
    const out: T[] = [];
    let token: string | null | undefined;
    for (let n = 0; n < maxPages; n++) {
      const res = await this.request('GET', path, page(item), { ...opts, query: { ...opts.query, 'page-token': token } });
      out.push(...(res.items as T[]));
      token = res.next_page_token;
      if (!token || stop?.(out)) break;
    }
    return out;
  }

  async request<T>(method: 'GET' | 'POST', path: string, schema: z.ZodType<T>, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v) url.searchParams.set(k, v);
    const budget = this.opts.maxRateLimitWaitMs ?? 60_000;
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      // Another call with this token was told to wait: this one waits for the same reset.
      const until = rateLimitedUntil.get(this.key) ?? 0;
      if (until && until <= Date.now()) rateLimitedUntil.delete(this.key);
      if (until > Date.now()) {
        const wait = until - Date.now();
        if (waited + wait > budget) throw new CircleCIUnavailable(`CircleCI rate limit: ${method} ${path} would wait ${Math.ceil(wait / 1000)} s more (budget ${Math.round(budget / 1000)} s)`, 429);
        await sleep(wait);
        waited += wait;
      }
      const res = await this.send(method, url, opts.body);
      if (res.status === 429) {
        rateLimitedUntil.set(this.key, Math.max(rateLimitedUntil.get(this.key) ?? 0, Date.now() + retryAfterMs(res.headers.get('retry-after'))));
        await res.body?.cancel();
        if (attempt >= 10) throw new CircleCIUnavailable(`CircleCI rate limit: ${method} ${path} still refused after ${attempt + 1} tries`, 429);
        continue;
      }
      return this.answer(res, method, path, schema, opts);
    }
  }

  private async send(method: string, url: URL, body: unknown): Promise<Response> {
    try {
      return await fetch(url, {
        method,
        headers: { 'Circle-Token': this.opts.token, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), 'user-agent': 'switchyard' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000),
      });
    } catch (err) {
      throw new CircleCIUnavailable(`CircleCI did not answer ${method} ${url.pathname}: ${(err as Error).message}`);
    }
  }

  private async answer<T>(res: Response, method: string, path: string, schema: z.ZodType<T>, opts: RequestOptions): Promise<T> {
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new CircleCIUnavailable(`CircleCI did not finish answering ${method} ${path}: ${(err as Error).message}`, res.status);
    }
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    const what = `${method} ${path}`;
    if (res.ok) {
      const parsed = schema.safeParse(body);
      if (parsed.success) return parsed.data;
      const issue = parsed.error.issues[0];
      throw new CircleCIUnavailable(`CircleCI's answer to ${what} is malformed: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'not JSON'}`, res.status);
    }
    const message = typeof (body as { message?: unknown })?.message === 'string' ? String((body as { message: string }).message).slice(0, 240) : res.statusText;
    const details = { upstreamStatus: res.status, upstreamMessage: message };
    if (res.status === 401 || res.status === 403) throw new ProviderRefusal('source_credential_invalid', `CircleCI refuses the token (${res.status} ${message}) for ${what}`, details);
    if (res.status === 404) {
      const code = opts.notFound ?? 'provider_rejected';
      throw new ProviderRefusal(code, code === 'repository_not_found' ? `CircleCI has no project this token can see at ${what} (${message})` : `CircleCI: ${what} not found (${message})`, details);
    }
    if (res.status >= 400 && res.status < 500) throw new ProviderRefusal('provider_rejected', `CircleCI refused ${what}: ${res.status} ${message}`, details);
    throw new CircleCIUnavailable(`CircleCI failed ${what}: ${res.status} ${message}`, res.status);
  }
}

/** A slug's segments escaped one by one: CircleCI takes `gh/org/repo` with its slashes. */
export function slugPath(slug: string): string {
  return slug.split('/').map(encodeURIComponent).join('/');
}

/** Retry-After in seconds or as an HTTP date; absent or unreadable: 1 s. */
function retryAfterMs(value: string | null): number {
  if (value && /^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000;
  const at = value ? Date.parse(value) : NaN;
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : 1000;
}
