/**
 * The fake CircleCI's state, with CircleCI's semantics where Switchyard depends on them: pipelines per
 * project numbered upwards, workflows whose status follows their jobs, job numbers per project, a rerun
 * from failed as a new workflow of the same name in the same pipeline, and webhooks when jobs and
 * workflows end. Tests drive it directly; the standalone server through /_control.
 */
import { randomUUID } from 'node:crypto';
import { CircleHooks, type Subscription } from './hooks.js';
import { strictSchemas } from './schema.js';

export interface FakeTest { name: string; classname?: string; file?: string; message?: string; result: string; runTime?: number }
export interface Job {
  id: string; number: number; name: string; status: string; tests: FakeTest[];
  createdAt: string; queuedAt: string; startedAt: string | null; stoppedAt: string | null;
  /** Clock mode: the status the job ends in, and when it last moved (ms). */
  target?: string; movedAt?: number;
}
export interface Workflow { id: string; name: string; pipeline: Pipeline; createdAt: string; stoppedAt: string | null; startedBy: string; jobs: Job[]; completedAs: string | null }
export interface Pipeline { id: string; number: number; project: Project; branch: string; revision: string; createdAt: string; updatedAt: string; workflows: Workflow[] }
export interface Project { slug: string; id: string; name: string; org: { id: string; name: string }; pipelines: Pipeline[]; nextJob: number }
export interface CreatePipelineInput {
  projectSlug: string; branch: string; revision: string;
  workflows: Array<{ name: string; jobs: Array<{ name: string; status?: string; tests?: FakeTest[] }> }>;
}
export interface Injected { status: 401 | 429 | 500; retryAfter?: number }
export interface RequestRecord { method: string; path: string; query: Record<string, string>; token: string | null; at: number; status?: number }

export class FakeError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const RUNNING = new Set(['queued', 'running', 'not_running', 'failing']);
const PASSED = new Set(['success', 'skipped', 'retried']);
const NOT_FAILED = new Set([...RUNNING, ...PASSED, 'blocked', 'on_hold', 'canceled', 'not_run', 'unauthorized']);
const WORKFLOW_ENDS = new Set(['success', 'failed', 'error', 'canceled', 'unauthorized', 'not_run']);

/** Ended: not queued, running, blocked or waiting for approval. */
export const jobEnded = (status: string) => !RUNNING.has(status) && status !== 'blocked' && status !== 'on_hold';

/** A workflow's status from its jobs, as CircleCI shows it: red while others run is `failing`, a red job ends it `failed`. */
export function workflowStatus(jobs: Job[]): string {
  const st = jobs.map((j) => j.status);
  const failed = st.some((s) => !NOT_FAILED.has(s) || s === 'failing');
  if (st.some((s) => RUNNING.has(s))) return failed ? 'failing' : 'running';
  if (st.includes('blocked') && !failed) return 'running';
  if (st.includes('on_hold') && !failed) return 'on_hold';
  if (failed) return 'failed';
  if (st.includes('unauthorized')) return 'unauthorized';
  if (st.includes('canceled')) return 'canceled';
  if (st.length > 0 && st.every((s) => s === 'not_run')) return 'not_run';
  return 'success';
}

export class FakeCircleCI {
  readonly projects = new Map<string, Project>();
  readonly tokens = new Set<string>();
  readonly requests: RequestRecord[] = [];
  /** Every way a response or webhook broke a schema, and the fake's own exceptions: a test that caused one must fail. */
  readonly violations: string[] = [];
  readonly reruns: Array<{ workflowId: string; newWorkflowId: string; fromFailed: boolean; jobs: string[] }> = [];
  readonly injected: Injected[] = [];
  /** Job statuses a test serves on purpose beyond CircleCI's published enum (see schema.ts). */
  readonly offSpecStatuses = new Set<string>();
  /** What jobs rerun from failed become: a status for all, one per job name, or null to stay queued until setJob. */
  rerunOutcome: string | Record<string, string> | null = 'success';
  pageSize = 20;
  origin = 'http://127.0.0.1';
  readonly hooks: CircleHooks;
  private last = 0;
  private clock: { timer: NodeJS.Timeout; queuedMs: number; runMs: number } | null = null;

  /** The strict schemas, reading `offSpecStatuses` live. */
  readonly schemas = strictSchemas(this.offSpecStatuses);

  constructor() {
    this.hooks = new CircleHooks(this);
  }

  addToken(token: string): void {
    this.tokens.add(token);
  }

  /** A strictly increasing wall clock, so "newest" is never a tie. */
  now(): string {
    this.last = Math.max(Date.now(), this.last + 1);
    return new Date(this.last).toISOString();
  }

  project(slug: string): Project {
    let p = this.projects.get(slug);
    if (!p) {
      const [, org = 'org', name = 'repo'] = slug.split('/');
      p = { slug, id: randomUUID(), name, org: { id: randomUUID(), name: org }, pipelines: [], nextJob: 1 };
      this.projects.set(slug, p);
    }
    return p;
  }

  async createPipeline(input: CreatePipelineInput): Promise<{ id: string; number: number; workflows: Array<{ id: string; name: string }> }> {
    const project = this.project(input.projectSlug);
    const at = this.now();
    const pipeline: Pipeline = { id: randomUUID(), number: project.pipelines.length + 1, project, branch: input.branch, revision: input.revision, createdAt: at, updatedAt: at, workflows: [] };
    project.pipelines.push(pipeline);
    const settle: Array<[Workflow, Job, string]> = [];
    for (const w of input.workflows) {
      const workflow: Workflow = { id: randomUUID(), name: w.name, pipeline, createdAt: this.now(), stoppedAt: null, startedBy: randomUUID(), jobs: [], completedAs: null };
      pipeline.workflows.push(workflow);
      for (const j of w.jobs) {
        const job = this.newJob(project, j.name, j.tests ?? []);
        workflow.jobs.push(job);
        if (this.clock) {
          job.target = j.status ?? 'success';
          job.movedAt = Date.now();
        } else if (j.status && j.status !== 'queued') settle.push([workflow, job, j.status]);
      }
    }
    for (const [workflow, job, status] of settle) await this.applyStatus(workflow, job, status);
    return { id: pipeline.id, number: pipeline.number, workflows: pipeline.workflows.map((w) => ({ id: w.id, name: w.name })) };
  }

  /** Sets a job of the current (newest) workflow of that name. */
  async setJob(projectSlug: string, pipelineNumber: number, workflowName: string, jobName: string, change: { status: string; tests?: FakeTest[] }): Promise<void> {
    const pipeline = this.projects.get(projectSlug)?.pipelines.find((p) => p.number === pipelineNumber);
    const workflow = pipeline?.workflows.filter((w) => w.name === workflowName).at(-1);
    const job = workflow?.jobs.find((j) => j.name === jobName);
    if (!workflow || !job) throw new FakeError(404, `fake-circleci: no job ${jobName} in workflow ${workflowName} of ${projectSlug} pipeline ${pipelineNumber}`);
    if (change.tests) job.tests = change.tests;
    delete job.target;
    await this.applyStatus(workflow, job, change.status);
  }

  subscribe(sub: Omit<Subscription, 'id' | 'name'> & { name?: string }): { id: string } {
    return this.hooks.subscribe(sub);
  }

  redeliver(eventId: string): Promise<number | 'error'> {
    return this.hooks.redeliver(eventId);
  }

  /** The next `times` API requests answer `status` (429 with Retry-After: `retryAfter` seconds, default 1). */
  inject(opts: { status: 401 | 429 | 500; times?: number; retryAfter?: number }): void {
    for (let i = 0; i < (opts.times ?? 1); i++) this.injected.push({ status: opts.status, retryAfter: opts.retryAfter });
  }

  pipelineById(id: string): Pipeline | undefined {
    for (const p of this.projects.values()) for (const pl of p.pipelines) if (pl.id === id) return pl;
    return undefined;
  }

  workflowById(id: string): Workflow | undefined {
    for (const p of this.projects.values()) for (const pl of p.pipelines) for (const w of pl.workflows) if (w.id === id) return w;
    return undefined;
  }

  /** A job by its project number: the newest workflow holding it (a rerun copies passed jobs with their numbers). */
  jobByNumber(slug: string, number: number): { workflow: Workflow; job: Job } | undefined {
    const all = (this.projects.get(slug)?.pipelines ?? []).flatMap((pl) => pl.workflows.flatMap((workflow) => workflow.jobs.filter((j) => j.number === number).map((job) => ({ workflow, job }))));
    return all.at(-1);
  }

  /** `POST /workflow/{id}/rerun`: a new workflow of the same name; passed jobs copied as passed, the rest queued again. */
  async rerun(workflowId: string, body: { from_failed?: boolean; jobs?: string[] }): Promise<{ workflow_id: string }> {
    const old = this.workflowById(workflowId);
    if (!old) throw new FakeError(404, 'Workflow not found');
    const status = workflowStatus(old.jobs);
    if (!WORKFLOW_ENDS.has(status)) throw new FakeError(400, `Cannot rerun a workflow that is ${status}.`);
    if (body.from_failed && body.jobs) throw new FakeError(400, 'from_failed and jobs are mutually exclusive.');
    const again = (j: Job) => (body.from_failed ? !PASSED.has(j.status) : body.jobs ? body.jobs.includes(j.id) : true);
    if (!old.jobs.some(again)) throw new FakeError(400, 'There are no failed jobs to rerun.');
    const project = old.pipeline.project;
    const workflow: Workflow = { id: randomUUID(), name: old.name, pipeline: old.pipeline, createdAt: this.now(), stoppedAt: null, startedBy: randomUUID(), jobs: [], completedAs: null };
    old.pipeline.workflows.push(workflow);
    const rerun: Job[] = [];
    for (const j of old.jobs) {
      if (again(j)) {
        const job = this.newJob(project, j.name, j.tests);
        workflow.jobs.push(job);
        rerun.push(job);
      } else workflow.jobs.push({ ...j, id: randomUUID(), status: 'success' });
    }
    this.reruns.push({ workflowId, newWorkflowId: workflow.id, fromFailed: Boolean(body.from_failed), jobs: rerun.map((j) => j.name) });
    for (const job of rerun) {
      const outcome = typeof this.rerunOutcome === 'string' || this.rerunOutcome === null ? this.rerunOutcome : this.rerunOutcome[job.name] ?? 'success';
      if (outcome && outcome !== 'queued') {
        job.tests = outcome === 'success' ? job.tests.map((t) => ({ ...t, result: 'success', message: '' })) : job.tests;
        await this.applyStatus(workflow, job, outcome);
      }
    }
    return { workflow_id: workflow.id };
  }

  /** Clock mode (the standalone server): queued jobs start after `queuedMs` and end in their target status `runMs` later. */
  startClock(opts: { queuedMs?: number; runMs?: number; tickMs?: number } = {}): void {
    this.stopClock();
    const queuedMs = opts.queuedMs ?? 1000;
    const runMs = opts.runMs ?? 4000;
    const timer = setInterval(() => void this.tick().catch((err) => this.violations.push(`fake-circleci bug in the clock: ${(err as Error).stack}`)), opts.tickMs ?? 250);
    timer.unref();
    this.clock = { timer, queuedMs, runMs };
  }

  stopClock(): void {
    if (this.clock) clearInterval(this.clock.timer);
    this.clock = null;
  }

  private async tick(): Promise<void> {
    if (!this.clock) return;
    const now = Date.now();
    for (const p of this.projects.values()) for (const pl of p.pipelines) for (const w of pl.workflows) for (const j of w.jobs) {
      if (!j.target || j.movedAt === undefined) continue;
      if (j.status === 'queued' && now - j.movedAt >= this.clock.queuedMs) {
        j.movedAt = now;
        await this.applyStatus(w, j, j.target === 'queued' ? 'queued' : 'running');
        if (j.target === 'queued' || j.target === 'running') delete j.target;
      } else if (j.status === 'running' && now - j.movedAt >= this.clock.runMs) {
        const target = j.target;
        delete j.target;
        await this.applyStatus(w, j, target);
      }
    }
  }

  private newJob(project: Project, name: string, tests: FakeTest[]): Job {
    const at = this.now();
    return { id: randomUUID(), number: project.nextJob++, name, status: 'queued', tests: [...tests], createdAt: at, queuedAt: at, startedAt: null, stoppedAt: null };
  }

  /** A job moves; its workflow follows; the webhooks CircleCI would send go out (awaited, so tests see them). */
  private async applyStatus(workflow: Workflow, job: Job, status: string): Promise<void> {
    const before = job.status;
    job.status = status;
    if (status !== 'queued' && status !== 'blocked' && !job.startedAt) job.startedAt = this.now();
    job.stoppedAt = jobEnded(status) ? this.now() : null;
    workflow.pipeline.updatedAt = this.now();
    const wfStatus = workflowStatus(workflow.jobs);
    workflow.stoppedAt = WORKFLOW_ENDS.has(wfStatus) ? workflow.stoppedAt ?? this.now() : null;
    if (jobEnded(status) && status !== before) await this.hooks.emit('job-completed', workflow, job);
    if (WORKFLOW_ENDS.has(wfStatus) && workflow.completedAs !== wfStatus) {
      workflow.completedAs = wfStatus;
      await this.hooks.emit('workflow-completed', workflow);
    } else if (!WORKFLOW_ENDS.has(wfStatus)) workflow.completedAs = null;
  }
}
