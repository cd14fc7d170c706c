/**
 * A company wired to all three fakes: a GitHub repository judged by CircleCI (and GitHub's checks if
 * asked), a Linear team delivering to it, a routing rule, agents; each fake's webhooks pointed at the
 * stack when asked. Started per file with `stackWithAllFakes()`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { startFakeCircleCI, type RunningFakeCircleCI } from '../fakes/circleci/server.js';
import { startFakeGitHub, type RunningFake } from '../fakes/github/server.js';
import { startFakeLinear, type RunningFakeLinear } from '../fakes/linear/server.js';
import { seedCompany, type SeededAgent } from './seed.js';
import { startStack, type Stack, type StackOptions } from './stack.js';

export interface AllFakes {
  stack: Stack;
  github: RunningFake;
  linear: RunningFakeLinear;
  circleci: RunningFakeCircleCI;
}

export function stackWithAllFakes(opts: StackOptions = {}): AllFakes {
  const env = {} as AllFakes;
  before(async () => {
    [env.stack, env.github, env.linear, env.circleci] = await Promise.all([startStack(opts), startFakeGitHub(), startFakeLinear(), startFakeCircleCI()]);
  });
  after(async () => {
    env.github?.fake.releaseMerges();
    await env.stack?.stop();
    await Promise.all([env.github?.close(), env.linear?.close(), env.circleci?.close()]);
  });
  return env;
}

export interface WiredLinear {
  companyId: string;
  agent: SeededAgent;
  agents: SeededAgent[];
  owner: string;
  repo: string;
  repositoryId: string;
  linearSourceId: string;
  teamKey: string;
  projectSlug: string;
  secrets: { githubToken: string; linearKey: string; circleToken: string; linearWebhook: string; circleWebhook: string };
}

export async function wireLinear(env: AllFakes, opts: { webhooks?: boolean; ci?: Array<'github_actions' | 'circleci'>; flaky?: { rerunOnce?: boolean; rerunAt?: 'high' | 'medium' }; reviewPolicy?: 'require' | 'never_require'; agents?: number } = {}): Promise<WiredLinear> {
  const { stack } = env;
  const { companyId, agents } = await seedCompany(stack, opts.agents ?? 1);
  const suffix = randomBytes(3).toString('hex');
  const owner = `org${suffix}`;
  const repo = 'widgets';
  const teamKey = `E${suffix.slice(0, 4).toUpperCase()}`;
  const projectSlug = `gh/${owner}/${repo}`;
  await env.github.fake.createRepo(owner, repo, { 'README.md': '# widgets\n', 'src/app.txt': 'v1\n' });
  env.linear.fake.createTeam({ key: teamKey, name: `Team ${teamKey}` });
  const secrets = {
    githubToken: `ghp_${randomBytes(16).toString('hex')}`,
    linearKey: env.linear.fake.addApiKey(`lin_api_${randomBytes(16).toString('hex')}`, 'Switchyard Bot'),
    circleToken: `CCIPAT_${randomBytes(16).toString('hex')}`,
    linearWebhook: `lin_wh_${randomBytes(16).toString('hex')}`,
    circleWebhook: `cci_wh_${randomBytes(16).toString('hex')}`,
  };
  env.circleci.fake.addToken(secrets.circleToken);
  env.circleci.fake.project(projectSlug); // set up in CircleCI: the settings are tried when saved
  const routing = await stack.admin.request('PUT', `/api/companies/${companyId}/routing`, { rules: [{ id: 'all', name: 'Everything to the first agent', match: {}, target: { agentId: agents[0]!.id } }] });
  assert.equal(routing.status, 200, JSON.stringify(routing.body));
  const repository = await stack.admin.post(`/api/companies/${companyId}/sources`, {
    provider: 'github', owner, repo, baseUrl: env.github.url, credential: { token: secrets.githubToken }, pollIntervalSeconds: null, reviewPolicy: opts.reviewPolicy ?? 'never_require',
    ci: { providers: opts.ci ?? ['circleci'], circleci: { projectSlug, token: secrets.circleToken, webhookSecret: secrets.circleWebhook, baseUrl: env.circleci.apiUrl } },
    ...(opts.flaky ? { flaky: opts.flaky } : {}),
  });
  assert.equal(repository.status, 201, JSON.stringify(repository.body));
  const linear = await stack.admin.post(`/api/companies/${companyId}/sources`, {
    provider: 'linear', teamKey, credential: { apiKey: secrets.linearKey }, apiUrl: env.linear.url, webhookSecret: secrets.linearWebhook, pollIntervalSeconds: null,
    repository: { owner, repo },
  });
  assert.equal(linear.status, 201, JSON.stringify(linear.body));
  if (opts.webhooks !== false) {
    env.linear.fake.subscribe({ url: `${stack.url}/api/providers/linear/webhooks/${linear.body.id}`, secret: secrets.linearWebhook, teamKey });
    env.circleci.fake.subscribe({ url: `${stack.url}/api/providers/circleci/webhooks/${repository.body.id}`, secret: secrets.circleWebhook, projectSlug });
  }
  return { companyId, agent: agents[0]!, agents, owner, repo, repositoryId: repository.body.id, linearSourceId: linear.body.id, teamKey, projectSlug, secrets };
}

/** Waits (polling every 100 ms) until `ok` holds of the fakes' state. */
export async function until(ok: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
