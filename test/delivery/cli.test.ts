/** The delivery commands of the CLI against the real API and the env.fake GitHub: an operator connects a repo, an agent works a task. */
import assert from 'node:assert/strict';
import { assertHonest } from '../github/support.js';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { stackWithFakeGitHub } from '../support/delivery.js';
import { seedCompany } from '../support/seed.js';
import { runCli } from '../support/cli.js';

const env = stackWithFakeGitHub();

const cli = (key: string, args: string[]) => runCli(env.stack.url, key, args);

test('sources add/sync/pause, routing set/show, task mine/start/submit/ci/review, agents wake-target', async () => {
  const { companyId, agents } = await seedCompany(env.stack, 1);
  const agent = agents[0]!;
  await env.fake.fake.createRepo('cli-org', 'tool');
  await env.fake.fake.openIssue('cli-org', 'tool', { title: 'From the CLI', labels: ['bug'] });
  const rules = path.join(tmpdir(), `rules-${companyId}.json`);
  writeFileSync(rules, JSON.stringify([{ id: 'all', name: 'Everything', match: {}, target: { agentId: agent.id } }]));
  const op = env.stack.adminKey;
  assert.equal((await cli(op, ['routing', 'set', companyId, rules])).code, 0);
  assert.equal((await cli(op, ['routing', 'show', companyId])).out.rules[0].id, 'all');
  const added = await cli(op, ['sources', 'add', companyId, '--owner', 'cli-org', '--repo', 'tool', '--token', 'ghp_cli_secret_token', '--base-url', env.fake.url, '--poll', '0']);
  assert.equal(added.code, 0, added.stderr);
  assert.ok(!JSON.stringify(added.out).includes('ghp_cli_secret_token'));
  const synced = await cli(op, ['sources', 'sync', added.out.id]);
  assert.equal(synced.code, 0, synced.stderr);
  assert.equal(synced.out.admitted.length, 1);
  assert.equal((await cli(op, ['sources', 'pause', added.out.id])).out.paused, true);
  assert.equal((await cli(op, ['sources', 'list', companyId])).out.length, 1);

  const mine = await cli(agent.key, ['task', 'mine']);
  assert.equal(mine.code, 0, mine.stderr);
  const id = mine.out.data[0].identifier;
  assert.equal((await cli(agent.key, ['task', 'start', id])).out.data.status, 'in_progress');
  await env.fake.fake.pushCommit('cli-org', 'tool', 'cli-fix', { 'f.txt': 'x\n' });
  const submitted = await cli(agent.key, ['task', 'submit', id, '--summary', 'Fixed from the CLI', '--head', 'cli-fix']);
  assert.equal(submitted.code, 0, submitted.stderr);
  assert.match(submitted.stderr, /Idempotency-Key: cli-/);
  assert.equal(submitted.out.data.action, 'created');
  assert.equal((await cli(agent.key, ['task', 'ci', id])).code, 0);
  assert.equal((await cli(agent.key, ['task', 'review', id])).out.data.latestDecision.outcome, 'pending');
  const early = await cli(agent.key, ['task', 'ship', id, '--sha', submitted.out.data.headSha]);
  assert.equal(early.code, 1);
  assert.match(early.stderr, /HTTP 409[\s\S]*not_shippable/);
  assert.equal((await cli(op, ['agents', 'wake-target', agent.id, '--none'])).code, 0);
  assertHonest(env.fake);
});
