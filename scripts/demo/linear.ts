/**
 * `npm run demo -- --linear`: an issue from a fake Linear team to a merged PR on a fake GitHub, with
 * CircleCI's checks (a fake CircleCI) gating the ship: the first head fails a test, the agent fixes it,
 * the second passes; the Linear issue ends in its completed state with the merge linked.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startFakeCircleCI } from '../../test/fakes/circleci/server.js';
import { startFakeGitHub } from '../../test/fakes/github/server.js';
import { startFakeLinear } from '../../test/fakes/linear/server.js';
import { ROOT } from '../stack/temporal-cli.js';
import { firstTask, followTask, type DemoContext } from './context.js';

export async function linearDemo(ctx: DemoContext): Promise<void> {
  const { call, say } = ctx;
  const [github, linear, circleci] = await Promise.all([
    startFakeGitHub(Number(process.env.FAKE_GITHUB_PORT ?? 0)),
    startFakeLinear({ port: Number(process.env.FAKE_LINEAR_PORT ?? 0) }),
    startFakeCircleCI({ port: Number(process.env.FAKE_CIRCLECI_PORT ?? 0) }),
  ]);
  ctx.onStop(async () => {
    await Promise.all([github.close(), linear.close(), circleci.close()]);
  });
  const owner = 'acme';
  const repo = `shop-${randomBytes(2).toString('hex')}`;
  const teamKey = `SH${randomBytes(1).toString('hex').toUpperCase()}`;
  const projectSlug = `gh/${owner}/${repo}`;
  await github.fake.createRepo(owner, repo, { 'README.md': `# ${repo}\n`, 'src/checkout.txt': 'the checkout page\n' });
  linear.fake.createTeam({ key: teamKey, name: 'Shop' });
  const apiKey = linear.fake.addApiKey(`lin_api_demo_${randomBytes(8).toString('hex')}`, 'Switchyard');
  const circleToken = `CCIPAT_demo_${randomBytes(8).toString('hex')}`;
  circleci.fake.addToken(circleToken);
  circleci.fake.project(projectSlug);
  say(`fake GitHub on ${github.url} (${owner}/${repo}), fake Linear on ${linear.url} (team ${teamKey}), fake CircleCI on ${circleci.url} (${projectSlug})`);

  const company = await call('POST', '/api/companies', { name: `Linear demo ${repo}`, issuePrefix: 'LDEMO' });
  const agent = await call('POST', `/api/companies/${company.id}/agents`, { name: 'demo-agent', role: 'engineer' });
  await call('PUT', `/api/agents/${agent.agent.id}/wake-target`, {
    target: { type: 'process', command: process.execPath, args: ['--import', 'tsx', path.join(ROOT, 'scripts/demo-agent.ts'), github.url, owner, repo], cwd: ROOT },
  });
  await call('PUT', `/api/companies/${company.id}/routing`, { rules: [{ id: 'all', name: 'Everything to the demo agent', match: {}, target: { agentId: agent.agent.id } }] });

  const circleSecret = randomBytes(16).toString('hex');
  const repository = await call('POST', `/api/companies/${company.id}/sources`, {
    provider: 'github', owner, repo, baseUrl: github.url, credential: { token: `ghp_demo_${randomBytes(8).toString('hex')}` }, pollIntervalSeconds: null, reviewPolicy: 'never_require',
    ci: { providers: ['circleci'], circleci: { projectSlug, token: circleToken, webhookSecret: circleSecret, baseUrl: circleci.apiUrl } },
  });
  circleci.fake.subscribe({ url: `${ctx.api}/api/providers/circleci/webhooks/${repository.id}`, secret: circleSecret, projectSlug });
  const linearSecret = randomBytes(16).toString('hex');
  const source = await call('POST', `/api/companies/${company.id}/sources`, {
    provider: 'linear', teamKey, credential: { apiKey }, apiUrl: linear.url, webhookSecret: linearSecret, pollIntervalSeconds: 60, repository: { sourceId: repository.id },
  });
  linear.fake.subscribe({ url: `${ctx.api}/api/providers/linear/webhooks/${source.id}`, secret: linearSecret, teamKey });
  ctx.onStop(async () => {
    await call('DELETE', `/api/sources/${source.id}`);
    await call('DELETE', `/api/sources/${repository.id}`);
    say(`removed the demo's sources and the Linear Schedule (the fakes go with the demo); the task stays`);
  });
  say(`Linear team ${teamKey} connected (source ${source.id}): webhooks to ${ctx.api}/api/providers/linear/webhooks/${source.id}, polling Schedule ${source.schedule}`);
  say(`  delivers to ${owner}/${repo}, judged by CircleCI ${projectSlug} (webhooks to ${ctx.api}/api/providers/circleci/webhooks/${repository.id})`);

  const issue = await linear.fake.createIssue({ teamKey, title: 'Checkout total ignores the discount code', description: 'Apply SAVE10: the total does not change.', priority: 2, labels: ['bug'] });
  say(`created ${linear.fake.identifier(issue)} in Linear: ${linear.fake.url(issue)}`);
  const task = await firstTask(ctx, company.id);
  const played = new Set<string>();
  const t = await followTask(ctx, task.id, async (t) => {
    // The demo plays CircleCI on each new head: the first fails a test, later ones pass.
    if (t.status === 'in_review' && t.headSha && !played.has(t.headSha) && t.branch) {
      const red = played.size === 0;
      played.add(t.headSha);
      const tests = red ? [{ name: 'applies the discount', classname: 'checkout', file: 'test/checkout.test.ts', message: 'expected 90, got 100', result: 'failure' }] : [];
      await circleci.fake.createPipeline({ projectSlug, branch: t.branch, revision: t.headSha, workflows: [{ name: 'build-and-test', jobs: [{ name: 'lint', status: 'success' }, { name: 'unit', status: red ? 'failed' : 'success', tests }] }] });
      say(`CircleCI ran build-and-test on ${t.headSha.slice(0, 8)}: ${red ? 'unit failed (applies the discount)' : 'green'}`);
    }
  }, (t) => t.status === 'done' && t.stage === 'shipped');
  say(`shipped: ${t.shipped.mergeCommitUrl}`);
  // The Linear write-back is an effect the workflow carries out right after the ship.
  const done = () => linear.fake.issue(issue.id)!.stateId === linear.fake.stateByName(issue.teamId, 'Done').id;
  for (let i = 0; i < 50 && !done(); i++) await ctx.sleep(200);
  const state = linear.fake.teamStates(issue.teamId).find((s) => s.id === linear.fake.issue(issue.id)!.stateId)?.name;
  say(`Linear issue ${linear.fake.identifier(issue)} is ${state}; its comments: ${linear.fake.comments(issue.id).map((c) => JSON.stringify(c.body.slice(0, 80))).join(' · ')}`);
}
