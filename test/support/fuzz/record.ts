/** What a fuzz run records: every answer judged (below 500, a 4xx coded with its status), the counts, the time spent, and the findings grouped for the verdict. */
import { appendFileSync } from 'node:fs';
import { ERROR_HTTP_STATUS } from '../../../domain/errors.js';
import type { Answer } from './send.js';
import type { Sent } from './build.js';
import type { Spec } from './requests.js';
import { LINEAR_STATE_ROUTE } from './routes.js';
import type { Lane } from './world.js';

export interface Timing { send: number; db: number; query: number; queries: number; settle: number }
interface Finding { kind: string; where: string; detail: string }

export interface RunRecord {
  seed: number;
  /** A file to write every request and its answer to, one line each. */
  trace: string | undefined;
  findings: Finding[];
  stats: { sent: number; byClass: Map<string, number>; byRoute: Map<string, { ok: number; refused: number }>; excused: number; upstream: number };
  /** The workflow states of the Linear team the Linear-born tasks come from: a move to one of them Linear takes. */
  linearStates: Set<string>;
  timing: Timing;
  find(kind: string, where: string, detail: string): void;
}

export function newRecord(seed: number, trace: string | undefined, linearStates: Iterable<string> = []): RunRecord {
  const findings: Finding[] = [];
  return {
    seed,
    trace,
    findings,
    linearStates: new Set(linearStates),
    stats: { sent: 0, byClass: new Map(), byRoute: new Map(), excused: 0, upstream: 0 },
    timing: { send: 0, db: 0, query: 0, queries: 0, settle: 0 },
    find: (kind: string, where: string, detail: string): void => {
      findings.push({ kind, where, detail });
    },
  };
}

export const cut = (s: string | undefined, n = 400) => (s === undefined ? '(none)' : s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

/** A request (and its answer) as a failure names it: the seed, the lane, its number, route, principal, body and answer. */
export const describe = (seed: number, lane: Lane, n: number, spec: Spec, req: Sent, ans?: Answer) =>
  `seed ${seed} · lane ${lane.name} · request #${n} · ${spec.route.key} · as ${spec.principal} (${req.auth})\n    ${req.method} ${cut(req.path, 300)}\n    headers ${cut(JSON.stringify({ ...req.headers, authorization: undefined }), 300)}\n    body ${cut(req.body, 400)}` +
  (ans ? `\n    → ${ans.status} ${cut(ans.text, 500)}` : '');

/**
 * Linear's own verdict, as AgentRail's Linear routes answer it (issue 14 §2: "other Linear failures → 502
 * upstream_error"): a move to a state id that is not one of the task's Linear team's states, which Linear
 * refuses. Held to the rules of a refusal (it changes nothing); any other 502 is a finding.
 */
export function upstreamRefusal(record: RunRecord, spec: Spec, req: Sent, ans: Answer): boolean {
  if (ans.status !== 502 || spec.route.key !== LINEAR_STATE_ROUTE) return false;
  if ((ans.body?.error?.code ?? ans.body?.code) !== 'upstream_error') return false;
  let stateId: unknown;
  try {
    stateId = JSON.parse(req.body ?? 'null')?.stateId;
  } catch {
    return false;
  }
  return typeof stateId === 'string' && !record.linearStates.has(stateId.trim());
}

/** Every answer: below 500 (but Linear's own refusal, above), and a 4xx names a code of the table with the status the table gives it. */
export function judge(record: RunRecord, lane: Lane, n: number, spec: Spec, req: Sent, ans: Answer): void {
  const { stats, find } = record;
  if (record.trace) appendFileSync(record.trace, `${new Date().toISOString()} ${lane.name} #${n} ${spec.principal} ${req.method} ${cut(req.path, 200)} ${cut(req.body, 200)} → ${ans.status} ${cut(ans.text, 200)}\n`);
  const cls = `${Math.floor(ans.status / 100)}xx`;
  stats.byClass.set(cls, (stats.byClass.get(cls) ?? 0) + 1);
  const r = stats.byRoute.get(spec.route.key) ?? { ok: 0, refused: 0 };
  if (ans.status < 300) r.ok++;
  else r.refused++;
  stats.byRoute.set(spec.route.key, r);
  if (ans.status >= 500) {
    if (upstreamRefusal(record, spec, req, ans)) return void stats.upstream++;
    return find(`${ans.status} answer`, spec.route.key, describe(record.seed, lane, n, spec, req, ans));
  }
  if (ans.status >= 400) {
    const code = ans.body?.code ?? ans.body?.error?.code;
    if (typeof code !== 'string' || !(code in ERROR_HTTP_STATUS)) return find('4xx without a stable code', spec.route.key, describe(record.seed, lane, n, spec, req, ans));
    if (ERROR_HTTP_STATUS[code as keyof typeof ERROR_HTTP_STATUS] !== ans.status) find(`code ${code} with status ${ans.status}`, spec.route.key, describe(record.seed, lane, n, spec, req, ans));
    return;
  }
  if (ans.status < 200 || ans.status >= 300) find(`${ans.status} answer`, spec.route.key, describe(record.seed, lane, n, spec, req, ans));
}

/** Every finding, grouped, with one reproduction each. */
export function groupFindings(findings: Finding[]): { groups: number; report: string } {
  const groups = new Map<string, { count: number; first: string }>();
  for (const f of findings) {
    const g = `${f.kind} · ${f.where}`;
    const got = groups.get(g);
    if (got) got.count++;
    else groups.set(g, { count: 1, first: f.detail });
  }
  const report = [...groups].map(([g, { count, first }]) => `\n[${count}×] ${g}\n  ${first}`).join('\n');
  return { groups: groups.size, report };
}
