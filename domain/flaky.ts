/**
 * Flaky CI, classified before an agent is woken (issue 14 §4). A failing check is a hint of flakiness:
 * `low` when it is a re-run attempt, `medium` when the same check passed earlier on the same head SHA,
 * `high` when it has flipped between pass and fail on unchanged code on several heads in this
 * repository lately. A failure classified at least the repository's `rerunAt` is re-run once through its
 * CI system before the agent hears of it — never more than once per head SHA.
 */
import type { CheckView, CiState, Delivery, FlakyHint } from './lifecycle.js';

/** Heads on which one check both passed and failed, lately, from which a failure is called `high`. */
export const FLIPPED_HEADS_FOR_HIGH = 2;
/** How far back "lately" goes. */
export const FLAKY_WINDOW_DAYS = 14;

export interface FlakyEvidence {
  /** The attempt the check's result is from (1: the first run). */
  attempt: number;
  /** The same check passed on this head before. */
  passedOnHead: boolean;
  /** Other heads on which it both passed and failed in the window. */
  flippedHeads: number;
}

const RANK = { low: 1, medium: 2, high: 3 } as const;

/** The strongest hint the evidence supports for a failed check, or none. */
export function flakyHint(check: Pick<CheckView, 'name'>, e: FlakyEvidence): FlakyHint | null {
  if (e.flippedHeads >= FLIPPED_HEADS_FOR_HIGH) {
    return { checkName: check.name, confidence: 'high', reason: `flipped between pass and fail on unchanged code on ${e.flippedHeads} heads in the last ${FLAKY_WINDOW_DAYS} days` };
  }
  if (e.passedOnHead) return { checkName: check.name, confidence: 'medium', reason: 'the same check passed earlier on this head SHA' };
  if (e.attempt > 1) return { checkName: check.name, confidence: 'low', reason: `attempt ${e.attempt}: the job has been re-run; compare attempts before changing code` };
  return null;
}

export interface FlakyPolicy {
  rerunOnce: boolean;
  rerunAt: 'high' | 'medium';
}

export interface AutoRerun {
  headSha: string;
  checks: string[];
  reason: string;
  at: string;
}

/**
 * Whether a failure on `ci` is re-run before the agent is woken: the policy allows it, the head has not
 * been re-run automatically before, and every failing check is hinted at least `rerunAt` (a real
 * failure beside a flaky one goes to the agent at once: re-running would only delay it).
 */
export function rerunFirst(ci: CiState, previous: AutoRerun | null | undefined, policy: FlakyPolicy | undefined): { checks: string[]; reason: string } | null {
  if (!policy?.rerunOnce || !ci.headSha || ci.overallStatus !== 'failed') return null;
  if (previous && previous.headSha === ci.headSha) return null;
  const failing = ci.checks.filter((c) => c.status === 'failed');
  if (failing.length === 0) return null;
  const hints = new Map((ci.flakyHints ?? []).map((h) => [h.checkName, h]));
  const strong = failing.map((c) => hints.get(c.name)).filter((h): h is FlakyHint => !!h && RANK[h.confidence] >= RANK[policy.rerunAt]);
  if (strong.length !== failing.length) return null;
  return { checks: failing.map((c) => c.name), reason: strong.map((h) => `${h.checkName}: ${h.reason} (${h.confidence})`).join('; ') };
}

/** What the agent's `ci_failed` wake says about an automatic re-run of this head, if there was one. */
export function rerunNote(d: Pick<Delivery, 'autoRerun'>, headSha: string | null): string {
  const r = d.autoRerun;
  return r && r.headSha === headSha ? ` (re-ran ${r.checks.join(', ')} once automatically because ${r.reason}; it failed again)` : '';
}
