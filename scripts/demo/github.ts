/** The GitHub demo: an issue opened on a fake GitHub, CI and review played on its PR, shipped. */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startFakeGitHub } from '../../test/fakes/github/server.js';
import { ROOT } from '../stack/temporal-cli.js';
import { firstTask, followTask, type DemoContext } from './context.js';

export async function githubDemo(ctx: DemoContext): Promise<void> {
  const { call, say } = ctx;
  const fake = await startFakeGitHub(Number(process.env.FAKE_GITHUB_PORT ?? 0));
  ctx.onStop(() => fake.close());
  const owner = 'acme';
  const repo = `shop-${randomBytes(2).toString('hex')}`;
  await fake.fake.createRepo(owner, repo, { 'README.md': `# ${repo}\n`, 'src/checkout.txt': 'the checkout page\n' });
  say(`fake GitHub on ${fake.url} with ${owner}/${repo}`);
  const company = await call('POST', '/api/companies', { name: `Demo ${repo}`, issuePrefix: 'DEMO' });
  const agent = await call('POST', `/api/companies/${company.id}/agents`, { name: 'demo-agent', role: 'engineer' });
  await call('PUT', `/api/agents/${agent.agent.id}/wake-target`, {
    target: { type: 'process', command: process.execPath, args: ['--import', 'tsx', path.join(ROOT, 'scripts/demo-agent.ts'), fake.url, owner, repo], cwd: ROOT },
  });
  await call('PUT', `/api/companies/${company.id}/routing`, { rules: [{ id: 'bugs', name: 'Bugs go to the demo agent', match: { labelsAny: ['bug'] }, target: { agentId: agent.agent.id } }] });
  const secret = randomBytes(16).toString('hex');
  const source = await call('POST', `/api/companies/${company.id}/sources`, { provider: 'github', owner, repo, baseUrl: fake.url, credential: { token: `ghp_demo_${randomBytes(8).toString('hex')}` }, webhookSecret: secret, pollIntervalSeconds: 60 });
  fake.fake.hooks.subscribe(`${ctx.api}/api/providers/github/webhooks/${source.id}`, secret);
  ctx.onStop(async () => {
    await call('DELETE', `/api/sources/${source.id}`);
    say(`removed the demo's source and its Schedule (the fake GitHub goes with the demo); the task stays`);
  });
  say(`source ${owner}/${repo} connected: webhooks to ${ctx.api}/api/providers/github/webhooks/${source.id}, polling Schedule ${source.schedule}`);
  say(`  Schedules: ${ctx.uiUrl()}/namespaces/default/schedules`);

  const issue = await fake.fake.openIssue(owner, repo, { title: 'Checkout button does nothing on mobile', body: 'Tap "Pay": nothing happens.', labels: ['bug'] });
  say(`opened ${fake.url}/${owner}/${repo}/issues/${issue.number} upstream`);
  const task = await firstTask(ctx, company.id);
  let playedCi = '';
  let reviewed = false;
  const t = await followTask(ctx, task.id, async (t) => {
    // The demo plays CI on each new head, then the reviewer.
    if (t.status === 'in_review' && t.headSha && playedCi !== t.headSha) {
      playedCi = t.headSha;
      await fake.fake.setCheckRun(owner, repo, { sha: t.headSha, name: 'ci/test', status: 'completed', conclusion: 'success' });
    }
    if (t.status === 'in_review' && t.ci?.overallStatus === 'passed' && !reviewed) {
      reviewed = true;
      await fake.fake.submitReview(owner, repo, t.prNumber, { user: 'maintainer', state: 'APPROVED', body: 'Looks good' });
    }
  }, (t) => t.status === 'done' && t.stage === 'shipped');
  say(`shipped: ${t.shipped.mergeCommitUrl}`);
  // Closing the upstream issue is an effect the workflow carries out right after the ship.
  const upstream = fake.fake.repo(owner, repo).issues.get(issue.number)!;
  for (let i = 0; i < 50 && upstream.state !== 'closed'; i++) await ctx.sleep(200);
  say(`upstream issue ${fake.url}/${owner}/${repo}/issues/${issue.number} is ${upstream.state}; the task's comments: ${ctx.api}/api/issues/${task.id}/comments`);
}
