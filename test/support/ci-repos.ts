/**
 * GitHub-born tasks on repositories that name their CI systems (`ci`) and flaky policy (`flaky`), for
 * the issue 14 tests in test/circleci: `ciRepos(env)` over a `stackWithAllFakes()` env wires a company
 * to such a repository, takes a task to review on it, and reads what the task shows (ci-status, wakes,
 * re-runs asked of either provider, activity attempts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { waitForMine } from './delivery.js';
import type { AllFakes } from './linear-delivery.js';
import { seedCompany, type SeededAgent } from './seed.js';
import { waitFor } from './wait.js';
import { workflowIdFor } from '../../workflows/messages.js';

export type Provider = 'github_actions' | 'circleci';

export interface Repo {
  agent: SeededAgent;
  owner: string;
  repo: string;
  sourceId: string;
  projectSlug: string;
  circleWebhook: string;
  hookUrl: string;
}

/** The helpers, over `env` (read when called, so a `stackWithAllFakes()` env not started yet will do). */
export function ciRepos(env: AllFakes) {
  /** A company whose repository is judged by `ci` (unset: GitHub's checks alone, as before issue 14), its issues routed to one agent. */
  async function wire(opts: { ci?: Provider[]; flaky?: { rerunOnce?: boolean; rerunAt?: 'high' | 'medium' }; circleHooks?: boolean } = {}): Promise<Repo> {
    const { stack } = env;
    const { companyId, agents } = await seedCompany(stack, 1);
    const suffix = randomBytes(3).toString('hex');
    const owner = `org${suffix}`;
    const repo = 'widgets';
    const projectSlug = `gh/${owner}/${repo}`;
    await env.github.fake.createRepo(owner, repo, { 'README.md': '# widgets\n', 'src/app.txt': 'v1\n' });
    const githubToken = `ghp_${randomBytes(16).toString('hex')}`;
    const githubWebhook = `whsec_${randomBytes(16).toString('hex')}`;
    const circleToken = `CCIPAT_${randomBytes(16).toString('hex')}`;
    const circleWebhook = `cci_wh_${randomBytes(16).toString('hex')}`;
    env.circleci.fake.addToken(circleToken);
    env.circleci.fake.project(projectSlug);
    const routing = await stack.admin.request('PUT', `/api/companies/${companyId}/routing`, { rules: [{ id: 'all', name: 'Everything to the agent', match: {}, target: { agentId: agents[0]!.id } }] });
    assert.equal(routing.status, 200, JSON.stringify(routing.body));
    const circle = opts.ci?.includes('circleci');
    const source = await stack.admin.post(`/api/companies/${companyId}/sources`, {
      provider: 'github', owner, repo, baseUrl: env.github.url, credential: { token: githubToken }, webhookSecret: githubWebhook, pollIntervalSeconds: null, reviewPolicy: 'never_require',
      ...(opts.ci ? { ci: { providers: opts.ci, ...(circle ? { circleci: { projectSlug, token: circleToken, webhookSecret: circleWebhook, baseUrl: env.circleci.apiUrl } } : {}) } } : {}),
      ...(opts.flaky ? { flaky: opts.flaky } : {}),
    });
    assert.equal(source.status, 201, JSON.stringify(source.body));
    const sourceId = source.body.id as string;
    env.github.fake.hooks.subscribe(`${stack.url}/api/providers/github/webhooks/${sourceId}`, githubWebhook);
    const hookUrl = `${stack.url}/api/providers/circleci/webhooks/${sourceId}`;
    if (circle && opts.circleHooks !== false) env.circleci.fake.subscribe({ url: hookUrl, secret: circleWebhook, projectSlug });
    return { agent: agents[0]!, owner, repo, sourceId, projectSlug, circleWebhook, hookUrl };
  }

  /** An issue taken in, started, a commit pushed to `branch` and submitted: the task in review on that head. */
  async function inReview(r: Repo, branch = 'fix'): Promise<{ id: string; sha: string; prNumber: number; submittedAt: number }> {
    await env.github.fake.openIssue(r.owner, r.repo, { title: `Broken on ${branch}`, body: 'It fails.', labels: ['bug'] });
    const { id } = await waitForMine(r.agent);
    const started = await r.agent.http.post(`/api/tasks/${id}/start`, {}, { 'idempotency-key': `start-${id}` });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const sha = await env.github.fake.pushCommit(r.owner, r.repo, branch, { 'src/app.txt': `v2 ${randomBytes(4).toString('hex')}\n` });
    const submittedAt = Date.now();
    const submitted = await r.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'Fix it', pullRequest: { head: branch } }, { 'idempotency-key': `submit-${id}` });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    assert.equal(submitted.body.data.headSha, sha);
    return { id, sha, prNumber: submitted.body.data.prNumber, submittedAt };
  }

  const ciStatus = async (r: Repo, id: string) => {
    const res = await r.agent.http.get(`/api/tasks/${id}/ci-status`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.data;
  };
  // Generous: a running pipeline is seen by a poll (CircleCI sends no webhook until something completes), and CI shares two cores.
  const waitForCi = (r: Repo, id: string, what: string, ok: (ci: any) => boolean, timeoutMs = 60_000) => waitFor(what, () => ciStatus(r, id), ok, timeoutMs);
  const wakes = async (r: Repo, id: string, reason?: string): Promise<any[]> =>
    ((await r.agent.http.get('/api/agents/me/wakeups?limit=100')).body.data as any[]).filter((w) => w.taskId === id && (!reason || w.reason === reason));
  const waitForWake = (r: Repo, id: string, reason: string) => waitFor(`a ${reason} wake`, () => wakes(r, id, reason), (w) => w.length > 0, 60_000);

  /**
   * What the watcher records (activities/flaky.ts) when it sees a check pass and fail on unchanged code:
   * `check` passed and failed on two earlier heads of this repository two days ago. Written directly
   * instead of driving two more tasks to that point; the flaky policy test (test/circleci/flaky.test.ts)
   * records its history for real.
   */
  async function flippedOnTwoHeads(r: Repo, check: string, provider: Provider): Promise<void> {
    for (let i = 0; i < 2; i++) {
      const head = randomBytes(20).toString('hex');
      for (const outcome of ['passed', 'failed']) {
        await env.stack.pool.query(
          `INSERT INTO ci_check_results (source_id, provider, check_name, head_sha, outcome, observed_at) VALUES ($1, $2, $3, $4, $5, now() - interval '2 days')`,
          [r.sourceId, provider, check, head, outcome],
        );
      }
    }
  }

  /** Holds every call of `obj[key]` until released (a provider taking its time over a re-run), counting them. */
  function hold<T extends object>(obj: T, key: keyof T & string) {
    const original = (obj as any)[key] as (...args: unknown[]) => Promise<unknown>;
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const calls: unknown[][] = [];
    (obj as any)[key] = async (...args: unknown[]) => {
      calls.push(args);
      await opened;
      return original.apply(obj, args);
    };
    return {
      calls,
      release() {
        open();
        (obj as any)[key] = original;
      },
    };
  }

  /** CircleCI re-runs of this project's workflows. */
  const circleReruns = (r: Repo) => env.circleci.fake.reruns.filter((x) => env.circleci.fake.workflowById(x.workflowId)?.pipeline.project.slug === r.projectSlug);
  const githubReruns = (r: Repo) => env.github.fake.reruns.filter((x) => x.owner === r.owner && x.repo === r.repo);

  /** Each activity of the task's history by name, with the attempt it finished on. */
  async function activityAttempts(taskId: string, name: string): Promise<number[]> {
    const events = (await env.stack.client.workflow.getHandle(workflowIdFor(taskId)).fetchHistory()).events ?? [];
    const scheduled = new Map<string, string>();
    const attempts: number[] = [];
    for (const e of events) {
      if (e.activityTaskScheduledEventAttributes) scheduled.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '');
      const started = e.activityTaskStartedEventAttributes;
      if (started && scheduled.get(String(started.scheduledEventId)) === name) attempts.push(started.attempt ?? 1);
    }
    return attempts;
  }

  /** As inReview, on a head pushed already (its pipeline created before the submit). */
  async function inReviewOn(r: Repo, branch: string, sha: string): Promise<{ id: string; submittedAt: number }> {
    await env.github.fake.openIssue(r.owner, r.repo, { title: `Broken on ${branch}`, body: 'It fails.', labels: ['bug'] });
    const { id } = await waitForMine(r.agent);
    const started = await r.agent.http.post(`/api/tasks/${id}/start`, {}, { 'idempotency-key': `start-${id}` });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const submittedAt = Date.now();
    const submitted = await r.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'Fix it', pullRequest: { head: branch } }, { 'idempotency-key': `submit-${id}` });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    assert.equal(submitted.body.data.headSha, sha);
    return { id, submittedAt };
  }

  /** The pre-wake view while the provider holds the re-run: hinted, re-run asked for, nobody woken yet. */
  async function assertRerunPending(r: Repo, id: string, sha: string, check: string) {
    const ci = await waitForCi(r, id, 'the failure classified and the re-run recorded', (c) => c.overallStatus === 'failed' && c.automaticRerun !== null);
    assert.deepEqual(ci.flakyHints.map((h: any) => [h.checkName, h.confidence]), [[check, 'high']]);
    assert.match(ci.flakyHints[0].reason, /flipped between pass and fail on unchanged code on 2 heads/);
    assert.equal(ci.automaticRerun.headSha, sha);
    assert.deepEqual(ci.automaticRerun.checks, [check]);
    assert.match(ci.automaticRerun.reason, new RegExp(`${check}: flipped .* \\(high\\)`));
    assert.deepEqual(await wakes(r, id, 'ci_failed'), [], 'no ci_failed wake before the re-run');
  }

  return { wire, inReview, inReviewOn, ciStatus, waitForCi, wakes, waitForWake, flippedOnTwoHeads, hold, circleReruns, githubReruns, activityAttempts, assertRerunPending };
}
