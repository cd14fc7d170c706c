/**
 * Types for the parts of CircleCI's own v2 client we drive (`@circleci/mcp-server-circleci` ships plain
 * JS). Its schemas are zod 3 instances from its own node_modules: only `safeParse` is used.
 */
declare module '@circleci/mcp-server-circleci/dist/clients/schemas.js' {
  export interface PackageSchema {
    safeParse(value: unknown): { success: true; data: unknown } | { success: false; error: { issues: Array<{ path: Array<string | number>; message: string }> } };
  }
  export const Pipeline: PackageSchema;
  export const PaginatedPipelineResponseSchema: PackageSchema;
  export const Workflow: PackageSchema;
  export const Job: PackageSchema;
  export const Test: PackageSchema;
  export const RerunWorkflow: PackageSchema;
  export const Project: PackageSchema;
}

declare module '@circleci/mcp-server-circleci/dist/clients/circleci/index.js' {
  interface Paging {
    options?: { maxPages?: number; timeoutMs?: number; findFirst?: boolean };
  }
  interface PipelineItem { id: string; project_slug: string; number: number }
  interface WorkflowItem { id: string; name: string; status: string | null; created_at: string; stopped_at?: string | null; pipeline_number: number; project_slug: string; pipeline_id: string }
  interface JobItem { id: string; job_number?: number }
  interface TestItem { message: string; run_time: string | number; file?: string; result: string; name: string; classname: string }

  export class CircleCIClients {
    constructor(opts: { token: string });
    pipelines: {
      getPipelines(p: { projectSlug: string; branch?: string } & Paging): Promise<PipelineItem[]>;
      getPipelineByNumber(p: { projectSlug: string; pipelineNumber: number }): Promise<PipelineItem>;
    };
    workflows: {
      getPipelineWorkflows(p: { pipelineId: string } & Paging): Promise<WorkflowItem[]>;
      getWorkflow(p: { workflowId: string }): Promise<WorkflowItem>;
      rerunWorkflow(p: { workflowId: string; fromFailed?: boolean }): Promise<{ workflow_id: string }>;
    };
    jobs: {
      getWorkflowJobs(p: { workflowId: string } & Paging): Promise<JobItem[]>;
      getJobByNumber(p: { projectSlug: string; jobNumber: number }): Promise<JobItem>;
    };
    tests: {
      getJobTests(p: { projectSlug: string; jobNumber: number } & Paging): Promise<TestItem[]>;
    };
  }
  export function getBaseURL(useAPISubdomain?: boolean): string;
}
