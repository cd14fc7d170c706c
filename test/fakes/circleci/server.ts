/**
 * The fake CircleCI over HTTP on 127.0.0.1: the API v2 routes Switchyard and CircleCI's own client use,
 * a `/_control/*` surface, and a loud 501 for anything else. Project slugs carry slashes (`gh/o/r`, or
 * escaped `gh%2Fo%2Fr`), so paths are decoded and matched by hand. Every body is checked against the
 * strict and the package schemas before it is sent; a mismatch is recorded and answered as a 500 naming it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { controlRoute } from './control.js';
import { FakeCircleCI, FakeError, type RequestRecord } from './fake.js';
import { jobDetailsBody, pipelineBody, projectBody, testBody, workflowBody, workflowJobBody } from './present.js';
import { responseViolations, type RouteKey } from './schema.js';

type Reply = { status: number; body: unknown; headers?: Record<string, string> };
type Handler = (m: RegExpMatchArray, q: URLSearchParams, body: any, fake: FakeCircleCI) => Promise<Reply> | Reply;

const SLUG = '([^/]+/[^/]+/[^/]+)';
const routes: Array<{ method: string; re: RegExp; key: RouteKey; handle: Handler }> = [
  { method: 'GET', re: new RegExp(`^/project/${SLUG}$`), key: 'project', handle: (m, _q, _b, fake) => ({ status: 200, body: projectBody(projectOf(fake, m[1]!)) }) },
  { method: 'GET', re: new RegExp(`^/project/${SLUG}/pipeline$`), key: 'pipelines', handle: (m, q, _b, fake) => {
    const project = projectOf(fake, m[1]!);
    const branch = q.get('branch');
    const items = [...project.pipelines].reverse().filter((p) => !branch || p.branch === branch);
    return page(fake, q, `pipelines:${project.slug}:${branch ?? ''}`, items.map(pipelineBody));
  } },
  { method: 'GET', re: new RegExp(`^/project/${SLUG}/pipeline/(\\d+)$`), key: 'pipeline', handle: (m, _q, _b, fake) => {
    const pipeline = projectOf(fake, m[1]!).pipelines.find((p) => p.number === Number(m[2]));
    if (!pipeline) throw new FakeError(404, 'Pipeline not found');
    return { status: 200, body: pipelineBody(pipeline) };
  } },
  { method: 'GET', re: /^\/pipeline\/([^/]+)$/, key: 'pipeline', handle: (m, _q, _b, fake) => ({ status: 200, body: pipelineBody(found(fake.pipelineById(m[1]!), 'Pipeline')) }) },
  { method: 'GET', re: /^\/pipeline\/([^/]+)\/workflow$/, key: 'workflows', handle: (m, q, _b, fake) => {
    const pipeline = found(fake.pipelineById(m[1]!), 'Pipeline');
    return page(fake, q, `workflows:${pipeline.id}`, pipeline.workflows.map(workflowBody));
  } },
  { method: 'GET', re: /^\/workflow\/([^/]+)$/, key: 'workflow', handle: (m, _q, _b, fake) => ({ status: 200, body: workflowBody(found(fake.workflowById(m[1]!), 'Workflow')) }) },
  { method: 'GET', re: /^\/workflow\/([^/]+)\/job$/, key: 'jobs', handle: (m, q, _b, fake) => {
    const w = found(fake.workflowById(m[1]!), 'Workflow');
    return page(fake, q, `jobs:${w.id}`, w.jobs.map((j) => workflowJobBody(w, j)));
  } },
  { method: 'GET', re: new RegExp(`^/project/${SLUG}/job/(\\d+)$`), key: 'job', handle: (m, _q, _b, fake) => {
    const hit = found(fake.jobByNumber(projectOf(fake, m[1]!).slug, Number(m[2])), 'Job');
    return { status: 200, body: jobDetailsBody(hit.workflow, hit.job) };
  } },
  { method: 'GET', re: new RegExp(`^/project/${SLUG}/(\\d+)/tests$`), key: 'tests', handle: (m, q, _b, fake) => {
    const hit = found(fake.jobByNumber(projectOf(fake, m[1]!).slug, Number(m[2])), 'Job');
    return page(fake, q, `tests:${hit.job.id}`, hit.job.tests.map(testBody));
  } },
  { method: 'POST', re: /^\/workflow\/([^/]+)\/rerun$/, key: 'rerun', handle: async (m, _q, body, fake) => ({ status: 202, body: await fake.rerun(m[1]!, body ?? {}) }) },
];

function projectOf(fake: FakeCircleCI, slug: string) {
  const p = fake.projects.get(slug);
  if (!p) throw new FakeError(404, 'Project not found');
  return p;
}

function found<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new FakeError(404, `${what} not found`);
  return v;
}

/** CircleCI's paging: `next_page_token` (opaque, tied to the list) → `page-token`. */
function page(fake: FakeCircleCI, q: URLSearchParams, list: string, items: unknown[]): Reply {
  let offset = 0;
  const token = q.get('page-token');
  if (token) {
    const decoded = (() => {
      try {
        return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { list?: string; offset?: number };
      } catch {
        return {};
      }
    })();
    if (decoded.list !== list || typeof decoded.offset !== 'number') throw new FakeError(400, 'Invalid page-token.');
    offset = decoded.offset;
  }
  const next = offset + fake.pageSize < items.length ? Buffer.from(JSON.stringify({ list, offset: offset + fake.pageSize })).toString('base64url') : null;
  return { status: 200, body: { items: items.slice(offset, offset + fake.pageSize), next_page_token: next } };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new FakeError(400, 'Request body is not valid JSON.');
  }
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(JSON.stringify(reply.body));
}

async function api(fake: FakeCircleCI, req: IncomingMessage, path: string, q: URLSearchParams, rec: RequestRecord): Promise<Reply> {
  const route = routes.find((r) => r.method === req.method && r.re.test(path));
  if (!route) return { status: 501, body: { message: `fake-circleci: route not implemented: ${req.method} /api/v2${path}` } };
  const injected = fake.injected.shift();
  if (injected?.status === 429) return { status: 429, body: { message: 'Rate limit exceeded' }, headers: { 'retry-after': String(injected.retryAfter ?? 1) } };
  if (injected?.status === 401 || !rec.token || !fake.tokens.has(rec.token)) return { status: 401, body: { message: 'Invalid token provided.' } };
  if (injected?.status === 500) return { status: 500, body: { message: 'Internal Server Error' } };
  let reply: Reply;
  try {
    reply = await route.handle(path.match(route.re)!, q, await readBody(req), fake);
  } catch (err) {
    if (!(err instanceof FakeError)) throw err;
    reply = { status: err.status, body: { message: err.message } };
  }
  const problems = responseViolations(fake.schemas, route.key, reply.status, reply.body);
  if (problems.length === 0) return reply;
  fake.violations.push(...problems.map((p) => `${req.method} /api/v2${path} ${reply.status}: ${p}`));
  return { status: 500, body: { message: `fake-circleci: the ${reply.status} body for ${req.method} /api/v2${path} breaks the schemas: ${problems.slice(0, 3).join('; ')}` } };
}

export interface RunningFakeCircleCI {
  /** http://127.0.0.1:PORT (CircleCI's own client appends /api/v2). */
  url: string;
  /** url + /api/v2 (Switchyard's client takes the API root). */
  apiUrl: string;
  fake: FakeCircleCI;
  close(): Promise<void>;
}

export async function startFakeCircleCI(opts: { port?: number } = {}): Promise<RunningFakeCircleCI> {
  const fake = new FakeCircleCI();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return send(res, { status: 400, body: { message: 'Malformed path.' } });
    }
    const token = req.headers['circle-token'];
    const rec: RequestRecord = { method: req.method ?? 'GET', path, query: Object.fromEntries(url.searchParams), token: typeof token === 'string' ? token : null, at: Date.now() };
    const work = path.startsWith('/_control/')
      ? controlRoute(fake, req.method ?? 'GET', path.slice('/_control'.length), () => readBody(req))
      : path.startsWith('/api/v2/')
        ? (fake.requests.push(rec), api(fake, req, path.slice('/api/v2'.length), url.searchParams, rec))
        : Promise.resolve<Reply>({ status: 501, body: { message: `fake-circleci: route not implemented: ${req.method} ${path}` } });
    work.then((reply) => {
      rec.status = reply.status;
      send(res, reply);
    }, (err: Error) => {
      // A bug of the fake itself: named, recorded, and answered as CircleCI's 500 would be.
      fake.violations.push(`fake-circleci bug at ${req.method} ${path}: ${err.stack ?? err.message}`);
      rec.status = 500;
      send(res, { status: 500, body: { message: `fake-circleci: ${err.message}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  fake.origin = url;
  return {
    url,
    apiUrl: `${url}/api/v2`,
    fake,
    async close() {
      fake.stopClock();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
