/** The product's API (api/main.ts) as a child process of a test, on the test's stack, so the test can kill -9 it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { testEnv, type Stack } from './stack.js';

const API_MAIN = fileURLToPath(new URL('../../api/main.ts', import.meta.url));

export interface ChildApi {
  child: ChildProcess;
  url: string;
  kill(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function spawnApi(stack: Stack, port?: number): Promise<ChildApi> {
  const env = testEnv();
  const listenOn = port ?? (await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', API_MAIN], {
    env: {
      ...process.env,
      PORT: String(listenOn),
      TEMPORAL_ADDRESS: env.temporal,
      DATABASE_URL: stack.databaseUrl,
      SWITCHYARD_TASK_QUEUE: stack.config.taskQueue,
      SWITCHYARD_ADMIN_KEY: stack.adminKey,
      SWITCHYARD_SECRET_KEY: stack.config.secretKey ?? '',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    const check = () => out.includes('api listening') && resolve();
    child.stdout!.on('data', (chunk: string) => ((out += chunk), check()));
    child.once('exit', (code) => reject(new Error(`api exited (${code}) before listening: ${out.slice(-500)}`)));
  });
  return {
    child,
    url: `http://127.0.0.1:${listenOn}`,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
