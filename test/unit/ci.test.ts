/** Issue 14 §3: CircleCI's statuses in ours, and two CI systems on one head combined (any red is red). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { circleciStatus, combineCi } from '../../domain/ci.js';
import type { CheckView, CiState } from '../../domain/lifecycle.js';

test('CircleCI statuses, every one the reference lists, and anything unknown is a failure', () => {
  const table: Record<string, CheckView['status']> = {
    success: 'passed', successful: 'passed', SUCCESS: 'passed',
    queued: 'queued', pending: 'queued', not_run: 'queued', blocked: 'queued', on_hold: 'queued',
    running: 'running', failing: 'running',
    canceled: 'cancelled', cancelled: 'cancelled',
    skipped: 'skipped',
    failed: 'failed', error: 'failed', infrastructure_fail: 'failed', timedout: 'failed', unauthorized: 'failed', missing: 'failed', '': 'failed', 'something-new': 'failed',
  };
  for (const [value, ours] of Object.entries(table)) assert.equal(circleciStatus(value), ours, value);
});

const SHA = 'a'.repeat(40);
const check = (name: string, status: CheckView['status'], workflow = 'github-actions'): CheckView => ({ name, workflow, status, url: null, durationSeconds: null });
const state = (checks: CheckView[], over: Partial<CiState> = {}): CiState => ({ headSha: SHA, overallStatus: 'passed', checks, failureSummaries: [], updatedAt: '2026-12-07T10:00:00.000Z', ...over });

test('two CI systems on one head: either red is red; running waits; both green passes; nothing yet is queued', () => {
  const green = state([check('build', 'passed')]);
  const red = state([check('test', 'failed', 'circleci')], { updatedAt: '2026-12-07T10:05:00.000Z' });
  const both = combineCi(SHA, [green, red]);
  assert.equal(both.overallStatus, 'failed');
  assert.deepEqual(both.checks.map((c) => [c.name, c.workflow]), [['build', 'github-actions'], ['test', 'circleci']]);
  assert.deepEqual(both.failureSummaries, [{ checkName: 'test', message: 'test failed' }]);
  assert.equal(both.updatedAt, '2026-12-07T10:05:00.000Z');
  assert.equal(combineCi(SHA, [green, state([check('e2e', 'running', 'circleci')])]).overallStatus, 'running');
  assert.equal(combineCi(SHA, [green, state([check('lint', 'passed', 'circleci')])]).overallStatus, 'passed');
  assert.equal(combineCi(SHA, []).overallStatus, 'queued');
  // An answer about another head says nothing of this one.
  assert.equal(combineCi(SHA, [green, state([check('old', 'failed', 'circleci')], { headSha: 'b'.repeat(40) })]).overallStatus, 'passed');
});
