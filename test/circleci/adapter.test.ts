/** Our CircleCI adapter (client, CI port, webhooks) against the fake CircleCI: every path, offline. */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, afterEach, before, describe, it } from 'node:test';
import { CircleCI, CircleCIUnavailable, CircleWebhookError, parseCircleWebhook, verifyCircleSignature, type CircleWebhookEvent } from '../../activities/circleci/index.js';
import { ProviderRefusal } from '../../activities/providers/ports.js';
import { circleciStatus } from '../../domain/ci.js';
import type { CheckView } from '../../domain/lifecycle.js';
import type { CreatePipelineInput } from '../fakes/circleci/fake.js';
import { startFakeCircleCI, type RunningFakeCircleCI } from '../fakes/circleci/server.js';

const sha = () => randomBytes(20).toString('hex');
const NO_TESTS = 'Job failed; CircleCI did not report structured test results.';
const OURS: CheckView['status'][] = ['queued', 'running', 'passed', 'failed', 'cancelled', 'skipped'];

describe('CircleCI adapter against the fake CircleCI', () => {
  let cci: RunningFakeCircleCI;
  let n = 0;
  const slug = () => `gh/acme/repo-${++n}`;
  /** A fresh token per adapter: each token has its own rate-limit budget. */
  const adapter = (projectSlug: string, opts: { token?: string; maxRateLimitWaitMs?: number } = {}) => {
    const token = opts.token ?? `CCIPAT_${randomBytes(8).toString('hex')}`;
    cci.fake.addToken(token);
    return new CircleCI({ token, projectSlug, baseUrl: cci.apiUrl, maxRateLimitWaitMs: opts.maxRateLimitWaitMs });
  };
  const pipeline = (input: CreatePipelineInput) => cci.fake.createPipeline(input);
  const apiCalls = (from: number) => cci.fake.requests.slice(from);

  before(async () => {
    cci = await startFakeCircleCI();
  });
  afterEach(() => assert.deepEqual(cci.fake.violations, [], 'responses or webhooks that break a schema'));
  after(() => cci.close());

  it('every job status through the table, an unknown one failed, never an unknown status of ours', async () => {
    const table: Record<string, CheckView['status']> = {
      success: 'passed', failed: 'failed', error: 'failed', infrastructure_fail: 'failed', timedout: 'failed', canceled: 'cancelled',
      not_run: 'queued', on_hold: 'queued', blocked: 'queued', running: 'running', failing: 'running', queued: 'queued',
      skipped: 'skipped', unauthorized: 'failed', 'something-unknown': 'failed',
    };
    // Served on purpose beyond CircleCI's published job enum (an adapter must survive a new status).
    for (const s of ['error', 'failing', 'skipped', 'something-unknown']) cci.fake.offSpecStatuses.add(s);
    const s = slug();
    const head = { sha: sha(), branch: 'main' };
    await pipeline({ projectSlug: s, branch: 'main', revision: head.sha, workflows: [{ name: 'matrix', jobs: Object.keys(table).map((status) => ({ name: `job-${status}`, status })) }] });
    const state = await adapter(s).summary(head);
    assert.equal(state.checks.length, Object.keys(table).length);
    for (const [status, ours] of Object.entries(table)) {
      const check = state.checks.find((c) => c.name === `job-${status}`)!;
      assert.equal(check.status, ours, status);
      assert.equal(check.status, circleciStatus(status), status);
      assert.ok(OURS.includes(check.status));
      assert.equal(check.provider, 'circleci');
      assert.equal(check.workflow, 'matrix');
      assert.equal(check.attempt, undefined);
      assert.match(check.url!, /^https:\/\/app\.circleci\.com\/pipelines\/github\/acme\/repo-\d+\/1\/workflows\/[0-9a-f-]{36}\/jobs\/\d+$/);
    }
    assert.equal(state.overallStatus, 'failed');
    assert.equal(state.headSha, head.sha);
    assert.equal(state.checks.find((c) => c.name === 'job-queued')!.durationSeconds, null);
    assert.equal(typeof state.checks.find((c) => c.name === 'job-success')!.durationSeconds, 'number');
    assert.equal(state.failureSummaries.length, 5, 'at most five');
    assert.deepEqual(state.failureSummaries.filter((f) => f.message === NO_TESTS).map((f) => f.checkName).slice(0, 2), ['job-failed', 'job-error']);
  });

  it('the current pipeline is the newest on the branch with the SHA; another SHA or branch is ignored; none is queued', async () => {
    const s = slug();
    const [a, b] = [sha(), sha()];
    const green = [{ name: 'build', jobs: [{ name: 'compile', status: 'success' }] }];
    const red = [{ name: 'build', jobs: [{ name: 'compile', status: 'failed' }] }];
    await pipeline({ projectSlug: s, branch: 'feat', revision: a, workflows: red });
    await pipeline({ projectSlug: s, branch: 'feat', revision: a, workflows: green });
    await pipeline({ projectSlug: s, branch: 'feat', revision: b, workflows: red });
    await pipeline({ projectSlug: s, branch: 'other', revision: a, workflows: red });
    const ci = adapter(s);
    const state = await ci.summary({ sha: a.toUpperCase(), branch: 'feat' });
    assert.equal(state.overallStatus, 'passed');
    assert.match(state.checks[0]!.url!, /\/pipelines\/github\/acme\/repo-\d+\/2\//, 'pipeline 2: the newer of the two for this SHA');
    const none = await ci.summary({ sha: sha(), branch: 'feat' });
    assert.deepEqual({ ...none, updatedAt: 'x' }, { headSha: none.headSha, overallStatus: 'queued', checks: [], failureSummaries: [], updatedAt: 'x' });
  });

  it('pages through the pipelines (more than one page) to find the SHA', async () => {
    const s = slug();
    const target = sha();
    await pipeline({ projectSlug: s, branch: 'main', revision: target, workflows: [{ name: 'build', jobs: [{ name: 'compile', status: 'success' }] }] });
    for (let i = 0; i < 25; i++) await pipeline({ projectSlug: s, branch: 'main', revision: sha(), workflows: [] });
    const from = cci.fake.requests.length;
    const state = await adapter(s).summary({ sha: target, branch: 'main' });
    assert.equal(state.overallStatus, 'passed');
    const lists = apiCalls(from).filter((r) => r.path.endsWith('/pipeline'));
    assert.equal(lists.length, 2);
    assert.equal(lists[0]!.query.branch, 'main');
    assert.ok(lists[1]!.query['page-token']);
  });

  it('failure summaries from the failing tests (at most five, clipped), else a line saying there were none', async () => {
    const s = slug();
    const head = { sha: sha(), branch: 'main' };
    const long = 'x'.repeat(500);
    await pipeline({
      projectSlug: s, branch: 'main', revision: head.sha, workflows: [{ name: 'ci', jobs: [
        { name: 'unit', status: 'failed', tests: [
          { name: 'adds', classname: 'math', file: 'test/math.test.ts', message: 'expected 3, got 4', result: 'failure' },
          { name: 'subtracts', classname: 'math', file: 'test/math.test.ts', result: 'success' },
          { name: 'divides', classname: 'math', message: long, result: 'failure' },
        ] },
        { name: 'e2e', status: 'failed' },
      ] }],
    });
    const state = await adapter(s).summary(head);
    assert.deepEqual(state.failureSummaries.map((f) => [f.checkName, f.testName, f.file]), [['unit', 'adds', 'test/math.test.ts'], ['unit', 'divides', null], ['e2e', undefined, undefined]]);
    assert.equal(state.failureSummaries[0]!.message, 'expected 3, got 4');
    assert.equal(state.failureSummaries[1]!.message.length, 240);
    assert.ok(state.failureSummaries[1]!.message.endsWith('...'));
    assert.equal(state.failureSummaries[2]!.message, NO_TESTS);

    const many = { sha: sha(), branch: 'main' };
    const tests = Array.from({ length: 30 }, (_, i) => ({ name: `t${i}`, result: 'failure', message: `boom ${i}` }));
    await pipeline({ projectSlug: s, branch: 'main', revision: many.sha, workflows: [{ name: 'ci', jobs: [{ name: 'unit', status: 'failed', tests }, { name: 'e2e', status: 'failed' }] }] });
    cci.fake.pageSize = 4;
    try {
      const from = cci.fake.requests.length;
      const capped = await adapter(s).summary(many);
      assert.deepEqual(capped.failureSummaries.map((f) => f.testName), ['t0', 't1', 't2', 't3', 't4']);
      assert.equal(apiCalls(from).filter((r) => r.path.endsWith('/tests')).length, 2, 'tests paged only until five failures were in hand');
    } finally {
      cci.fake.pageSize = 20;
    }
  });

  it('rerun from failed: one new workflow; the next summary shows attempt 2 and the new outcome', async () => {
    const s = slug();
    const head = { sha: sha(), branch: 'main' };
    await pipeline({ projectSlug: s, branch: 'main', revision: head.sha, workflows: [
      { name: 'build', jobs: [{ name: 'lint', status: 'success' }, { name: 'test', status: 'failed' }] },
      { name: 'docs', jobs: [{ name: 'site', status: 'success' }] },
    ] });
    const ci = adapter(s);
    assert.equal((await ci.summary(head)).overallStatus, 'failed');
    cci.fake.rerunOutcome = null;
    try {
      assert.deepEqual(await ci.rerunFailed(head), { rerun: ['test'] });
      assert.equal(cci.fake.reruns.length, 1);
      assert.equal(cci.fake.reruns[0]!.fromFailed, true);
      const during = await ci.summary(head);
      assert.equal(during.overallStatus, 'queued');
      assert.deepEqual(during.checks.map((c) => [c.workflow, c.name, c.status, c.attempt]), [['build', 'lint', 'passed', 2], ['build', 'test', 'queued', 2], ['docs', 'site', 'passed', undefined]]);
      await cci.fake.setJob(s, 1, 'build', 'test', { status: 'success' });
      const fixed = await ci.summary(head);
      assert.equal(fixed.overallStatus, 'passed');
      assert.deepEqual(fixed.failureSummaries, []);
      assert.deepEqual(await ci.rerunFailed(head), { rerun: [] }, 'nothing red: nothing rerun');
      assert.equal(cci.fake.reruns.length, 1);
    } finally {
      cci.fake.rerunOutcome = 'success';
    }
  });

  it('a refused token and a missing project are verdicts; a 500 is a plain error to retry', async () => {
    const s = slug();
    await pipeline({ projectSlug: s, branch: 'main', revision: sha(), workflows: [] });
    const stranger = new CircleCI({ token: 'unknown-token', projectSlug: s, baseUrl: cci.apiUrl });
    await assert.rejects(stranger.summary({ sha: sha(), branch: 'main' }), (err) => err instanceof ProviderRefusal && err.code === 'source_credential_invalid' && err.details.upstreamStatus === 401);
    cci.fake.inject({ status: 401 });
    await assert.rejects(adapter(s).summary({ sha: sha(), branch: 'main' }), (err) => err instanceof ProviderRefusal && err.code === 'source_credential_invalid');
    await assert.rejects(adapter('gh/acme/missing').summary({ sha: sha(), branch: 'main' }), (err) => err instanceof ProviderRefusal && err.code === 'repository_not_found');
    cci.fake.inject({ status: 500 });
    await assert.rejects(adapter(s).summary({ sha: sha(), branch: 'main' }), (err) => err instanceof CircleCIUnavailable && !(err instanceof ProviderRefusal) && /500/.test((err as Error).message));
  });

  it('429: Retry-After is waited out inside the call, shared by every call with the token, within a bounded budget', async () => {
    const s = slug();
    const head = { sha: sha(), branch: 'main' };
    await pipeline({ projectSlug: s, branch: 'main', revision: head.sha, workflows: [{ name: 'build', jobs: [{ name: 'compile', status: 'success' }] }] });
    let from = cci.fake.requests.length;
    cci.fake.inject({ status: 429, retryAfter: 1 });
    const started = Date.now();
    assert.equal((await adapter(s).summary(head)).overallStatus, 'passed');
    assert.ok(Date.now() - started >= 950, `waited ${Date.now() - started} ms`);
    assert.deepEqual(apiCalls(from).map((r) => r.status), [429, 200, 200, 200], 'the refused request once more, then the rest');

    // A second call with the same token waits for the same reset without asking first.
    const token = `CCIPAT_${randomBytes(8).toString('hex')}`;
    from = cci.fake.requests.length;
    cci.fake.inject({ status: 429, retryAfter: 2 });
    const first = adapter(s, { token }).summary(head);
    await new Promise((r) => setTimeout(r, 300));
    const second = adapter(s, { token }).summary(head);
    await Promise.all([first, second]);
    const calls = apiCalls(from);
    assert.equal(calls[0]!.status, 429);
    assert.ok(calls.slice(1).every((r) => r.at - calls[0]!.at >= 1900), 'nothing was asked before the reset');
    assert.equal(calls.length, 1 + 3 + 3);

    cci.fake.inject({ status: 429, retryAfter: 30 });
    const t = Date.now();
    await assert.rejects(adapter(s, { maxRateLimitWaitMs: 1000 }).summary(head), (err) => err instanceof CircleCIUnavailable && !(err instanceof ProviderRefusal) && /rate limit/.test((err as Error).message));
    assert.ok(Date.now() - t < 1000, 'gave up at once rather than wait past its budget');
  });

  it('the fake itself catches a job status outside the reference that a test did not declare', async () => {
    const s = slug();
    const head = { sha: sha(), branch: 'main' };
    await pipeline({ projectSlug: s, branch: 'main', revision: head.sha, workflows: [{ name: 'build', jobs: [{ name: 'compile', status: 'exploded' }] }] });
    await assert.rejects(adapter(s).summary(head), CircleCIUnavailable);
    assert.ok(cci.fake.violations.some((v) => /status: not a job status of the reference/.test(v)), cci.fake.violations.join('\n'));
    cci.fake.violations.length = 0;
  });
});

describe('CircleCI webhooks', () => {
  const SECRET = 'circle-webhook-secret';
  const body = '{"type":"workflow-completed","id":"x"}';
  const hmac = (secret: string, raw: string) => createHmac('sha256', secret).update(raw).digest('hex');

  it('verifies the circleci-signature header: good, bad, missing, other secret, extra pairs, wrong length', () => {
    const good = hmac(SECRET, body);
    assert.equal(verifyCircleSignature(SECRET, body, `v1=${good}`), true);
    assert.equal(verifyCircleSignature(SECRET, Buffer.from(body), `v1=${good.toUpperCase()}`), true);
    assert.equal(verifyCircleSignature(SECRET, body, `t=1700000000, v1=${good},v2=abc`), true, 'extra pairs are ignored');
    assert.equal(verifyCircleSignature(SECRET, body, `v1=${hmac(SECRET, `${body} `)}`), false, 'another body');
    assert.equal(verifyCircleSignature(SECRET, body, `v1=${hmac('another-secret', body)}`), false, 'another secret');
    assert.equal(verifyCircleSignature(SECRET, body, undefined), false);
    assert.equal(verifyCircleSignature(SECRET, body, ''), false);
    assert.equal(verifyCircleSignature(SECRET, body, `v0=${good}`), false, 'only v1 counts');
    assert.equal(verifyCircleSignature(SECRET, body, `v1=${good.slice(0, 62)}`), false, 'wrong length');
    assert.equal(verifyCircleSignature(SECRET, body, `v1=${good}00`), false, 'wrong length');
    assert.equal(verifyCircleSignature(SECRET, body, `v1=${'z'.repeat(64)}`), false, 'not hex');
    assert.equal(verifyCircleSignature(SECRET, body, good), false, 'no k=v');
    assert.equal(verifyCircleSignature('', body, `v1=${hmac('', body)}`), false, 'no secret, no trust');
  });

  it('the fake signs and delivers job-completed and workflow-completed; we verify, parse, and a redelivery is byte for byte', async () => {
    const cci = await startFakeCircleCI();
    const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
    const receiver: Server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: raw });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    try {
      const projectSlug = 'gh/acme/hooks';
      cci.fake.subscribe({ url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks/circleci`, secret: SECRET, projectSlug });
      const revision = sha();
      await cci.fake.createPipeline({ projectSlug: 'gh/acme/elsewhere', branch: 'main', revision, workflows: [{ name: 'build', jobs: [{ name: 'x', status: 'success' }] }] });
      const created = await cci.fake.createPipeline({ projectSlug, branch: 'feat/hooks', revision, workflows: [{ name: 'build', jobs: [{ name: 'lint' }, { name: 'test' }] }] });
      assert.equal(received.length, 0, 'queued jobs and other projects send nothing');
      await cci.fake.setJob(projectSlug, created.number, 'build', 'test', { status: 'failed' });
      await cci.fake.setJob(projectSlug, created.number, 'build', 'lint', { status: 'success' });
      assert.deepEqual(received.map((d) => d.headers['circleci-event-type']), ['job-completed', 'job-completed', 'workflow-completed']);
      const events: CircleWebhookEvent[] = received.map((d) => {
        assert.equal(verifyCircleSignature(SECRET, d.body, String(d.headers['circleci-signature'])), true);
        assert.match(String(d.headers['user-agent']), /CircleCI/);
        return parseCircleWebhook(d.body);
      });
      const [job, , workflow] = events;
      assert.ok(job?.kind === 'job' && workflow?.kind === 'workflow');
      assert.deepEqual([job.projectSlug, job.revision, job.branch, job.workflow.name, job.workflow.status, job.job.name, job.job.status], [projectSlug, revision, 'feat/hooks', 'build', 'failing', 'test', 'failed']);
      assert.equal(typeof job.job.number, 'number');
      assert.deepEqual([workflow.pipeline, workflow.workflow.id, workflow.workflow.status], [{ id: created.id, number: created.number }, created.workflows[0]!.id, 'failed']);
      assert.match(workflow.workflow.url, /^https:\/\/app\.circleci\.com\/pipelines\/github\/acme\/hooks\//);
      assert.equal(new Set(events.map((e) => (e as { id: string }).id)).size, 3, 'each event its own id');

      const firstId = (events[0] as { id: string }).id;
      assert.equal(await cci.fake.redeliver(firstId), 202);
      assert.equal(received[3]!.body, received[0]!.body);
      assert.equal(received[3]!.headers['circleci-signature'], received[0]!.headers['circleci-signature']);
      assert.deepEqual(cci.fake.violations, []);
    } finally {
      await new Promise((r) => receiver.close(r));
      await cci.close();
    }
  });

  it('parses: another type is ignored; bad JSON and a bad shape throw typed errors', () => {
    assert.deepEqual(parseCircleWebhook('{"type":"ping","id":"1"}'), { kind: 'ignored', type: 'ping' });
    assert.throws(() => parseCircleWebhook('{not json'), (err) => err instanceof CircleWebhookError && err.code === 'invalid_json');
    assert.throws(() => parseCircleWebhook('[]'), (err) => err instanceof CircleWebhookError && err.code === 'invalid_payload');
    assert.throws(() => parseCircleWebhook('{"type":"job-completed","id":"1"}'), (err) => err instanceof CircleWebhookError && err.code === 'invalid_payload' && /happened_at|webhook|project/.test(err.message));
  });
});
