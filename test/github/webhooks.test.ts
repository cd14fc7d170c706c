/** Webhooks end to end: the fake signs and delivers what GitHub would; the layer verifies and types them. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { WebhookVerifier, type ProviderEvent } from '../../activities/github/webhooks.js';
import { ProviderError } from '../../activities/github/types.js';
import { submitPullRequest } from '../../activities/github/pulls.js';
import { WebhookEmitter } from '../fakes/github/hooks.js';
import type { RunningFake } from '../fakes/github/server.js';
import { assertHonest, client, fakeGitHub } from './support.js';

const SECRET = 'It\'s a Secret to Everybody';

describe('webhooks', () => {
  let gh: RunningFake;
  let receiver: Server;
  const received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
  const verifier = new WebhookVerifier(SECRET);

  before(async () => {
    gh = await fakeGitHub();
    receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    gh.fake.hooks.subscribe(`http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks/github`, SECRET);
  });
  after(async () => {
    await new Promise((r) => receiver.close(r));
    await gh.close();
  });

  const events = () => Promise.all(received.map((d) => verifier.parse(d.headers, d.body)));

  it('issues, pull_request, check_run, status and pull_request_review deliveries become typed events', async () => {
    received.length = 0;
    await gh.fake.createRepo('acme', 'hooks');
    await gh.fake.openIssue('acme', 'hooks', { title: 'Crash on login', labels: ['bug'] });
    const sha = await gh.fake.pushCommit('acme', 'hooks', 'fix', { 'login.ts': 'fixed' });
    const pr = await submitPullRequest(client(gh), { owner: 'acme', repo: 'hooks' }, { head: 'fix', base: 'main', title: 'Fix login' });
    const moved = await gh.fake.pushCommit('acme', 'hooks', 'fix', { 'login.ts': 'fixed again' });
    await gh.fake.setCheckRun('acme', 'hooks', { sha: moved, name: 'test', status: 'in_progress' });
    await gh.fake.setCheckRun('acme', 'hooks', { sha: moved, name: 'test', status: 'completed', conclusion: 'failure' });
    await gh.fake.setStatus('acme', 'hooks', { sha: moved, state: 'success', context: 'lint' });
    await gh.fake.submitReview('acme', 'hooks', pr.prNumber, { user: 'bob', state: 'APPROVED' });
    await gh.fake.addReviewComment('acme', 'hooks', pr.prNumber, { user: 'bob', path: 'login.ts', line: 1, body: 'nice' });
    assert.notEqual(sha, moved);

    for (const d of received) {
      assert.equal(d.headers['user-agent'], 'GitHub-Hookshot/fake');
      assert.ok(d.headers['x-github-delivery']);
      assert.equal(d.headers['x-hub-signature-256'], WebhookEmitter.sign(SECRET, d.body), 'HMAC-SHA256 over the raw body');
    }
    const typed = await events();
    const summary = typed.map((e: ProviderEvent) => ('action' in e ? `${e.kind}.${e.action}` : e.kind));
    assert.deepEqual(summary, ['issue.opened', 'push', 'pull_request.opened', 'push', 'pull_request.synchronize', 'check_run.created', 'check_run.completed', 'check_suite.completed', 'status', 'review.submitted', 'review_comment.created']);
    const byKind = <K extends ProviderEvent['kind']>(kind: K, i = 0) => typed.filter((e) => e.kind === kind)[i] as Extract<ProviderEvent, { kind: K }>;
    const issue = byKind('issue');
    assert.equal(issue.candidate.id, 'github:acme/hooks#1');
    assert.deepEqual(issue.candidate.source.labels, ['bug']);
    assert.deepEqual([byKind('push', 1).ref, byKind('push', 1).before, byKind('push', 1).after], ['refs/heads/fix', sha, moved]);
    const sync = byKind('pull_request', 1);
    assert.equal(sync.headSha, moved);
    const completed = byKind('check_run', 1);
    assert.deepEqual([completed.name, completed.status, completed.conclusion, completed.headSha], ['test', 'completed', 'failure', moved]);
    const suite = byKind('check_suite');
    assert.deepEqual([suite.headSha, suite.status, suite.conclusion], [moved, 'completed', 'failure']);
    const comment = byKind('review_comment');
    assert.deepEqual([comment.path, comment.line, comment.body], ['login.ts', 1, 'nice']);
    const review = byKind('review');
    assert.deepEqual([review.prNumber, review.author, review.state], [pr.prNumber, 'bob', 'APPROVED']);
    assertHonest(gh);
  });

  it('a bad or missing signature is rejected', async () => {
    const good = received[0]!;
    const tampered = good.body.replace('Crash on login', 'Crash on logout');
    await assert.rejects(verifier.parse(good.headers, tampered), (e: unknown) => e instanceof ProviderError && e.code === 'signature_invalid');
    await assert.rejects(new WebhookVerifier('another secret').parse(good.headers, good.body), (e: unknown) => e instanceof ProviderError && e.code === 'signature_invalid');
    const { ['x-hub-signature-256']: _dropped, ...unsigned } = good.headers;
    await assert.rejects(verifier.parse(unsigned, good.body), (e: unknown) => e instanceof ProviderError && e.code === 'signature_missing');
  });
});
