/** A company wired to the fake GitHub: a repository, a source with a webhook secret, a routing rule, an agent. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { startFakeGitHub, type RunningFake } from '../fakes/github/server.js';
import { seedCompany, type SeededAgent } from './seed.js';
import { startStack, type Stack, type StackOptions } from './stack.js';
import { waitFor } from './wait.js';

export interface Wired {
  companyId: string;
  sourceId: string;
  agent: SeededAgent;
  agents: SeededAgent[];
  owner: string;
  repo: string;
  token: string;
  webhookSecret: string;
}

export async function wireGitHub(
  stack: Stack,
  fake: RunningFake,
  opts: {
    webhooks?: boolean; pollIntervalSeconds?: number | null; reviewPolicy?: 'require' | 'never_require'; rules?: unknown[]; agents?: number;
    /** One rule sharing every task among all the agents with this strategy (instead of `rules`). */
    shared?: 'round_robin' | 'least_loaded';
    /** The repository as GitHub names it, and as the operator types it when connecting the source. */
    repo?: { owner: string; name: string }; sourceAs?: { owner: string; repo: string };
  } = {},
): Promise<Wired> {
  const { companyId, agents } = await seedCompany(stack, opts.agents ?? 1);
  const owner = opts.repo?.owner ?? `org${randomBytes(3).toString('hex')}`;
  const repo = opts.repo?.name ?? 'widgets';
  await fake.fake.createRepo(owner, repo, { 'README.md': '# widgets\n', 'src/app.txt': 'v1\n' });
  const token = `ghp_${randomBytes(16).toString('hex')}`;
  const webhookSecret = `whsec_${randomBytes(16).toString('hex')}`;
  const rules = opts.shared
    ? [{ id: 'shared', name: `Everything, ${opts.shared}`, match: {}, target: { agentIds: agents.map((a) => a.id), strategy: opts.shared } }]
    : (opts.rules ?? [{ id: 'bugs', name: 'Bugs to the first agent', match: { labelsAny: ['bug'] }, target: { agentId: agents[0]!.id } }]);
  const routing = await stack.admin.request('PUT', `/api/companies/${companyId}/routing`, { rules });
  assert.equal(routing.status, 200, JSON.stringify(routing.body));
  const source = await stack.admin.post(`/api/companies/${companyId}/sources`, {
    provider: 'github', owner: opts.sourceAs?.owner ?? owner, repo: opts.sourceAs?.repo ?? repo, baseUrl: fake.url, credential: { token }, webhookSecret,
    pollIntervalSeconds: opts.pollIntervalSeconds === undefined ? null : opts.pollIntervalSeconds,
    reviewPolicy: opts.reviewPolicy ?? 'require',
  });
  assert.equal(source.status, 201, JSON.stringify(source.body));
  if (opts.webhooks !== false) fake.fake.hooks.subscribe(`${stack.url}/api/providers/github/webhooks/${source.body.id}`, webhookSecret);
  return { companyId, sourceId: source.body.id, agent: agents[0]!, agents, owner, repo, token, webhookSecret };
}

/** The agent's view of its task until `ok` holds (AgentRail's GET /tasks/{id}). */
export function waitForTask(agent: SeededAgent, taskId: string, what: string, ok: (data: any) => boolean, timeoutMs = 20_000) {
  return waitFor(what, async () => (await agent.http.get(`/api/tasks/${taskId}`)).body?.data, (d) => !!d && ok(d), timeoutMs);
}

/** The first task of the agent's queue once intake and routing have put it there. */
export async function waitForMine(agent: SeededAgent, timeoutMs = 20_000) {
  const mine = await waitFor('the task to reach the agent\'s queue', async () => (await agent.http.get('/api/tasks/mine')).body, (b) => b?.data?.length > 0, timeoutMs);
  return mine.data[0];
}

/** This file's stack and fake GitHub, started before its tests and stopped after them. */
export function stackWithFakeGitHub(opts: StackOptions = {}): { readonly stack: Stack; readonly fake: RunningFake } {
  const env = {} as { stack: Stack; fake: RunningFake };
  before(async () => {
    [env.stack, env.fake] = await Promise.all([startStack(opts), startFakeGitHub()]);
  });
  after(async () => {
    env.fake?.fake.releaseMerges();
    await env.stack?.stop();
    await env.fake?.close();
  });
  return env;
}
