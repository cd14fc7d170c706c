/**
 * Issue 14's hostile pass, the pure parts: CI text bounded and storable before it reaches Postgres or a
 * task, CircleCI project slugs that cannot climb out of /project/, and a Linear issue's labels capped
 * at what a poll reads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { candidateFromLinear, MAX_LABELS } from '../../activities/linear/intake.js';
import { parseLinearWebhook } from '../../activities/linear/webhooks.js';
import { patchSource } from '../../api/schemas-delivery.js';
import { MAX_CHECK_NAME, storableCi } from '../../domain/ci.js';
import type { CiState } from '../../domain/lifecycle.js';
import { findUnstorableText } from '../../domain/text.js';

const SHA = 'a'.repeat(40);

test('storableCi: NUL and lone surrogates become U+FFFD, names are bounded (never cut inside a surrogate pair) and still match across checks, summaries and hints', () => {
  const long = `${'n'.repeat(MAX_CHECK_NAME - 2)}😀tail`;
  const ci: CiState = {
    headSha: SHA,
    overallStatus: 'failed',
    checks: [
      { name: 'te\u0000st', workflow: 'build\ud800', status: 'failed', url: null, durationSeconds: null, provider: 'circleci' },
      { name: long, workflow: null, status: 'failed', url: null, durationSeconds: null, provider: 'circleci' },
    ],
    failureSummaries: [
      { checkName: 'te\u0000st', message: `boom\u0000${'m'.repeat(5000)}`, testName: 't\udc00', file: 'f'.repeat(300_000) },
      { checkName: long, message: 'x' },
    ],
    flakyHints: [{ checkName: long, confidence: 'low', reason: 'attempt 2' }],
    updatedAt: new Date().toISOString(),
  };
  const out = storableCi(ci);
  assert.equal(findUnstorableText(out), undefined, 'nothing Postgres refuses');
  assert.equal(out.checks[0]!.name, 'te\uFFFDst');
  assert.equal(out.checks[0]!.workflow, 'build\uFFFD');
  assert.ok(out.checks[1]!.name.length <= MAX_CHECK_NAME, 'a long name is cut');
  assert.equal(out.failureSummaries[1]!.checkName, out.checks[1]!.name, 'cut the same way in the summary');
  assert.equal(out.flakyHints![0]!.checkName, out.checks[1]!.name, 'and in the hint');
  assert.ok(out.failureSummaries[0]!.file!.length <= 300);
  assert.ok(out.failureSummaries[0]!.message.length <= 1000);
  assert.equal(out.overallStatus, 'failed', 'the verdict is untouched');
});

test('a CircleCI project slug has no segment of dots only (gh/../.. would leave /project/ in every URL built from it)', () => {
  const slug = (projectSlug: string) => patchSource.safeParse({ ci: { providers: ['circleci'], circleci: { projectSlug, token: 'tok' } } }).success;
  for (const bad of ['gh/../..', 'gh/acme/..', 'gh/../web', 'gh/./web', 'gh/acme/.', 'gh/.../web', 'gh/acme/web/../x']) assert.equal(slug(bad), false, bad);
  for (const good of ['gh/acme/web', 'gh/acme/web.js', 'gh/.github/web', 'bb/acme/my.repo', 'circleci/abc-123/def_456', 'gh/a..b/c']) assert.equal(slug(good), true, good);
});

test('a Linear issue keeps at most the labels a poll reads, from a webhook carrying thousands', () => {
  const labels = Array.from({ length: 20_000 }, (_, i) => ({ name: `l${i}` }));
  const c = candidateFromLinear({ id: 'x', identifier: 'ENG-1', number: 1, title: 't', url: 'u', updatedAt: new Date().toISOString(), labels });
  assert.equal(c.labels.length, MAX_LABELS);
});

test('a Linear Issue delivery carries its teamId even when `team` is left out (Linear\'s payload type makes team optional)', () => {
  const body = {
    action: 'create', type: 'Issue', createdAt: new Date().toISOString(), webhookTimestamp: Date.now(), webhookId: 'w', organizationId: 'o',
    data: { id: 'i', identifier: 'OPS-1', number: 1, title: 't', url: 'u', updatedAt: new Date().toISOString(), state: { id: 's', name: 'Todo', type: 'unstarted' }, teamId: 'team-ops', labels: [] },
  };
  const event = parseLinearWebhook(JSON.stringify(body), 'Issue');
  assert.equal(event.kind, 'issue');
  assert.equal(event.kind === 'issue' ? event.teamId : null, 'team-ops');
  assert.equal(event.kind === 'issue' ? event.teamKey : 'x', null);
});
