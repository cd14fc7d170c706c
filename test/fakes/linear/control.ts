/** `/_control/*`: the fake Linear's control surface over HTTP (no API key). Each change emits the webhook Linear would. */
import { Router, type Request, type Response } from 'express';
import { GraphQLError } from 'graphql';
import type { FakeLinear } from './fake.js';

export function controlRouter(fake: FakeLinear): Router {
  const r = Router();
  const wrap = (fn: (req: Request) => unknown) => async (req: Request, res: Response) => {
    try {
      res.status(req.method === 'GET' ? 200 : 201).json((await fn(req)) ?? {});
    } catch (err) {
      res.status(err instanceof GraphQLError ? 422 : 400).json({ message: (err as Error).message });
    }
  };
  const param = (req: Request, name: string) => String(req.params[name]);
  const issueView = (id: string) => {
    const issue = fake.issue(id);
    if (!issue) throw new Error(`no issue ${id}`);
    return { ...fake.issueData(issue), comments: fake.comments(issue.id) };
  };

  r.post('/api-keys', wrap((req) => ({ apiKey: fake.addApiKey(req.body?.apiKey, req.body?.userName) })));
  r.post('/teams', wrap((req) => fake.createTeam(req.body)));
  r.post('/users', wrap((req) => fake.createUser(req.body)));
  r.post('/issues', wrap(async (req) => issueView((await fake.createIssue(req.body)).id)));
  r.get('/issues/:id', wrap((req) => issueView(param(req, 'id'))));
  r.post('/issues/:id', wrap(async (req) => issueView((await fake.updateIssue(param(req, 'id'), req.body ?? {})).id)));
  r.post('/issues/:id/remove', wrap(async (req) => issueView((await fake.removeIssue(param(req, 'id'))).id)));
  r.post('/comments', wrap((req) => fake.addComment(req.body.issueId, { body: req.body.body, userName: req.body.userName ?? 'Linear User' })));
  r.post('/subscriptions', wrap((req) => fake.subscribe(req.body)));
  r.get('/deliveries', wrap(() => fake.hooks.deliveries.map(({ id, event, action, status, url }) => ({ id, event, action, status, url }))));
  r.post('/deliveries/:id/redeliver', wrap(async (req) => ({ status: await fake.redeliver(param(req, 'id')) })));
  r.post('/inject', wrap((req) => {
    const { kind, times, resetInMs, apiKey } = req.body ?? {};
    if (!['ratelimited', 'auth', 'server'].includes(kind)) throw new Error('kind must be ratelimited, auth or server');
    fake.inject({ kind, times: Number(times ?? 1), resetInMs, apiKey });
  }));
  r.get('/requests', wrap(() => fake.requests.map(({ at, operationName, status, outcome }) => ({ at, operationName, status, outcome }))));
  r.get('/violations', wrap(() => fake.violations));
  return r;
}
