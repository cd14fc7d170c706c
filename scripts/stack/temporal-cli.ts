/**
 * Finds the Temporal CLI (v1.5.1), in this order: $TEMPORAL_CLI, `temporal` on PATH, .tools/temporal,
 * else builds it with `go install` into the git-ignored .tools/ (Go's module proxy is reachable where
 * GitHub's release downloads are not). Built once and cached; never fetched per test.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../runtime/local-stack.js';

export { ROOT };
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const TOOLS = path.join(ROOT, '.tools');
const PROGRESS_EVERY_MS = 20_000;

function onPath(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() || undefined : undefined;
}

export async function ensureTemporalCli(log: (line: string) => void = console.error): Promise<string> {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TEMPORAL_CLI=${fromEnv} does not exist`);
    return fromEnv;
  }
  const system = onPath('temporal');
  if (system) return system;
  const local = path.join(TOOLS, 'temporal');
  if (existsSync(local)) return local;
  const go = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) {
    throw new Error(
      'No Temporal CLI found. Set TEMPORAL_CLI to one, put `temporal` on PATH, or install Go (1.25 or later) so it can be built ' +
        `(go install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}).`,
    );
  }
  mkdirSync(TOOLS, { recursive: true });
  await goInstall(go, log);
  if (!existsSync(local)) throw new Error('go install finished but .tools/temporal is missing');
  return local;
}

/** The first start's long step: say what it is, that it happens once, and how long it has taken. */
async function goInstall(go: string, log: (line: string) => void): Promise<void> {
  log(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} (server and Web UI) with ${go} into .tools/.`);
  log('This happens once per clone and usually takes 3 to 15 minutes; later starts take seconds.');
  const started = Date.now();
  const elapsed = () => {
    const s = Math.round((Date.now() - started) / 1000);
    return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  };
  const ticker = setInterval(() => log(`…still building the Temporal CLI (${elapsed()} so far; it happens once)`), PROGRESS_EVERY_MS);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(go, ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
        env: { ...process.env, GOBIN: TOOLS, CGO_ENABLED: '0' },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.once('error', reject);
      child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`go install failed (${signal ?? `exit code ${code}`})`))));
    });
  } finally {
    clearInterval(ticker);
  }
  log(`Temporal CLI built in ${elapsed()}: .tools/temporal`);
}
