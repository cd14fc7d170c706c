/**
 * The fake GitHub over HTTP on 127.0.0.1: the REST routes the provider layer uses, GraphQL
 * revertPullRequest, a `/_fake/*` control surface, and a loud 501 for anything else. Every REST body
 * is validated against GitHub's OpenAPI document before it is sent; a mismatch is a 500 naming it.
 */
import type { Server } from 'node:http';
import express, { type Request } from 'express';
import { FakeError, FakeGitHub } from './fake.js';
import { controlRouter } from './control.js';

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };
type Handler = (req: Request, gh: FakeGitHub) => Promise<Reply>;

export interface RunningFake {
  fake: FakeGitHub;
  url: string;
  violations: Array<{ route: string; errors: unknown }>;
  /** Exceptions inside the fake (its own bugs), with their stacks. */
  errors: string[];
  close(): Promise<void>;
}

export async function startFakeGitHub(port = 0): Promise<RunningFake> {
  const fake = await new FakeGitHub().init();
  const violations: RunningFake['violations'] = [];
  const errors: string[] = [];
  const app = express();
  app.use(express.json({ limit: '5mb' }));
  app.use('/_fake', controlRouter(fake));

  // Injected failures (rate limits) answer the next API requests before any route.
  app.use((req, res, next) => {
    fake.apps.authorizations.push(req.header('authorization') ?? '');
    const failure = fake.injected.shift();
    if (!failure) return next();
    res.set(failure.headers).status(failure.status).json({ message: failure.message, documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api', status: String(failure.status) });
  });

  const route = (method: 'get' | 'post' | 'put' | 'patch', template: string, handler: Handler) => {
    app[method](template.replace(/\{(\w+)\}/g, ':$1'), async (req, res) => {
      let reply: Reply;
      try {
        reply = await handler(req, fake);
      } catch (err) {
        if (!(err instanceof FakeError)) throw err;
        reply = { status: err.status, body: err.body };
      }
      const errors = fake.schemas.rest.validateResponse(method, template, reply.status, reply.body);
      if (errors.length) {
        violations.push({ route: `${method.toUpperCase()} ${template} ${reply.status}`, errors });
        return res.status(500).json({ message: `fake-github: the ${reply.status} body for ${method.toUpperCase()} ${template} does not match GitHub's schema`, errors: errors.slice(0, 10) });
      }
      res.set(reply.headers ?? {}).status(reply.status);
      if (reply.body === undefined) res.end();
      else res.json(reply.body);
    });
  };

  const repoOf = (req: Request) => fake.repo(String(req.params.owner), String(req.params.repo));
  const num = (v: unknown) => Number(v);

  route('post', '/app/installations/{installation_id}/access_tokens', async (req) => ({
    status: 201,
    body: fake.apps.issueToken(req.header('authorization'), num(req.params.installation_id)),
  }));

  route('get', '/repos/{owner}/{repo}', async (req) => ({ status: 200, body: fake.present.fullRepository(repoOf(req)) }));

  route('get', '/repos/{owner}/{repo}/issues/{issue_number}', async (req) => {
    const repo = repoOf(req);
    const issue = repo.issues.get(num(req.params.issue_number));
    if (!issue) throw new FakeError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/issues/issues#get-an-issue', status: '404' });
    return { status: 200, body: fake.present.issue(repo, issue) };
  });

  route('patch', '/repos/{owner}/{repo}/issues/{issue_number}', async (req) => {
    const repo = repoOf(req);
    const { title, body, labels, state } = req.body ?? {};
    const issue = await fake.editIssue(repo.owner, repo.name, num(req.params.issue_number), { title, body, labels, state });
    return { status: 200, body: fake.present.issue(repo, issue) };
  });

  route('get', '/repos/{owner}/{repo}/issues', async (req) => {
    const repo = repoOf(req);
    const state = String(req.query.state ?? 'open');
    const since = req.query.since ? Date.parse(String(req.query.since)) : undefined;
    const key = req.query.sort === 'updated' ? 'updatedAt' : 'createdAt';
    const dir = req.query.direction === 'asc' ? 1 : -1;
    const items = [...repo.issues.values()]
      .filter((i) => state === 'all' || i.state === state)
      .filter((i) => since === undefined || Date.parse(i.updatedAt) >= since)
      .sort((a, b) => (a[key] < b[key] ? -dir : a[key] > b[key] ? dir : (a.number - b.number) * dir));
    return paginate(req, fake, items.map((i) => fake.present.issue(repo, i)));
  });

  route('get', '/repos/{owner}/{repo}/pulls', async (req) => {
    const repo = repoOf(req);
    const state = String(req.query.state ?? 'open');
    const head = req.query.head ? String(req.query.head) : undefined;
    const pulls = [...repo.pulls.values()]
      .filter((p) => state === 'all' || p.state === state)
      .filter((p) => !head || `${repo.owner}:${p.head}` === head)
      .filter((p) => !req.query.base || p.base === req.query.base)
      .sort((a, b) => b.number - a.number);
    return paginate(req, fake, await Promise.all(pulls.map((p) => fake.pullBody(repo, p, true))));
  });

  route('post', '/repos/{owner}/{repo}/pulls', async (req) => {
    const repo = repoOf(req);
    const { head, base, title, body } = req.body ?? {};
    const pull = await fake.createPull(repo, { head, base: base ?? repo.defaultBranch, title, body, user: repo.owner });
    return { status: 201, body: await fake.pullBody(repo, pull) };
  });

  route('get', '/repos/{owner}/{repo}/pulls/{pull_number}', async (req) => {
    const repo = repoOf(req);
    return { status: 200, body: await fake.pullBody(repo, fake.pull(repo, num(req.params.pull_number))) };
  });

  route('put', '/repos/{owner}/{repo}/pulls/{pull_number}/merge', async (req) => {
    const repo = repoOf(req);
    const { sha, merge_method, commit_title, commit_message } = req.body ?? {};
    const merged = await fake.mergePull(repo, num(req.params.pull_number), { sha, method: merge_method ?? 'merge', title: commit_title, message: commit_message });
    await fake.mergeAnswerGate();
    return { status: 200, body: merged };
  });

  route('get', '/repos/{owner}/{repo}/pulls/{pull_number}/reviews', async (req) => {
    const repo = repoOf(req);
    fake.pull(repo, num(req.params.pull_number));
    return paginate(req, fake, repo.reviews.filter((r) => r.pullNumber === num(req.params.pull_number)).map((r) => fake.present.review(repo, r)));
  });

  route('get', '/repos/{owner}/{repo}/pulls/{pull_number}/comments', async (req) => {
    const repo = repoOf(req);
    fake.pull(repo, num(req.params.pull_number));
    return paginate(req, fake, repo.reviewComments.filter((c) => c.pullNumber === num(req.params.pull_number)).map((c) => fake.present.reviewComment(repo, c)));
  });

  route('get', '/repos/{owner}/{repo}/commits/{ref}/check-runs', async (req) => {
    const repo = repoOf(req);
    const runs = repo.checkRuns.filter((r) => r.sha === req.params.ref).map((r) => fake.present.checkRun(repo, r));
    return { status: 200, body: { total_count: runs.length, check_runs: runs } };
  });

  route('post', '/repos/{owner}/{repo}/actions/jobs/{job_id}/rerun', async (req) => {
    const repo = repoOf(req);
    const run = await fake.rerunJob(repo.owner, repo.name, num(req.params.job_id));
    if (!run) throw new FakeError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/actions/workflow-jobs', status: '404' });
    return { status: 201, body: {} };
  });

  route('get', '/repos/{owner}/{repo}/commits/{ref}/status', async (req) => {
    const repo = repoOf(req);
    const sha = String(req.params.ref);
    return { status: 200, body: fake.present.combinedStatus(repo, sha, repo.statuses.filter((s) => s.sha === sha)) };
  });

  route('post', '/repos/{owner}/{repo}/issues/{issue_number}/comments', async (req) => {
    const repo = repoOf(req);
    const number = num(req.params.issue_number);
    if (!repo.issues.has(number)) throw new FakeError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
    const comment = { id: fake.id(), issueNumber: number, user: repo.owner, body: String(req.body?.body ?? ''), createdAt: new Date().toISOString() };
    repo.comments.push(comment);
    return { status: 201, body: fake.present.comment(repo, comment), headers: { location: `${fake.origin}/repos/${repo.owner}/${repo.name}/issues/comments/${comment.id}` } };
  });

  app.post('/graphql', async (req, res) => {
    const query = String(req.body?.query ?? '');
    if (!/revertPullRequest/.test(query)) return res.status(501).json({ message: `fake-github: GraphQL operation not implemented: ${query.slice(0, 120)}` });
    const id = req.body?.variables?.pullRequestId ?? req.body?.variables?.input?.pullRequestId;
    const found = [...fake.repos.values()].flatMap((repo) => [...repo.pulls.values()].map((pull) => ({ repo, pull }))).find((x) => x.pull.nodeId === id);
    if (!found) return res.json({ data: { revertPullRequest: null }, errors: [{ type: 'NOT_FOUND', path: ['revertPullRequest'], message: `Could not resolve to a node with the global id of '${id}'` }] });
    try {
      const revert = await fake.revertPull(found.repo, found.pull.number, found.repo.owner);
      const o = fake.origin;
      res.json({ data: { revertPullRequest: { pullRequest: { number: found.pull.number }, revertPullRequest: { id: revert.nodeId, number: revert.number, url: `${o}/${found.repo.owner}/${found.repo.name}/pull/${revert.number}` } } } });
    } catch (err) {
      res.json({ data: { revertPullRequest: null }, errors: [{ type: 'UNPROCESSABLE', path: ['revertPullRequest'], message: (err as Error).message }] });
    }
  });

  // Anything else is a route we did not plan for: say so loudly.
  app.use((req, res) => {
    res.status(501).json({ message: `fake-github: route not implemented: ${req.method} ${req.path}` });
  });
  // A bug of the fake itself: named, recorded, and answered as GitHub's 500 would be.
  app.use((err: Error, req: Request, res: express.Response, _next: express.NextFunction) => {
    errors.push(`${req.method} ${req.path}: ${err.stack ?? err.message}`);
    res.status(500).json({ message: `fake-github: ${err.message}` });
  });

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
  });
  // GitHub keeps connections open far longer than Node's 5 s default; a client reusing a socket the
  // server just closed would otherwise see a reset under load.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  fake.origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    fake,
    url: fake.origin,
    violations,
    errors,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await fake.dispose();
    },
  };
}

/** GitHub's paging: per_page (default 30, max 100), page, and a Link header with next/last. */
function paginate(req: Request, fake: FakeGitHub, items: unknown[]): Reply {
  const perPage = Math.min(100, Math.max(1, Number(req.query.per_page ?? 30)));
  const page = Math.max(1, Number(req.query.page ?? 1));
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (p: number, rel: string) => {
    const url = new URL(req.originalUrl, fake.origin);
    url.searchParams.set('page', String(p));
    url.searchParams.set('per_page', String(perPage));
    return `<${url}>; rel="${rel}"`;
  };
  const links = [];
  if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
  if (page > 1) links.push(link(1, 'first'), link(page - 1, 'prev'));
  return { status: 200, body: items.slice((page - 1) * perPage, page * perPage), headers: links.length ? { link: links.join(', ') } : {} };
}
