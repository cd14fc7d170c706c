/**
 * `npm start`'s guardian: a small process in its own session that `npm start` feeds, over a pipe, the
 * processes it starts. If `npm start` dies without saying goodbye (kill -9, a crashed terminal), the
 * pipe closes and the guardian stops every one of them, so nothing of the stack is left running.
 *
 * Lines on stdin (JSON): {"watch": {name, pid, group?, signal?}} · {"forget": pid} · {"release": true}
 */
import { createInterface } from 'node:readline';
import { isAlive } from './processes.js';

interface Watched {
  name: string;
  pid: number;
  /** The pid leads a process group: signal the whole group. */
  group?: boolean;
  signal?: NodeJS.Signals;
}

const watched = new Map<number, Watched>();
let released = false;
const log = (line: string) => process.stderr.write(`${new Date().toISOString()} guardian ${process.pid}: ${line}\n`);

// Detached from the terminal, but be explicit: only a closed pipe ends the guardian's watch.
for (const s of ['SIGINT', 'SIGHUP', 'SIGTERM'] as const) process.on(s, () => {});

const signal = (w: Watched, sig: NodeJS.Signals) => {
  try {
    process.kill(w.group ? -w.pid : w.pid, sig);
  } catch {
    // already gone
  }
};

createInterface({ input: process.stdin })
  .on('line', (line) => {
    try {
      const msg = JSON.parse(line) as { watch?: Watched; forget?: number; release?: boolean };
      if (msg.watch) watched.set(msg.watch.pid, msg.watch);
      if (msg.forget) watched.delete(msg.forget);
      if (msg.release) released = true;
    } catch {
      log(`ignored a line it could not read: ${line}`);
    }
  })
  .on('close', async () => {
    if (released || watched.size === 0) process.exit(0);
    log(`npm start is gone; stopping ${[...watched.values()].map((w) => `${w.name} (${w.pid})`).join(', ')}`);
    for (const w of watched.values()) signal(w, w.signal ?? 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while ([...watched.values()].some((w) => isAlive(w.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    for (const w of watched.values()) if (isAlive(w.pid)) signal(w, 'SIGKILL');
    log('done');
    process.exit(0);
  });
