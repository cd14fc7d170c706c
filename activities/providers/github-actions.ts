/** GitHub's checks (Actions check runs and commit statuses) behind the CI port: what CI says of a head SHA. */
import type { CheckView, CiState } from '../../domain/lifecycle.js';
import { failuresOf, overallOf } from '../../domain/delivery.js';
import { ciSummary, type CiCheck, type GitHub } from '../github/index.js';
import type { CIPort, CiHead } from './ports.js';

function checkStatus(c: CiCheck): CheckView['status'] {
  if (c.status !== 'completed') return c.status === 'queued' || c.status === 'pending' ? (c.source === 'status' ? 'running' : 'queued') : 'running';
  switch (c.conclusion) {
    case 'success':
    case 'neutral':
      return 'passed';
    case 'skipped':
      return 'skipped';
    case 'cancelled':
      return 'cancelled';
    default:
      return 'failed';
  }
}

export class GitHubActions implements CIPort {
  readonly provider = 'github_actions' as const;

  constructor(private readonly gh: GitHub, private readonly ref: { owner: string; repo: string }) {}

  async summary(head: CiHead): Promise<CiState> {
    const found = await ciSummary(this.gh, this.ref, head.sha);
    const checks: CheckView[] = found.checks.slice(0, 50).map((c) => ({
      name: c.name, workflow: c.source === 'check_run' ? 'github-actions' : null, status: checkStatus(c), url: c.url, durationSeconds: null, provider: 'github_actions' as const,
    }));
    return { headSha: found.headSha, overallStatus: overallOf(checks), checks, failureSummaries: failuresOf(checks), updatedAt: new Date().toISOString() };
  }

  /**
   * Each failed check run re-run as a job (an Actions job's id is its check run's). A commit status
   * cannot be re-run from here: its CI system re-runs it, so it is left out of the answer.
   */
  async rerunFailed(head: CiHead): Promise<{ rerun: string[] }> {
    const found = await ciSummary(this.gh, this.ref, head.sha);
    const failed = found.checks.filter((c) => c.source === 'check_run' && c.id !== undefined && checkStatus(c) === 'failed');
    for (const c of failed) await this.gh.request('POST /repos/{owner}/{repo}/actions/jobs/{job_id}/rerun', { ...this.ref, job_id: c.id! });
    return { rerun: failed.map((c) => c.name) };
  }
}
