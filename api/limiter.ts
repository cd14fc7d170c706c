/**
 * At most `max` concurrent runs per key. Temporal admits 10 in-flight updates per workflow and answers
 * RESOURCE_EXHAUSTED beyond; queueing per issue keeps this process well under that, so a 50-agent
 * race ends in one 200 and 49 clean 409s instead of 429s and retries.
 *
 * A caller may pass a `precheck` that can refuse from cheaper state: it runs before each attempt at a
 * slot, and every finished run wakes all waiters to re-check, so once a race is decided its losers
 * are answered together. A `deadline` bounds the wait: time in the queue counts against the request.
 */
export const MAX_IN_FLIGHT_PER_ISSUE = 2;

interface Slot {
  active: number;
  waiting: Set<() => void>;
}

export interface RunOptions {
  precheck?: () => Promise<void>;
  /** Epoch ms; waiting past it rejects with `onTimeout()`. */
  deadline?: number;
  onTimeout?: () => Error;
}

export class KeyedLimiter {
  constructor(private readonly max = MAX_IN_FLIGHT_PER_ISSUE) {}

  private readonly slots = new Map<string, Slot>();

  async run<T>(key: string, fn: () => Promise<T>, opts: RunOptions = {}): Promise<T> {
    let slot = this.slots.get(key);
    if (!slot) this.slots.set(key, (slot = { active: 0, waiting: new Set() }));
    try {
      for (;;) {
        if (opts.precheck) await opts.precheck();
        if (slot.active < this.max) break;
        await this.wait(slot, opts);
      }
    } catch (err) {
      this.release(key, slot, false);
      throw err;
    }
    slot.active++;
    try {
      return await fn();
    } finally {
      this.release(key, slot, true);
    }
  }

  private wait(slot: Slot, opts: RunOptions): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      slot.waiting.add(wake);
      if (opts.deadline !== undefined) {
        timer = setTimeout(() => {
          slot.waiting.delete(wake);
          reject(opts.onTimeout ? opts.onTimeout() : new Error('deadline passed while queued'));
        }, Math.max(0, opts.deadline - Date.now()));
      }
    });
  }

  private release(key: string, slot: Slot, held: boolean): void {
    if (held) {
      slot.active--;
      const waiters = [...slot.waiting];
      slot.waiting.clear();
      for (const wake of waiters) wake();
    }
    if (slot.active === 0 && slot.waiting.size === 0) this.slots.delete(key);
  }
}
