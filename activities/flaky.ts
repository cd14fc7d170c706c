/**
 * The evidence for flaky hints, from what CI said before (ci_check_results): every finished check's
 * outcome on every head is recorded once, and a failing check is judged by its attempt, by whether it
 * passed on this head before, and by how often it flipped on unchanged code in this repository lately.
 */
import type { Pool } from '../db/pool.js';
import { FLAKY_WINDOW_DAYS, flakyHint } from '../domain/flaky.js';
import type { CiState, FlakyHint } from '../domain/lifecycle.js';
import { storableCi } from '../domain/ci.js';

type Outcome = 'passed' | 'failed';

/**
 * Records what `ci` says and answers the hints for its failing checks. The text CI systems send (job,
 * workflow and test names come from the repository's own CI config, which a PR may change) is made
 * storable and bounded first: a NUL or an over-long check name would otherwise be refused by Postgres
 * on every observation, and the task's CI could never be read again.
 */
export async function withFlakyHints(pool: Pool, repositorySourceId: string, given: CiState): Promise<CiState> {
  const ci = storableCi(given);
  if (!ci.headSha) return ci;
  const finished = ci.checks.filter((c): c is typeof c & { status: Outcome } => c.status === 'passed' || c.status === 'failed');
  const failing = finished.filter((c) => c.status === 'failed');
  // Evidence first (before this observation is recorded, so "passed earlier" means earlier).
  const evidence = failing.length
    ? await pool.query<{ check_name: string; passed_here: boolean; flipped: number }>(
        `SELECT n.check_name,
                EXISTS (SELECT 1 FROM ci_check_results r WHERE r.source_id = $1 AND r.check_name = n.check_name AND r.head_sha = $2 AND r.outcome = 'passed') AS passed_here,
                (SELECT count(*)::int FROM (
                   SELECT head_sha FROM ci_check_results r
                    WHERE r.source_id = $1 AND r.check_name = n.check_name AND r.head_sha <> $2 AND r.observed_at > now() - make_interval(days => $4)
                    GROUP BY head_sha HAVING count(DISTINCT outcome) = 2) f) AS flipped
           FROM unnest($3::text[]) AS n(check_name)`,
        [repositorySourceId, ci.headSha, failing.map((c) => c.name), FLAKY_WINDOW_DAYS],
      )
    : { rows: [] };
  if (finished.length) {
    await pool.query(
      `INSERT INTO ci_check_results (source_id, provider, check_name, head_sha, outcome)
       SELECT $1, p, n, $2, o FROM unnest($3::text[], $4::text[], $5::text[]) AS t(p, n, o) ON CONFLICT DO NOTHING`,
      [repositorySourceId, ci.headSha, finished.map((c) => c.provider ?? 'github_actions'), finished.map((c) => c.name), finished.map((c) => c.status)],
    );
  }
  const byName = new Map(evidence.rows.map((r) => [r.check_name, r]));
  const hints: FlakyHint[] = [];
  for (const c of failing) {
    const e = byName.get(c.name);
    const hint = flakyHint(c, { attempt: c.attempt ?? 1, passedOnHead: e?.passed_here ?? false, flippedHeads: e?.flipped ?? 0 });
    if (hint && !hints.some((h) => h.checkName === hint.checkName)) hints.push(hint);
  }
  return hints.length ? { ...ci, flakyHints: hints } : ci;
}
