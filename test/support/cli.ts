/** Runs the CLI (`cli/main.ts`) against a stack with a key; answers its exit code, stdout (parsed when JSON) and stderr. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

export function runCli(url: string, key: string, args: string[]): Promise<{ code: number; out: any; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, SWITCHYARD_URL: url, SWITCHYARD_API_KEY: key } }, (err, stdout, stderr) => {
      let out: unknown = stdout;
      try {
        out = JSON.parse(stdout);
      } catch {
        // not JSON
      }
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out, stderr });
    });
  });
}
