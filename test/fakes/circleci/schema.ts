/**
 * The fake CircleCI's conscience: every body it sends is checked against two sets of schemas.
 * (a) PACKAGE: the zod schemas CircleCI ships in its own client, `@circleci/mcp-server-circleci@0.20.0`
 *     (dist/clients/schemas.js) — what CircleCI's code accepts.
 * (b) STRICT: hand-written here from CircleCI's API v2 reference (openapi, components.schemas
 *     PipelineListRecentPipelinesResponse, PipelineListWorkflowsResponse, WorkflowGetJobsResponse,
 *     JobGetDetailsResponse, TestsResponse, WorkflowRerunWorkflowResponse) and its outbound webhooks
 *     reference: required fields, enums, uuid and date-time formats. Objects stay open (the reference
 *     does not close them), so extra fields a client needs are allowed.
 */
import * as pkg from '@circleci/mcp-server-circleci/dist/clients/schemas.js';
import { z } from 'zod';

export type RouteKey = 'project' | 'pipelines' | 'pipeline' | 'workflows' | 'workflow' | 'jobs' | 'job' | 'tests' | 'rerun';

const uuid = z.uuid();
const dateTime = z.iso.datetime();
const int = z.number().int();

export const WORKFLOW_STATUSES = ['success', 'running', 'not_run', 'failed', 'error', 'failing', 'on_hold', 'canceled', 'unauthorized'] as const;
export const JOB_STATUSES = ['success', 'running', 'not_run', 'failed', 'retried', 'queued', 'not_running', 'infrastructure_fail', 'timedout', 'on_hold', 'terminated-unknown', 'blocked', 'canceled', 'unauthorized'] as const;

/**
 * STRICT schemas. `offSpec`: job statuses a test serves on purpose beyond the published enum (CircleCI
 * adds statuses; an adapter must survive one): they pass, and nothing else outside the enum does.
 */
export function strictSchemas(offSpec: ReadonlySet<string>) {
  const jobStatus = z.string().refine((s) => (JOB_STATUSES as readonly string[]).includes(s) || offSpec.has(s), { message: 'not a job status of the reference' });
  const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), next_page_token: z.string().nullable() });
  const pipeline = z.object({
    id: uuid,
    errors: z.array(z.object({ type: z.enum(['config', 'config-fetch', 'timeout', 'permission', 'other', 'plan']), message: z.string() })),
    project_slug: z.string().regex(/^[^/]+\/[^/]+\/[^/]+$/),
    updated_at: dateTime.optional(),
    number: int,
    trigger_parameters: z.record(z.string(), z.union([z.string(), int, z.boolean(), z.record(z.string(), z.unknown())])).optional(),
    state: z.enum(['created', 'errored', 'setup-pending', 'setup', 'pending']),
    created_at: dateTime,
    trigger: z.object({ type: z.enum(['scheduled_pipeline', 'explicit', 'api', 'webhook']), received_at: dateTime, actor: z.object({ login: z.string(), avatar_url: z.string().nullable() }) }),
    vcs: z.object({
      provider_name: z.string(),
      target_repository_url: z.string(),
      origin_repository_url: z.string(),
      revision: z.string(),
      branch: z.string().optional(),
      tag: z.string().optional(),
      review_id: z.string().optional(),
      review_url: z.string().optional(),
      commit: z.object({ subject: z.string().nullable(), body: z.string().nullable() }).optional(),
    }).optional(),
  });
  const workflow = z.object({
    pipeline_id: uuid,
    canceled_by: uuid.optional(),
    id: uuid,
    name: z.string(),
    project_slug: z.string(),
    errored_by: uuid.optional(),
    tag: z.enum(['setup']).nullable().optional(),
    status: z.enum(WORKFLOW_STATUSES),
    started_by: uuid,
    pipeline_number: int,
    created_at: dateTime,
    stopped_at: dateTime.nullable(),
  });
  const workflowJob = z.object({
    canceled_by: uuid.optional(),
    dependencies: z.array(uuid),
    job_number: int.optional(),
    id: uuid,
    // The reference marks started_at a required date-time; CircleCI sends null for a job not started yet.
    started_at: dateTime.nullable(),
    name: z.string(),
    approved_by: uuid.optional(),
    project_slug: z.string(),
    status: jobStatus,
    type: z.enum(['build', 'approval']),
    stopped_at: dateTime.nullable().optional(),
    approval_request_id: uuid.optional(),
  });
  const jobDetails = z.object({
    web_url: z.string(),
    project: z.object({ id: uuid, slug: z.string(), name: z.string(), external_url: z.string() }),
    parallel_runs: z.array(z.object({ index: int, status: z.string() })),
    started_at: dateTime.nullable(),
    latest_workflow: z.object({ id: uuid, name: z.string() }),
    name: z.string(),
    executor: z.object({ resource_class: z.string(), type: z.string().optional() }),
    parallelism: int,
    status: jobStatus,
    number: int,
    pipeline: z.object({ id: uuid }),
    duration: int.nullable(),
    created_at: dateTime,
    messages: z.array(z.object({ type: z.string(), message: z.string(), reason: z.string().optional() })),
    contexts: z.array(z.object({ name: z.string() })),
    organization: z.object({ name: z.string() }),
    queued_at: dateTime,
    stopped_at: dateTime.nullable().optional(),
  });
  const test = z.object({ message: z.string(), source: z.string(), run_time: z.number(), file: z.string(), result: z.string(), name: z.string(), classname: z.string() });
  // Get a project: slug, name, id, organization_{name,slug,id}, vcs_info{vcs_url, provider, default_branch}.
  const project = z.object({
    slug: z.string(), name: z.string(), id: uuid, organization_name: z.string(), organization_slug: z.string(), organization_id: uuid,
    vcs_info: z.object({ vcs_url: z.string(), provider: z.enum(['Bitbucket', 'CircleCI', 'GitHub']), default_branch: z.string() }),
  });
  const routes: Record<RouteKey, z.ZodType> = {
    project,
    pipelines: page(pipeline),
    pipeline,
    workflows: page(workflow),
    workflow,
    jobs: page(workflowJob),
    job: jobDetails,
    tests: page(test),
    rerun: z.object({ workflow_id: uuid }),
  };
  return { routes, error: z.object({ message: z.string() }), webhook: webhookSchema(jobStatus) };
}

/** Outbound webhooks reference: common keys, project/organization/pipeline/workflow, and job for job-completed. */
function webhookSchema(jobStatus: z.ZodType) {
  const person = z.object({ name: z.string(), email: z.string() });
  const common = {
    id: uuid,
    happened_at: dateTime,
    webhook: z.object({ id: uuid, name: z.string() }),
    project: z.object({ id: uuid, name: z.string(), slug: z.string() }),
    organization: z.object({ id: uuid, name: z.string() }),
    pipeline: z.object({
      id: uuid,
      number: int,
      created_at: dateTime,
      trigger: z.object({ type: z.string() }),
      trigger_parameters: z.record(z.string(), z.unknown()).optional(),
      vcs: z.object({
        target_repository_url: z.string(),
        origin_repository_url: z.string(),
        revision: z.string(),
        provider_name: z.string(),
        commit: z.object({ subject: z.string(), body: z.string(), author: person, authored_at: dateTime, committer: person, committed_at: dateTime }).optional(),
        branch: z.string().optional(),
        tag: z.string().optional(),
      }).optional(),
    }),
    workflow: z.object({ id: uuid, name: z.string(), status: z.enum(WORKFLOW_STATUSES), created_at: dateTime, stopped_at: dateTime.optional(), url: z.url() }),
  };
  return z.discriminatedUnion('type', [
    z.object({ type: z.literal('workflow-completed'), ...common }),
    z.object({
      type: z.literal('job-completed'),
      ...common,
      job: z.object({ id: uuid, number: int, name: z.string(), status: jobStatus, started_at: dateTime, stopped_at: dateTime.optional() }),
    }),
  ]);
}

/** PACKAGE checks: the schema CircleCI's client parses each answer with (lists: its page wrapper, item by item). */
const PACKAGE: Record<RouteKey, { list: boolean; schema: pkg.PackageSchema }> = {
  project: { list: false, schema: pkg.Project },
  pipelines: { list: true, schema: pkg.Pipeline },
  pipeline: { list: false, schema: pkg.Pipeline },
  workflows: { list: true, schema: pkg.Workflow },
  workflow: { list: false, schema: pkg.Workflow },
  jobs: { list: true, schema: pkg.Job },
  job: { list: false, schema: pkg.Job },
  tests: { list: true, schema: pkg.Test },
  rerun: { list: false, schema: pkg.RerunWorkflow },
};

const issues = (where: string, list: Array<{ path: PropertyKey[]; message: string }>) => list.slice(0, 5).map((i) => `${where}: ${i.path.map(String).join('.') || '(body)'}: ${i.message}`);

/** Every way `body` breaks either set of schemas for this route and status (empty: honest). */
export function responseViolations(schemas: ReturnType<typeof strictSchemas>, route: RouteKey, status: number, body: unknown): string[] {
  const out: string[] = [];
  if (status >= 400) {
    const r = schemas.error.safeParse(body);
    if (!r.success) out.push(...issues(`strict ${route} ${status}`, r.error.issues));
    return out;
  }
  const strict = schemas.routes[route].safeParse(body);
  if (!strict.success) out.push(...issues(`strict ${route}`, strict.error.issues));
  const p = PACKAGE[route];
  if (route === 'pipelines') {
    const r = pkg.PaginatedPipelineResponseSchema.safeParse(body);
    if (!r.success) out.push(...issues('package pipelines', r.error.issues));
  } else if (p.list) {
    const b = body as { items?: unknown; next_page_token?: unknown };
    if (!Array.isArray(b?.items)) out.push(`package ${route}: items is not an array`);
    if (b?.next_page_token !== null && typeof b?.next_page_token !== 'string') out.push(`package ${route}: next_page_token is neither string nor null`);
    for (const [i, item] of (Array.isArray(b?.items) ? b.items : []).entries()) {
      const r = p.schema.safeParse(item);
      if (!r.success) out.push(...issues(`package ${route} items.${i}`, r.error.issues));
    }
  } else {
    const r = p.schema.safeParse(body);
    if (!r.success) out.push(...issues(`package ${route}`, r.error.issues));
  }
  return out;
}
