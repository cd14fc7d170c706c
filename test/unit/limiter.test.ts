/** The per-issue limiter in front of Temporal: never more than `max` in flight; prechecks answer waiters together. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedLimiter } from '../../api/limiter.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('KeyedLimiter', () => {
  it('keeps at most max runs in flight per key and runs them all', async () => {
    const limiter = new KeyedLimiter(2);
    let active = 0;
    let peak = 0;
    const done = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        limiter.run('k', async () => {
          peak = Math.max(peak, ++active);
          await tick();
          active--;
          return i;
        }),
      ),
    );
    assert.equal(peak, 2);
    assert.deepEqual([...done].sort((a, b) => a - b), [...Array(20).keys()]);
  });

  it('other keys do not wait', async () => {
    const limiter = new KeyedLimiter(1);
    let release!: () => void;
    const blocked = limiter.run('a', () => new Promise<void>((r) => (release = r)));
    await tick(1);
    assert.equal(await limiter.run('b', async () => 'b'), 'b');
    release();
    await blocked;
  });

  it('once a run finishes, every waiter re-runs its precheck, and refusals never take a slot', async () => {
    const limiter = new KeyedLimiter(1);
    let decided = false;
    let calls = 0;
    const precheck = async () => {
      if (decided) throw new Error('conflict');
    };
    const first = limiter.run('k', async () => {
      calls++;
      await tick(10);
      decided = true;
      return 'won';
    }, { precheck });
    const losers = Array.from({ length: 10 }, () => limiter.run('k', async () => (calls++, 'won too'), { precheck }).catch((e: Error) => e.message));
    assert.equal(await first, 'won');
    assert.deepEqual(await Promise.all(losers), Array(10).fill('conflict'));
    assert.equal(calls, 1, 'no loser reached the guarded call');
    assert.equal(await limiter.run('k', async () => 'free again'), 'free again');
  });

  it('a waiter whose deadline passes is refused, and the queue goes on', async () => {
    const limiter = new KeyedLimiter(1);
    let release!: () => void;
    const holder = limiter.run('k', () => new Promise<void>((r) => (release = r)));
    const started = Date.now();
    const late = await limiter.run('k', async () => 'ran', { deadline: Date.now() + 50, onTimeout: () => new Error('deadline') }).catch((e: Error) => e.message);
    assert.equal(late, 'deadline');
    assert.ok(Date.now() - started < 1_000, 'refused at its deadline, not when the slot freed');
    release();
    await holder;
    assert.equal(await limiter.run('k', async () => 'next'), 'next');
  });
});
