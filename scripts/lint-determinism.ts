/**
 * `npm run lint`: keeps workflow and domain code deterministic (the rule the Temporal samples enforce
 * with an eslint override, here with no eslint to install). Workflow code may import only the
 * workflow SDK, `@temporalio/common` types and our own workflows/ and domain/ files; domain code only
 * itself; both may use the pure libraries listed below. Neither may reach for the clock, randomness,
 * timers, the process or Node built-ins: the workflow sandbox makes Date.now() replay-safe, but domain rules get time and ids from their caller.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Finding {
  file: string;
  line: number;
  problem: string;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/;

const FORBIDDEN_ALWAYS: Array<[RegExp, string]> = [
  [/\bMath\.random\s*\(/, 'Math.random() is not replay-safe: take ids from the caller (workflows: uuid4())'],
  [/\bsetTimeout\s*\(|\bsetInterval\s*\(|\bsetImmediate\s*\(/, 'timers belong to the workflow (sleep/condition), never to rules'],
  [/\bprocess\.(env|argv|exit|hrtime|nextTick)/, 'the process is outside the workflow: pass what is needed in the input'],
  [/\brequire\s*\(/, 'require() bypasses the import rules'],
];
const FORBIDDEN_IN_DOMAIN: Array<[RegExp, string]> = [
  [/\bDate\.now\s*\(/, 'domain rules take the time from their caller (ctx.now)'],
  [/\bnew Date\(\s*\)/, 'domain rules take the time from their caller (ctx.now)'],
  [/\bperformance\.now\s*\(/, 'domain rules take the time from their caller (ctx.now)'],
];

/**
 * Libraries that are pure functions of their input (no clock, randomness, I/O or global state), pinned
 * to an exact version: re2js matches routing patterns in linear time inside the workflow.
 */
const PURE_LIBRARIES = ['re2js'];

/** Which imports a file of this kind may have. */
function importAllowed(kind: 'workflow' | 'domain', fromFile: string, spec: string): boolean {
  if (spec.startsWith('.')) {
    const target = path.relative(ROOT, path.resolve(path.dirname(fromFile), spec));
    return kind === 'domain' ? target.startsWith('domain/') : target.startsWith('domain/') || target.startsWith('workflows/');
  }
  if (PURE_LIBRARIES.includes(spec)) return true;
  if (kind === 'domain') return false;
  return spec === '@temporalio/workflow' || spec === '@temporalio/common';
}

export function lintSource(relFile: string, source: string): Finding[] {
  const kind = relFile.startsWith('domain/') ? 'domain' : 'workflow';
  const findings: Finding[] = [];
  const abs = path.join(ROOT, relFile);
  source.split('\n').forEach((text, i) => {
    const code = text.replace(/\/\/.*$/, '');
    if (/^\s*(\*|\/\*)/.test(text)) return; // comments may name what they forbid
    const m = IMPORT.exec(code);
    const spec = m?.[1] ?? m?.[2] ?? m?.[3];
    const typeOnly = /^\s*(?:import|export)\s+type\s/.test(code);
    if (spec && !typeOnly && !importAllowed(kind, abs, spec)) {
      findings.push({ file: relFile, line: i + 1, problem: `${kind} code may not import "${spec}"` });
    }
    for (const [pattern, problem] of [...FORBIDDEN_ALWAYS, ...(kind === 'domain' ? FORBIDDEN_IN_DOMAIN : [])]) {
      if (pattern.test(code)) findings.push({ file: relFile, line: i + 1, problem });
    }
  });
  return findings;
}

export function lintTree(): Finding[] {
  const out: Finding[] = [];
  for (const dir of ['workflows', 'domain']) {
    for (const entry of readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const rel = path.relative(ROOT, path.join(entry.parentPath, entry.name));
      out.push(...lintSource(rel, readFileSync(path.join(ROOT, rel), 'utf8')));
    }
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const findings = lintTree();
  for (const f of findings) console.error(`${f.file}:${f.line}  ${f.problem}`);
  console.error(findings.length ? `${findings.length} problem(s)` : 'workflows/ and domain/ are deterministic');
  process.exit(findings.length ? 1 : 0);
}
