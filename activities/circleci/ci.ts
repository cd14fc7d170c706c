/**
 * CircleCI behind the CI port (issue 14 §3): what the project's pipelines say of a head SHA. The newest
 * pipeline on the branch whose revision is the SHA is current; in it, the newest workflow of each name
 * (a rerun adds a workflow of the same name) is current; its jobs are the checks.
 */
import { circleciStatus } from '../../domain/ci.js';
import { failuresOf, overallOf } from '../../domain/delivery.js';
import type { CheckView, CiState } from '../../domain/lifecycle.js';
import { cutText } from '../../domain/text.js';
import type { CiHead, CIPort } from '../providers/ports.js';
import { CircleCIClient, type CircleCIClientOptions, type CircleJob, type CirclePipeline, type CircleWorkflow } from './client.js';

const MAX_CHECKS = 50;
const MAX_SUMMARIES = 5;
const NO_TESTS = 'Job failed; CircleCI did not report structured test results.';

export interface CircleCIOptions extends Pick<CircleCIClientOptions, 'timeoutMs' | 'maxRateLimitWaitMs'> {
  token: string;
  /** `gh/org/repo`, `bb/org/repo`, or `circleci/<org id>/<project id>`. */
  projectSlug: string;
  baseUrl?: string;
  /** Where job links point (default https://app.circleci.com). */
  appUrl?: string;
}

interface CurrentWorkflow {
  workflow: CircleWorkflow;
  /** How many workflows of this name the pipeline has had (2+ after a rerun). */
  attempt: number;
  jobs: CircleJob[];
}

export class CircleCI implements CIPort {
  readonly provider = 'circleci' as const;
  private readonly client: CircleCIClient;
  private readonly slug: string;
  private readonly appUrl: string;

  constructor(opts: CircleCIOptions) {
    this.client = new CircleCIClient(opts);
    this.slug = opts.projectSlug;
    this.appUrl = (opts.appUrl ?? 'https://app.circleci.com').replace(/\/+$/, '');
  }

  async summary(head: CiHead): Promise<CiState> {
    const pipeline = await this.currentPipeline(head);
    if (!pipeline) return { headSha: head.sha, overallStatus: overallOf([]), checks: [], failureSummaries: [], updatedAt: new Date().toISOString() };
    const current = await this.currentWorkflows(pipeline);
    const all: Array<{ check: CheckView; job: CircleJob }> = current.flatMap((c) => c.jobs.map((job) => ({ check: this.checkOf(pipeline, c, job), job })));
    // Past 50, the ones that need attention are kept; the overall status still comes from every check.
    const kept = all.length > MAX_CHECKS ? [...all].sort((a, b) => rank(a.check) - rank(b.check)).slice(0, MAX_CHECKS) : all;
    const checks = kept.map((k) => k.check);
    // By time, not by text: CircleCI's timestamps do not all carry milliseconds.
    const updatedAt = Math.max(...[pipeline.updated_at ?? pipeline.created_at, ...current.map((c) => c.workflow.stopped_at ?? c.workflow.created_at)].map((t) => Date.parse(t)).filter(Number.isFinite));
    return {
      headSha: head.sha,
      overallStatus: overallOf(all.map((a) => a.check)),
      checks,
      failureSummaries: await this.failures(kept),
      updatedAt: new Date(Number.isFinite(updatedAt) ? updatedAt : Date.now()).toISOString(),
    };
  }

  async rerunFailed(head: CiHead): Promise<{ rerun: string[] }> {
    const pipeline = await this.currentPipeline(head);
    if (!pipeline) return { rerun: [] };
    const rerun: string[] = [];
    for (const c of await this.currentWorkflows(pipeline)) {
      const failedJobs = c.jobs.filter((j) => circleciStatus(j.status) === 'failed');
      const status = circleciStatus(c.workflow.status);
      // A workflow still running cannot be rerun; one that ended red (or ended with a red job) can.
      const ended = status !== 'running' && status !== 'queued';
      if (status !== 'failed' && !(ended && failedJobs.length > 0)) continue;
      await this.client.rerunFromFailed(c.workflow.id);
      rerun.push(...failedJobs.map((j) => j.name));
    }
    return { rerun };
  }

  /** The newest pipeline on the head's branch that ran the head's SHA (pages are newest first: stop at the first match). */
  private async currentPipeline(head: CiHead): Promise<CirclePipeline | null> {
    const sha = head.sha.toLowerCase();
    const matches = (p: CirclePipeline) => revisionOf(p)?.toLowerCase() === sha && (!head.branch || branchOf(p) === null || branchOf(p) === head.branch);
    const seen = await this.client.pipelines(this.slug, head.branch, (pipelines) => pipelines.some(matches));
    return seen.filter(matches).sort((a, b) => b.number - a.number || Date.parse(b.created_at) - Date.parse(a.created_at))[0] ?? null;
  }

  private async currentWorkflows(pipeline: CirclePipeline): Promise<CurrentWorkflow[]> {
    const workflows = await this.client.workflows(pipeline.id);
    const byName = new Map<string, CircleWorkflow[]>();
    // Oldest first; equal timestamps keep CircleCI's order.
    const ordered = workflows.map((w, i) => ({ w, i })).sort((a, b) => Date.parse(a.w.created_at) - Date.parse(b.w.created_at) || a.i - b.i).map((x) => x.w);
    for (const w of ordered) byName.set(w.name, [...(byName.get(w.name) ?? []), w]);
    return Promise.all([...byName.values()].map(async (runs) => {
      const workflow = runs.at(-1)!;
      return { workflow, attempt: runs.length, jobs: await this.client.jobs(workflow.id) };
    }));
  }

  private checkOf(pipeline: CirclePipeline, c: CurrentWorkflow, job: CircleJob): CheckView {
    const started = job.started_at ? Date.parse(job.started_at) : NaN;
    const stopped = job.stopped_at ? Date.parse(job.stopped_at) : NaN;
    const workflowUrl = `${this.appUrl}/pipelines/${appSlug(this.slug)}/${pipeline.number}/workflows/${c.workflow.id}`;
    return {
      name: job.name,
      workflow: c.workflow.name,
      status: circleciStatus(job.status),
      url: job.web_url ?? (job.job_number === undefined ? workflowUrl : `${workflowUrl}/jobs/${job.job_number}`),
      durationSeconds: Number.isFinite(started) && Number.isFinite(stopped) ? Math.max(0, Math.round((stopped - started) / 1000)) : null,
      provider: 'circleci',
      ...(c.attempt > 1 ? { attempt: c.attempt } : {}),
    };
  }

  /** Failed jobs' failing tests (at most 5 in all), else a line saying the job failed without them; cancelled jobs as failuresOf says them. */
  private async failures(kept: Array<{ check: CheckView; job: CircleJob }>): Promise<CiState['failureSummaries']> {
    const out: CiState['failureSummaries'] = [];
    const failing = (t: { result: string }) => !['success', 'skipped', 'passed'].includes(t.result.toLowerCase());
    for (const { check, job } of kept) {
      if (out.length >= MAX_SUMMARIES) break;
      if (check.status === 'cancelled') {
        out.push(...failuresOf([check]));
        continue;
      }
      if (check.status !== 'failed') continue;
      const tests = job.job_number === undefined ? [] : await this.client.tests(this.slug, job.job_number, (seen) => seen.filter(failing).length >= MAX_SUMMARIES);
      const failed = tests.filter(failing).slice(0, MAX_SUMMARIES - out.length);
      if (failed.length === 0) out.push({ checkName: check.name, message: NO_TESTS });
      for (const t of failed) {
        out.push({
          checkName: check.name,
          testName: clip(t.name, 180),
          file: t.file || null,
          line: null,
          message: clip(t.message?.trim() || `${t.name} failed`, 240),
        });
      }
    }
    return out;
  }
}

/** The pipeline's commit: `vcs.revision`, else what GitHub App / GitLab triggers record. */
export function revisionOf(p: CirclePipeline): string | null {
  return p.vcs?.revision ?? paramOf(p, 'github_app', 'commit_sha') ?? paramOf(p, 'git', 'checkout_sha') ?? null;
}

export function branchOf(p: CirclePipeline): string | null {
  return p.vcs?.branch ?? paramOf(p, 'github_app', 'branch') ?? paramOf(p, 'git', 'branch') ?? null;
}

function paramOf(p: CirclePipeline, group: string, key: string): string | undefined {
  const v = (p.trigger_parameters?.[group] as Record<string, unknown> | undefined)?.[key];
  return typeof v === 'string' && v ? v : undefined;
}

/** The web app spells the VCS out (`gh/o/r` → `github/o/r`). */
function appSlug(slug: string): string {
  const [vcs = '', ...rest] = slug.split('/');
  const full = vcs === 'gh' ? 'github' : vcs === 'bb' ? 'bitbucket' : vcs;
  return [full, ...rest].map(encodeURIComponent).join('/');
}

function rank(c: CheckView): number {
  return ['failed', 'cancelled', 'running', 'queued', 'passed', 'skipped'].indexOf(c.status);
}

/** AgentRail's truncation: cut strings end in `...`. */
const clip = (s: string, max: number) => cutText(s, max, '...');
