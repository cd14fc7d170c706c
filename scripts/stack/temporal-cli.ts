/**
 * Finds the Temporal CLI (v1.5.1): $TEMPORAL_CLI, then `temporal` on PATH, then .tools/temporal,
 * else builds it with `go install` into .tools/ (Go's module proxy is reachable where GitHub is not).
 * Built once and cached; never fetched per test.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TOOLS = path.join(ROOT, '.tools');

function onPath(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() || undefined : undefined;
}

export function ensureTemporalCli(log: (line: string) => void = console.error): string {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TEMPORAL_CLI=${fromEnv} does not exist`);
    return fromEnv;
  }
  const local = path.join(TOOLS, 'temporal');
  if (existsSync(local)) return local;
  const system = onPath('temporal');
  if (system) return system;
  const go = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) {
    throw new Error(
      'No Temporal CLI found. Set TEMPORAL_CLI, put `temporal` on PATH, or install Go so it can be built ' +
        `(go install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}).`,
    );
  }
  mkdirSync(TOOLS, { recursive: true });
  log(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} into .tools/ with go install (once; a few minutes on a fresh machine)…`);
  execFileSync(go, ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
    env: { ...process.env, GOBIN: TOOLS, CGO_ENABLED: '0' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (!existsSync(local)) throw new Error('go install finished but .tools/temporal is missing');
  return local;
}
