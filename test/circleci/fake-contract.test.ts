/**
 * The fake CircleCI driven by CircleCI's own v2 client (`@circleci/mcp-server-circleci@0.20.0`, which
 * parses every answer with its zod schemas): if the fake drifted from what CircleCI's code accepts,
 * these calls would throw. Its engines field is checked too: the client code runs on our Node 20.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, afterEach, before, describe, it } from 'node:test';
import { CircleCIClients, getBaseURL } from '@circleci/mcp-server-circleci/dist/clients/circleci/index.js';
import * as schemas from '@circleci/mcp-server-circleci/dist/clients/schemas.js';
import { startFakeCircleCI, type RunningFakeCircleCI } from '../fakes/circleci/server.js';

const SLUG = 'gh/acme/contract';
const sha = (n: number) => n.toString(16).padStart(40, 'c');

describe('the fake CircleCI through CircleCI\'s own client', () => {
  let cci: RunningFakeCircleCI;
  let client: CircleCIClients;
  const token = 'CCIPAT_contract_token';

  before(async () => {
    cci = await startFakeCircleCI();
    cci.fake.addToken(token);
    // The package reads the base URL when a client is created, and appends /api/v2 itself.
    process.env.CIRCLECI_BASE_URL = cci.url;
    client = new CircleCIClients({ token });
  });
  afterEach(() => assert.deepEqual(cci.fake.violations, [], 'responses or webhooks that break a schema'));
  after(async () => {
    delete process.env.CIRCLECI_BASE_URL;
    await cci.close();
  });

  it('runs on this Node: the pinned package, its engines field, and the base URL it read', () => {
    const require = createRequire(import.meta.url);
    const manifest = JSON.parse(readFileSync(require.resolve('@circleci/mcp-server-circleci/package.json'), 'utf8')) as { version: string; engines?: { node?: string } };
    assert.equal(manifest.version, '0.20.0');
    // 0.20.0 declares >=18; the calls below are what proves its client code works on our Node (20+).
    assert.equal(manifest.engines?.node, '>=18.0.0');
    assert.ok(Number(process.versions.node.split('.')[0]) >= 20, `running on Node ${process.version}`);
    assert.equal(getBaseURL(), cci.url);
  });

  it('pipelines by branch across pages, by number, workflows, jobs, a job by number, tests and a rerun', async () => {
    cci.fake.pageSize = 3;
    for (let i = 1; i <= 7; i++) {
      await cci.fake.createPipeline({ projectSlug: SLUG, branch: i % 2 ? 'feature/x' : 'main', revision: sha(i), workflows: [{ name: 'build', jobs: [{ name: 'compile', status: 'success' }] }] });
    }
    const created = await cci.fake.createPipeline({
      projectSlug: SLUG,
      branch: 'feature/x',
      revision: sha(8),
      workflows: [
        { name: 'build-and-test', jobs: [{ name: 'lint', status: 'success' }, { name: 'test', status: 'failed', tests: [{ name: 'adds', classname: 'math', file: 'test/math.test.ts', message: 'expected 3, got 4', result: 'failure' }, { name: 'subtracts', classname: 'math', file: 'test/math.test.ts', result: 'success' }] }] },
        { name: 'deploy', jobs: [{ name: 'hold', status: 'on_hold' }] },
      ],
    });

    const before = cci.fake.requests.length;
    const onBranch = await client.pipelines.getPipelines({ projectSlug: SLUG, branch: 'feature/x', options: { maxPages: 10 } });
    assert.deepEqual(onBranch.map((p) => p.number), [8, 7, 5, 3, 1], 'newest first, branch only');
    assert.equal(cci.fake.requests.length - before, 2, 'two pages of three');
    assert.ok(cci.fake.requests.slice(before).every((r) => r.token === token && r.path === `/api/v2/project/${SLUG}/pipeline`));
    assert.ok(cci.fake.requests.at(-1)!.query['page-token'], 'the second page was asked by page-token');
    for (const p of onBranch) assert.ok(schemas.Pipeline.safeParse(p).success);

    const byNumber = await client.pipelines.getPipelineByNumber({ projectSlug: SLUG, pipelineNumber: created.number });
    assert.equal(byNumber.id, created.id);

    const workflows = await client.workflows.getPipelineWorkflows({ pipelineId: created.id });
    assert.deepEqual(workflows.map((w) => [w.name, w.status]), [['build-and-test', 'failed'], ['deploy', 'on_hold']]);
    assert.ok(workflows.every((w) => schemas.Workflow.safeParse(w).success && w.pipeline_id === created.id && w.project_slug === SLUG));
    const build = workflows[0]!;
    assert.equal((await client.workflows.getWorkflow({ workflowId: build.id })).status, 'failed');

    const jobs = await client.jobs.getWorkflowJobs({ workflowId: build.id });
    assert.equal(jobs.length, 2);
    assert.ok(jobs.every((j) => schemas.Job.safeParse(j).success && typeof j.job_number === 'number'));
    const testJob = jobs[1]!;
    const detail = await client.jobs.getJobByNumber({ projectSlug: SLUG, jobNumber: testJob.job_number! });
    assert.equal(detail.id, testJob.id);

    const tests = await client.tests.getJobTests({ projectSlug: SLUG, jobNumber: testJob.job_number! });
    assert.deepEqual(tests.map((t) => [t.name, t.result, t.file]), [['adds', 'failure', 'test/math.test.ts'], ['subtracts', 'success', 'test/math.test.ts']]);
    assert.ok(tests.every((t) => schemas.Test.safeParse(t).success));

    const rerun = await client.workflows.rerunWorkflow({ workflowId: build.id, fromFailed: true });
    assert.ok(schemas.RerunWorkflow.safeParse(rerun).success);
    assert.deepEqual(cci.fake.reruns.map((r) => [r.workflowId, r.newWorkflowId, r.fromFailed, r.jobs]), [[build.id, rerun.workflow_id, true, ['test']]]);
    const after = await client.workflows.getPipelineWorkflows({ pipelineId: created.id });
    assert.deepEqual(after.map((w) => [w.name, w.status]), [['build-and-test', 'failed'], ['deploy', 'on_hold'], ['build-and-test', 'success']], 'the rerun is a new workflow of the same name');
    const rerunJobs = await client.jobs.getWorkflowJobs({ workflowId: rerun.workflow_id });
    assert.equal(rerunJobs.length, 2);
    assert.equal(rerunJobs[0]!.job_number, jobs[0]!.job_number, 'the passed job is copied, number and all');
    assert.notEqual(rerunJobs[1]!.job_number, testJob.job_number, 'the failed job ran again under a new number');
  });

  it('errors as CircleCI\'s client reports them: a bad token, a missing project, an unknown route', async () => {
    const stranger = new CircleCIClients({ token: 'not-a-token' });
    await assert.rejects(stranger.pipelines.getPipelines({ projectSlug: SLUG }), /CircleCI API Error: 401[\s\S]*Invalid token provided/);
    await assert.rejects(client.pipelines.getPipelineByNumber({ projectSlug: 'gh/acme/nowhere', pipelineNumber: 1 }), /CircleCI API Error: 404[\s\S]*Project not found/);
    const res = await fetch(`${cci.apiUrl}/insights/gh/acme/contract/summary`, { headers: { 'Circle-Token': token } });
    assert.equal(res.status, 501);
    assert.match(((await res.json()) as { message: string }).message, /route not implemented/);
  });
});
