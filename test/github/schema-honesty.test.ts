/** The fake's schema checks can fail: wrong bodies are caught, for REST responses and for webhooks. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sharedSchemas } from '../fakes/github/fake.js';
import { WebhookEmitter } from '../fakes/github/hooks.js';

describe("the fake is checked against GitHub's schemas", () => {
  const { rest, hooks } = sharedSchemas();

  it('a pull request with a wrong type, a missing required field or a bad enum is rejected', () => {
    const good = rest.build('pull-request', { number: 4, state: 'open', title: 'ok', head: { ref: 'a', sha: 'b' } });
    const op = ['GET', '/repos/{owner}/{repo}/pulls/{pull_number}', 200] as const;
    assert.deepEqual(rest.validateResponse(...op, good), []);
    assert.ok(rest.validateResponse(...op, { ...good, number: 'four' }).some((e) => e.instancePath === '/number'));
    const { merged: _m, ...missing } = good;
    assert.ok(rest.validateResponse(...op, missing).some((e) => /merged/.test(JSON.stringify(e))));
    assert.ok(rest.validateResponse(...op, { ...good, state: 'maybe' }).some((e) => e.instancePath === '/state'));
  });

  it('the error bodies are checked too: a merge 409 must be an object with a message', () => {
    const op = ['PUT', '/repos/{owner}/{repo}/pulls/{pull_number}/merge', 409] as const;
    assert.deepEqual(rest.validateResponse(...op, { message: 'Head branch was modified.', documentation_url: 'https://docs.github.com' }), []);
    assert.notDeepEqual(rest.validateResponse(...op, 'Head branch was modified.'), []);
  });

  it('a webhook payload that breaks the schema is refused before it is sent', async () => {
    const emitter = new WebhookEmitter(hooks);
    emitter.subscribe('http://127.0.0.1:9/unreachable', 'secret');
    await assert.rejects(emitter.emit('issues', 'opened', { issue: { number: 'one' } }), /does not match GitHub's schema/);
    assert.equal(emitter.deliveries.length, 0);
    assert.equal(emitter.violations.length, 1);
    assert.equal(emitter.violations[0]!.key, 'issues-opened');
  });
});
