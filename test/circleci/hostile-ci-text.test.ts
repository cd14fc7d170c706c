/**
 * Issue 14's hostile pass: CI text reaching Postgres. Job and workflow names come from the repository's
 * CircleCI config (which a PR may change): a NUL, a lone surrogate or a name longer than Postgres
 * indexes must not make every observation of the task's CI fail (the task would never leave "queued").
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { withFlakyHints } from '../../activities/flaky.js';
import { migrate } from '../../db/migrate.js';
import { createPool, type Pool } from '../../db/pool.js';
import type { CiState } from '../../domain/lifecycle.js';
import { findUnstorableText } from '../../domain/text.js';
import { dropDatabase, ensureDatabase } from '../../scripts/stack/postgres.js';
import { testEnv } from '../support/stack.js';

let pool: Pool;
let dbName: string;
let server: string;

before(async () => {
  server = testEnv().pg;
  dbName = `sy_test_${randomBytes(5).toString('hex')}`;
  pool = createPool(await ensureDatabase(server, dbName), 4);
  await migrate(pool);
});

after(async () => {
  await pool?.end();
  await dropDatabase(server, dbName).catch(() => {});
});

test('withFlakyHints takes check names with a NUL, a lone surrogate or 100,000 characters: recorded, hinted, and storable', async () => {
  const source = randomUUID();
  const huge = 'j'.repeat(100_000);
  const ci = (sha: string, status: 'passed' | 'failed'): CiState => ({
    headSha: sha,
    overallStatus: status,
    checks: [
      { name: 'te\u0000st', workflow: 'build\u0000', status, url: null, durationSeconds: null, provider: 'circleci' },
      { name: 'lint\ud800', workflow: null, status, url: null, durationSeconds: null, provider: 'circleci' },
      { name: huge, workflow: null, status, url: null, durationSeconds: null, provider: 'circleci' },
    ],
    failureSummaries: status === 'failed' ? [{ checkName: 'te\u0000st', message: 'boom\u0000' }] : [],
    updatedAt: new Date().toISOString(),
  });
  const sha = 'b'.repeat(40);
  await withFlakyHints(pool, source, ci(sha, 'passed'));
  const out = await withFlakyHints(pool, source, ci(sha, 'failed'));
  assert.equal(findUnstorableText(out), undefined, 'what goes back to the workflow is storable');
  assert.deepEqual(out.flakyHints?.map((h) => h.confidence), ['medium', 'medium', 'medium'], 'each check passed earlier on this head: its evidence was recorded and found');
  const { rows } = await pool.query<{ n: number; longest: number }>('SELECT count(*)::int AS n, max(length(check_name))::int AS longest FROM ci_check_results WHERE source_id = $1', [source]);
  assert.equal(rows[0]!.n, 6);
  assert.ok(rows[0]!.longest <= 200, `names are bounded (${rows[0]!.longest})`);
});
