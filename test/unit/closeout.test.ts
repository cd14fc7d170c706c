/** Close-out validation: a table of comments that carry a deliverable and comments that do not. */
import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { findDeliverables, reviewClosingComment } from '../../domain/closeout.js';

const ACCEPTED: Array<[string, string]> = [
  ['Report at doc:q3-report', 'doc'],
  ['Screenshot asset:shot_01.png attached', 'asset'],
  ['Deployed app:marketing-site', 'app'],
  ['See https://github.com/acme/api/commit/4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39', 'commit_url'],
  ['Pushed https://gitlab.com/acme/api/-/commit/4f2a9c1', 'commit_url'],
  ['Landed in 4f2a9c1', 'commit_sha'],
  ['Landed in 4F2A9C1E8B7D6A5F4E3D2C1B0A9F8E7D6C5B4A39.', 'commit_sha'],
  ['Inline result: the flag is already off in prod.', 'inline_result'],
  ['short answer: no', 'inline_result'],
  ['Status result: all 12 jobs green', 'inline_result'],
];

const REJECTED = [
  "I'm done",
  'Implemented JWT signing and token refresh. All tests passing.',
  'Fixed sliding window. Was using wall-clock instead of monotonic time.',
  'Ticket 1234567 closed', // digits only: a number, not a SHA
  'deadbeef is a word here', // letters only
  'the document: see above', // no id after doc:
  'Inline result:', // marker without an answer
  'metadoc:abc', // doc: glued to a word
  '',
];

describe('close-out deliverables', () => {
  for (const [comment, kind] of ACCEPTED) {
    it(`accepts ${JSON.stringify(comment)} as ${kind}`, () => {
      const kinds = findDeliverables(comment).map((s) => s.kind);
      assert.ok(kinds.includes(kind as never), `found ${kinds.join(',') || 'nothing'}`);
    });
  }
  for (const comment of REJECTED) {
    it(`rejects ${JSON.stringify(comment)}`, () => {
      assert.deepEqual(findDeliverables(comment), []);
    });
  }
  it('a commit URL is not counted again as a bare SHA', () => {
    const s = findDeliverables('https://github.com/a/b/commit/4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39');
    assert.deepEqual(s.map((x) => x.kind), ['commit_url']);
  });
  it('warns when the Result or Verified part is missing, and not when both are there', () => {
    assert.equal(reviewClosingComment('doc:x').warnings.length, 2);
    assert.deepEqual(reviewClosingComment('doc:x\nResult: faster.\nVerified: benchmark.').warnings, []);
  });
});

test('a hostile closing comment is reviewed in linear time (issue 13 §2: it runs in the workflow, twice per close)', () => {
  const hostile = 'http://'.repeat(9_362).slice(0, 64 * 1024);
  // The whole-comment scan this replaced, timed in the same run: a ratio, not a deadline, so a busy machine cannot fail it.
  const quadratic = /https?:\/\/[^\s)>\]]+\/commits?\/[0-9a-f]{7,40}\b/gi;
  const time = (fn: () => unknown) => {
    const started = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - started);
  };
  const before = time(() => [...hostile.matchAll(quadratic)]);
  const now = Math.min(...[1, 2, 3].map(() => time(() => reviewClosingComment(hostile))));
  assert.ok(now * 10 < before, `the review (${now} ns) costs well under a tenth of the quadratic scan (${before} ns)`);
  assert.deepEqual(reviewClosingComment(`${hostile} https://g.example/a/b/commit/0123abc`).signals.map((s) => s.kind), ['commit_url'], 'a real link after it is still found');
});
