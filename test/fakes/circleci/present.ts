/** The fake's state as CircleCI's API v2 and its webhooks spell it (shapes checked in schema.ts). */
import type { FakeTest, Job, Pipeline, Project, Workflow } from './fake.js';
import { workflowStatus } from './fake.js';

const repoUrl = (p: Project) => `https://github.com/${p.slug.split('/').slice(1).join('/')}`;
const appSlug = (slug: string) => slug.replace(/^gh\//, 'github/').replace(/^bb\//, 'bitbucket/');

export function workflowUrl(w: Workflow): string {
  return `https://app.circleci.com/pipelines/${appSlug(w.pipeline.project.slug)}/${w.pipeline.number}/workflows/${w.id}`;
}

/** `GET /project/{slug}` (CircleCI's "Get a project"). */
export function projectBody(p: Project) {
  return {
    slug: p.slug, name: p.name, id: p.id, organization_name: p.org.name, organization_slug: p.slug.split('/').slice(0, 2).join('/'), organization_id: p.org.id,
    vcs_info: { vcs_url: repoUrl(p), provider: 'GitHub', default_branch: 'main' },
  };
}

export function pipelineBody(p: Pipeline) {
  return {
    id: p.id,
    errors: [],
    project_slug: p.project.slug,
    updated_at: p.updatedAt,
    number: p.number,
    state: 'created',
    created_at: p.createdAt,
    trigger: { type: 'webhook', received_at: p.createdAt, actor: { login: p.project.org.name, avatar_url: null } },
    vcs: {
      provider_name: 'GitHub',
      target_repository_url: repoUrl(p.project),
      origin_repository_url: repoUrl(p.project),
      revision: p.revision,
      branch: p.branch,
      commit: { subject: `Commit ${p.revision.slice(0, 7)}`, body: '' },
    },
  };
}

export function workflowBody(w: Workflow) {
  return {
    pipeline_id: w.pipeline.id,
    id: w.id,
    name: w.name,
    project_slug: w.pipeline.project.slug,
    status: workflowStatus(w.jobs),
    started_by: w.startedBy,
    pipeline_number: w.pipeline.number,
    created_at: w.createdAt,
    stopped_at: w.stoppedAt,
  };
}

export function workflowJobBody(w: Workflow, j: Job) {
  return {
    dependencies: [],
    job_number: j.number,
    id: j.id,
    started_at: j.startedAt,
    name: j.name,
    project_slug: w.pipeline.project.slug,
    status: j.status,
    type: 'build',
    stopped_at: j.stoppedAt,
  };
}

export function jobDetailsBody(w: Workflow, j: Job) {
  const project = w.pipeline.project;
  const duration = j.startedAt && j.stoppedAt ? Date.parse(j.stoppedAt) - Date.parse(j.startedAt) : null;
  return {
    // Not in the reference's JobGetDetailsResponse, but CircleCI's own client requires it (schemas.js Job).
    id: j.id,
    web_url: `${workflowUrl(w)}/jobs/${j.number}`,
    project: { id: project.id, slug: project.slug, name: project.name, external_url: repoUrl(project) },
    parallel_runs: [{ index: 0, status: j.status }],
    started_at: j.startedAt,
    latest_workflow: { id: w.id, name: w.name },
    name: j.name,
    executor: { resource_class: 'medium', type: 'docker' },
    parallelism: 1,
    status: j.status,
    number: j.number,
    pipeline: { id: w.pipeline.id },
    duration,
    created_at: j.createdAt,
    messages: [],
    contexts: [],
    organization: { name: project.org.name },
    queued_at: j.queuedAt,
    stopped_at: j.stoppedAt,
  };
}

export function testBody(t: FakeTest) {
  return { message: t.message ?? '', source: 'junit', run_time: t.runTime ?? 0.01, file: t.file ?? '', result: t.result, name: t.name, classname: t.classname ?? '' };
}

/** A webhook payload as the outbound webhooks reference shows it (GitHub OAuth projects: `vcs` is present). */
export function webhookPayload(type: 'workflow-completed' | 'job-completed', id: string, happenedAt: string, hook: { id: string; name: string }, w: Workflow, job?: Job) {
  const p = w.pipeline;
  const who = { name: 'Fake Author', email: 'author@example.com' };
  const status = workflowStatus(w.jobs);
  return {
    type,
    id,
    happened_at: happenedAt,
    webhook: hook,
    project: { id: p.project.id, name: p.project.name, slug: p.project.slug },
    organization: { id: p.project.org.id, name: p.project.org.name },
    pipeline: {
      id: p.id,
      number: p.number,
      created_at: p.createdAt,
      trigger: { type: 'webhook' },
      vcs: {
        target_repository_url: repoUrl(p.project),
        origin_repository_url: repoUrl(p.project),
        revision: p.revision,
        provider_name: 'GitHub',
        commit: { subject: `Commit ${p.revision.slice(0, 7)}`, body: '', author: who, authored_at: p.createdAt, committer: who, committed_at: p.createdAt },
        branch: p.branch,
      },
    },
    workflow: { id: w.id, name: w.name, status, created_at: w.createdAt, ...(w.stoppedAt ? { stopped_at: w.stoppedAt } : {}), url: workflowUrl(w) },
    ...(job ? { job: { id: job.id, number: job.number, name: job.name, status: job.status, started_at: job.startedAt ?? job.createdAt, ...(job.stoppedAt ? { stopped_at: job.stoppedAt } : {}) } } : {}),
  };
}
