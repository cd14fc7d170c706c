/** The product's worker as a child process of a test (so the test can kill -9 it), optionally hooked (hooked-worker.ts). */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testEnv, type Stack } from './stack.js';

const HOOKED_WORKER = fileURLToPath(new URL('./hooked-worker.ts', import.meta.url));

export interface ChildWorker {
  child: ChildProcess;
  /** Resolves when the hooked update was handled (the worker then holds that workflow task forever). */
  hooked: Promise<void>;
  kill(): Promise<void>;
}

/** A worker process on the stack's task queue; with `hookUpdate` it freezes right after handling that update. */
export async function spawnWorker(stack: Stack, hookUpdate = ''): Promise<ChildWorker> {
  const env = testEnv();
  const child = spawn(process.execPath, ['--import', 'tsx', HOOKED_WORKER], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: env.temporal,
      DATABASE_URL: stack.databaseUrl,
      SWITCHYARD_TASK_QUEUE: stack.config.taskQueue,
      SWITCHYARD_SECRET_KEY: stack.config.secretKey ?? '',
      HOOK_UPDATE: hookUpdate,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8');
  const seen = (marker: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => out.includes(marker) && resolve();
      child.stdout!.on('data', (chunk: string) => ((out += chunk), check()));
      child.once('exit', (code) => reject(new Error(`worker exited (${code}) before "${marker}"`)));
      check();
    });
  const ready = seen('WORKER READY');
  const hooked = seen(`HOOK ${hookUpdate}`);
  hooked.catch(() => {});
  await ready;
  return {
    child,
    hooked,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
