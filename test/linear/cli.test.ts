/** The CLI's Linear and CI commands against the real API and the fakes: connect a team, judge a repository by CircleCI, poll. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { seedCompany } from '../support/seed.js';
import { stackWithAllFakes } from '../support/linear-delivery.js';
import { runCli } from '../support/cli.js';

const env = stackWithAllFakes();

const cli = (args: string[]) => runCli(env.stack.url, env.stack.adminKey, args);

test('sources add, ci (CircleCI beside GitHub, flaky policy), add-linear, sync: a Linear issue taken in', async () => {
  const { companyId } = await seedCompany(env.stack, 1);
  const owner = `cli${randomBytes(3).toString('hex')}`;
  await env.github.fake.createRepo(owner, 'tool', { 'README.md': '# tool\n' });
  env.linear.fake.createTeam({ key: 'CLI', name: 'CLI team' });
  const linearKey = env.linear.fake.addApiKey(`lin_api_cli_${randomBytes(8).toString('hex')}`);
  env.circleci.fake.addToken('CCIPAT_cli_secret');
  for (const slug of [`gh/${owner}/tool`, `gh/${owner}/other`]) env.circleci.fake.project(slug);
  const repo = await cli(['sources', 'add', companyId, '--owner', owner, '--repo', 'tool', '--token', 'ghp_cli_token', '--base-url', env.github.url, '--poll', '0']);
  assert.equal(repo.code, 0, repo.stderr);

  const ci = await cli(['sources', 'ci', repo.out.id, '--providers', 'github_actions,circleci', '--project-slug', `gh/${owner}/tool`, '--circleci-token', 'CCIPAT_cli_secret', '--circleci-webhook-secret', 'cli-webhook-secret', '--circleci-base-url', env.circleci.apiUrl, '--rerun-at', 'medium']);
  assert.equal(ci.code, 0, ci.stderr);
  assert.deepEqual(ci.out.ci.providers, ['github_actions', 'circleci']);
  assert.equal(ci.out.ci.circleci.projectSlug, `gh/${owner}/tool`);
  assert.deepEqual(ci.out.ci.circleci.token, { configured: true });
  assert.equal(ci.out.ci.circleci.webhook.path, `/api/providers/circleci/webhooks/${repo.out.id}`);
  assert.deepEqual(ci.out.flaky, { rerunOnce: true, rerunAt: 'medium' });
  assert.ok(!JSON.stringify(ci.out).includes('CCIPAT_cli_secret') && !JSON.stringify(ci.out).includes('cli-webhook-secret'), 'no secret shown');
  const noCircleToken = await cli(['sources', 'ci', repo.out.id, '--providers', 'circleci', '--project-slug', `gh/${owner}/other`, '--circleci-token', '', '--circleci-base-url', env.circleci.apiUrl]);
  assert.equal(noCircleToken.code, 0, 'an empty token flag keeps the sealed one');

  // CircleCI's settings without --providers would be dropped by the API (ci is set as a whole): a usage error, nothing sent.
  const noProviders = await cli(['sources', 'ci', repo.out.id, '--project-slug', `gh/${owner}/tool`, '--circleci-base-url', 'http://127.0.0.1:1/api/v2']);
  assert.equal(noProviders.code, 2, noProviders.stderr);
  assert.match(noProviders.stderr, /need --providers/);
  const nothing = await cli(['sources', 'ci', repo.out.id]);
  assert.equal(nothing.code, 2, nothing.stderr);
  assert.match(nothing.stderr, /nothing to change/);

  const team = await cli(['sources', 'add-linear', companyId, '--team', 'CLI', '--repository', `${owner}/tool`, '--api-key', linearKey, '--api-url', env.linear.url, '--poll', '0', '--states', 'Todo,Backlog', '--review-policy', 'never_require']);
  assert.equal(team.code, 0, team.stderr);
  assert.equal(team.out.provider, 'linear');
  assert.equal(team.out.teamKey, 'CLI');
  assert.equal(team.out.repository.sourceId, repo.out.id);
  assert.deepEqual(team.out.states, ['Todo', 'Backlog']);
  assert.equal(team.out.reviewPolicy, 'never_require', 'the team\'s own review policy');
  assert.ok(!JSON.stringify(team.out).includes(linearKey), 'the key is never shown');

  const badTeam = await cli(['sources', 'add-linear', companyId, '--team', 'NOPE', '--repository', `${owner}/tool`, '--api-key', linearKey, '--api-url', env.linear.url]);
  assert.notEqual(badTeam.code, 0);
  assert.match(badTeam.stderr + JSON.stringify(badTeam.out), /NOPE/);

  await env.linear.fake.createIssue({ teamKey: 'CLI', title: 'From Linear, via the CLI', stateName: 'Todo' });
  await env.linear.fake.createIssue({ teamKey: 'CLI', title: 'Already started: filtered out', stateName: 'In Progress' });
  const synced = await cli(['sources', 'sync', team.out.id]);
  assert.equal(synced.code, 0, synced.stderr);
  assert.equal(synced.out.found, 2);
  assert.equal(synced.out.admitted.length, 1, 'the state filter takes Todo in, leaves In Progress out');
  assert.equal(synced.out.filteredOut, 1);
});

test('CircleCI settings are tried when saved: a refused token is 422 source_credential_invalid, an unknown project 422 repository_not_found, CircleCI down 503; nothing is saved', async () => {
  const { companyId } = await seedCompany(env.stack, 1);
  const owner = `cci${randomBytes(3).toString('hex')}`;
  await env.github.fake.createRepo(owner, 'svc', { 'README.md': '# svc\n' });
  env.circleci.fake.addToken('CCIPAT_good_token');
  env.circleci.fake.project(`gh/${owner}/svc`);
  const repo = await env.stack.admin.post(`/api/companies/${companyId}/sources`, { provider: 'github', owner, repo: 'svc', baseUrl: env.github.url, credential: { token: 'ghp_x' }, pollIntervalSeconds: null });
  assert.equal(repo.status, 201, JSON.stringify(repo.body));
  const patch = (circleci: Record<string, unknown>) => env.stack.admin.patch(`/api/sources/${repo.body.id}`, { ci: { providers: ['circleci'], circleci: { baseUrl: env.circleci.apiUrl, ...circleci } } });
  const refused = await patch({ projectSlug: `gh/${owner}/svc`, token: 'CCIPAT_wrong' });
  assert.equal(refused.status, 422, JSON.stringify(refused.body));
  assert.equal(refused.body.code, 'source_credential_invalid');
  const unknown = await patch({ projectSlug: `gh/${owner}/typo`, token: 'CCIPAT_good_token' });
  assert.equal(unknown.status, 422, JSON.stringify(unknown.body));
  assert.equal(unknown.body.code, 'repository_not_found');
  const down = await patch({ projectSlug: `gh/${owner}/svc`, token: 'CCIPAT_good_token', baseUrl: 'http://127.0.0.1:9/api/v2' });
  assert.equal(down.status, 503, JSON.stringify(down.body));
  assert.equal(down.body.code, 'provider_unavailable');
  assert.deepEqual((await env.stack.admin.get(`/api/sources/${repo.body.id}`)).body.ci, { providers: ['github_actions'], circleci: null }, 'nothing saved');
  const good = await patch({ projectSlug: `gh/${owner}/svc`, token: 'CCIPAT_good_token' });
  assert.equal(good.status, 200, JSON.stringify(good.body));
  // The project moves and the token stays sealed: the new project is tried with the stored token.
  const moved = await env.stack.admin.patch(`/api/sources/${repo.body.id}`, { ci: { providers: ['circleci'], circleci: { projectSlug: `gh/${owner}/gone`, baseUrl: env.circleci.apiUrl } } });
  assert.equal(moved.status, 422, JSON.stringify(moved.body));
  assert.equal(moved.body.code, 'repository_not_found');
});
