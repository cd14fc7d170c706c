/** The transition table, pair by pair: every (from, to) is checked against the documented table. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canTransition, STATUSES, type Status } from '../../domain/statuses.js';

// The README's table, written out independently of domain/statuses.ts.
const ALLOWED: Record<Status, Status[]> = {
  backlog: ['todo', 'in_progress', 'blocked', 'cancelled'],
  todo: ['backlog', 'in_progress', 'blocked', 'cancelled'],
  in_progress: ['todo', 'in_review', 'blocked', 'paused', 'done', 'cancelled'],
  in_review: ['in_progress', 'todo', 'blocked', 'done', 'cancelled'],
  blocked: ['backlog', 'todo', 'in_progress', 'cancelled'],
  paused: ['todo', 'in_progress', 'blocked', 'cancelled'],
  done: ['todo'],
  cancelled: ['backlog', 'todo'],
};

describe('transition table', () => {
  for (const from of STATUSES) {
    for (const to of STATUSES) {
      const expected = ALLOWED[from].includes(to);
      it(`${from} → ${to}: ${expected ? 'allowed' : 'refused'}`, () => {
        assert.equal(canTransition(from, to), expected);
      });
    }
  }
  it('covers all 64 pairs and no status moves to itself', () => {
    assert.equal(STATUSES.length ** 2, 64);
    for (const s of STATUSES) assert.equal(canTransition(s, s), false);
  });
});
