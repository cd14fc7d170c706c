/**
 * CI from more than one system on one head (issue 14 §3): each provider's statuses in ours, and the
 * providers' answers combined. AgentRail serves a task from exactly one CI system; a repository that
 * runs GitHub Actions and CircleCI must not ship while either is red, so both are read and combined.
 */
import { failuresOf, overallOf } from './delivery.js';
import type { CheckView, CiState } from './lifecycle.js';
import { cutText as cut, storable } from './text.js';

export type CiProvider = 'github_actions' | 'circleci';

/**
 * A CircleCI job or workflow status in ours (case-insensitive; README "CI status tables"). Anything not
 * listed — failed, error, infrastructure_fail, timedout, unauthorized, a status CircleCI adds later — is
 * a failure: an unknown state must never let a task ship.
 */
export function circleciStatus(value: string): CheckView['status'] {
  switch (value.toLowerCase()) {
    case 'success':
    case 'successful':
      return 'passed';
    case 'queued':
    case 'pending':
    case 'not_run':
    case 'blocked':
    case 'on_hold':
      return 'queued';
    case 'running':
    case 'failing':
      return 'running';
    case 'canceled':
    case 'cancelled':
      return 'cancelled';
    case 'skipped':
      return 'skipped';
    default:
      return 'failed';
  }
}

/**
 * What every CI system says of `headSha`, as one state: all their checks (at most 50 of each), the
 * overall status from all of them (any red is red), the failures first, and the latest update. An
 * answer about another head is left out (it says nothing of this one).
 */
export function combineCi(headSha: string, answers: CiState[]): CiState {
  const current = answers.filter((a) => a.headSha === headSha);
  const checks: CheckView[] = current.flatMap((a) => a.checks.slice(0, 50));
  const updatedAt = current.map((a) => a.updatedAt).sort().at(-1) ?? new Date(0).toISOString();
  // Each system's own summaries (CircleCI's name the failing tests), in the order the systems answered.
  const failureSummaries = current.flatMap((a) => a.failureSummaries);
  return { headSha, overallStatus: overallOf(checks), checks, failureSummaries: failureSummaries.length || !checks.some((c) => c.status === 'failed') ? failureSummaries : failuresOf(checks), updatedAt };
}

/** The longest check or workflow name kept (Postgres indexes check names; CI systems cap theirs well below). */
export const MAX_CHECK_NAME = 200;
const MAX_FILE = 300;
const MAX_MESSAGE = 1_000;

/**
 * CI text as the read model and the workflow can hold it: no NUL or lone surrogate (they become U+FFFD)
 * and names, files and messages bounded. Check names are cut the same way wherever they appear (checks,
 * failure summaries, flaky hints), so they still match one another.
 */
export function storableCi(ci: CiState): CiState {
  const clean = storable(ci);
  const name = (s: string) => cut(s, MAX_CHECK_NAME);
  return {
    ...clean,
    checks: clean.checks.map((c) => ({ ...c, name: name(c.name), workflow: c.workflow === null ? null : name(c.workflow) })),
    failureSummaries: clean.failureSummaries.map((f) => ({
      ...f,
      checkName: name(f.checkName),
      message: cut(f.message, MAX_MESSAGE),
      ...(f.testName === undefined ? {} : { testName: cut(f.testName, MAX_CHECK_NAME) }),
      ...(f.file === undefined || f.file === null ? {} : { file: cut(f.file, MAX_FILE) }),
    })),
    ...(clean.flakyHints ? { flakyHints: clean.flakyHints.map((h) => ({ ...h, checkName: name(h.checkName) })) } : {}),
  };
}
