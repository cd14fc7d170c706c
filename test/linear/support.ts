/** A fake Linear per test file, a fresh api key per test (each has its own rate-limit gate), and the honesty check. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startFakeLinear, type RunningFakeLinear } from '../fakes/linear/server.js';

export async function fakeLinear(): Promise<RunningFakeLinear> {
  return startFakeLinear();
}

export function newKey(linear: RunningFakeLinear): string {
  return linear.fake.addApiKey(`lin_api_${randomBytes(12).toString('hex')}`);
}

/** Every document sent was valid against Linear's schema, every webhook matched its payload types, nothing unmodelled was touched. */
export function assertHonest(linear: RunningFakeLinear): void {
  assert.deepEqual(linear.fake.violations, [], 'documents or webhooks that break Linear\'s schema, or fields the fake does not model');
}
