/** A fake GitHub per test file and a fresh credential per test (each credential has its own rate budget). */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { githubClient, type GitHub } from '../../activities/github/client.js';
import { startFakeGitHub, type RunningFake } from '../fakes/github/server.js';

export async function fakeGitHub(): Promise<RunningFake> {
  return startFakeGitHub();
}

export function client(fake: RunningFake): GitHub {
  return githubClient({ kind: 'token', token: `ghs_${randomBytes(12).toString('hex')}` }, { baseUrl: fake.url });
}

/** Every body the fake sent matched GitHub's schemas. */
export function assertHonest(fake: RunningFake): void {
  assert.deepEqual(fake.violations, [], 'REST responses that break GitHub\'s schema');
  assert.deepEqual(fake.fake.hooks.violations, [], 'webhooks that break GitHub\'s schema');
  assert.deepEqual(fake.errors, [], 'exceptions inside the fake GitHub');
}
