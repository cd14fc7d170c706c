/** `/_fake/*`: the control surface for tests and demos. Each action emits the webhook GitHub would. */
import { Router } from 'express';
import { FakeError, type FakeGitHub } from './fake.js';

export function controlRouter(fake: FakeGitHub): Router {
  const r = Router();
  const wrap = (fn: (req: any) => Promise<unknown>) => async (req: any, res: any) => {
    try {
      res.status(201).json((await fn(req)) ?? {});
    } catch (err) {
      if (err instanceof FakeError) return res.status(err.status).json(err.body);
      res.status(400).json({ message: (err as Error).message });
    }
  };
  r.post('/repos', wrap(async (req) => {
    const repo = await fake.createRepo(req.body.owner, req.body.name, req.body.files);
    return { owner: repo.owner, name: repo.name, defaultBranch: repo.defaultBranch, head: await repo.git.head(repo.defaultBranch) };
  }));
  r.post('/repos/:owner/:repo/commits', wrap(async (req) => ({ sha: await fake.pushCommit(req.params.owner, req.params.repo, req.body.branch, req.body.files, req.body.message, req.body.from) })));
  r.post('/repos/:owner/:repo/issues', wrap(async (req) => fake.openIssue(req.params.owner, req.params.repo, req.body)));
  r.post('/repos/:owner/:repo/issues/:number', wrap(async (req) => fake.editIssue(req.params.owner, req.params.repo, Number(req.params.number), req.body)));
  r.post('/repos/:owner/:repo/check-runs', wrap(async (req) => fake.setCheckRun(req.params.owner, req.params.repo, req.body)));
  r.post('/repos/:owner/:repo/statuses', wrap(async (req) => fake.setStatus(req.params.owner, req.params.repo, req.body)));
  r.post('/repos/:owner/:repo/pulls/:number/reviews', wrap(async (req) => fake.submitReview(req.params.owner, req.params.repo, Number(req.params.number), req.body)));
  r.post('/repos/:owner/:repo/pulls/:number/comments', wrap(async (req) => fake.addReviewComment(req.params.owner, req.params.repo, Number(req.params.number), req.body)));
  r.post('/hooks', wrap(async (req) => fake.hooks.subscribe(req.body.url, req.body.secret)));
  r.post('/rate-limit', wrap(async (req) => injectRateLimit(fake, req.body)));
  r.post('/outage', wrap(async (req) => injectOutage(fake, req.body)));
  r.get('/deliveries', async (_req, res) => {
    res.json(fake.hooks.deliveries.map((d) => ({ id: d.id, event: d.event, action: d.action, status: d.status })));
  });
  return r;
}

/** The next API request answers like GitHub's primary (403, remaining 0) or secondary (403 + retry-after) rate limit. */
export function injectRateLimit(fake: FakeGitHub, opts: { kind?: 'primary' | 'secondary'; retryAfterSeconds?: number }): void {
  const wait = opts.retryAfterSeconds ?? 1;
  if (opts.kind === 'primary') {
    fake.injected.push({ status: 403, message: 'API rate limit exceeded for installation.', headers: { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-used': '5000', 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + wait) } });
  } else {
    fake.injected.push({ status: 403, message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', headers: { 'retry-after': String(wait) } });
  }
}

/** GitHub having a bad day: the next `count` API requests answer `status` (default 502); count 0 ends it. */
export function injectOutage(fake: FakeGitHub, opts: { count?: number; status?: number }): void {
  fake.injected.length = 0;
  for (let i = 0; i < (opts.count ?? 1000); i++) fake.injected.push({ status: opts.status ?? 502, message: 'Server Error', headers: {} });
}
