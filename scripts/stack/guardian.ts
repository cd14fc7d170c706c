/**
 * `npm start`'s guardian: a small process in its own session that `npm start` feeds, over a pipe, the
 * processes it starts. If `npm start` dies without saying goodbye (kill -9, a crashed terminal), the
 * pipe closes and the guardian stops every one of them, so nothing of the stack is left running.
 *
 * Lines on stdin (JSON): {"watch": {name, pid, group?, signal?}} · {"forget": pid} · {"release": true}
 */
import { createInterface } from 'node:readline';
import { isAlive, stopProcesses, type StackProcess } from './processes.js';

type Watched = Omit<StackProcess, 'match'>;

const watched = new Map<number, Watched>();
let released = false;
const log = (line: string) => process.stderr.write(`${new Date().toISOString()} guardian ${process.pid}: ${line}\n`);

// Detached from the terminal, but be explicit: only a closed pipe ends the guardian's watch.
for (const s of ['SIGINT', 'SIGHUP', 'SIGTERM'] as const) process.on(s, () => {});

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
    await stopProcesses([...watched.values()], (w) => isAlive(w.pid));
    log('done');
    process.exit(0);
  });
