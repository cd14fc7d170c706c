/**
 * AgentRail's own TypeScript SDK (source-available: oxnw/agentrail `sdk/typescript`) driving a
 * Linear-born task against Switchyard, unchanged: base URL `…/api`, its Bearer key, its Idempotency-Keys,
 * its retries. Not vendored: point `AGENTRAIL_SDK` at a checkout's `sdk/typescript/src/index.ts`
 * (README "AgentRail's SDK"); without it the same scenario runs with a client written from the reference.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitForMine, waitForTask } from '../support/delivery.js';
import { stackWithAllFakes, until, wireLinear } from '../support/linear-delivery.js';
import { loadAgentRail } from '../support/agentrail-sdk.js';

const env = stackWithAllFakes();

test("AgentRail's SDK drives a Linear task: list, get, createLinearTaskComment, updateLinearTaskWorkflowState, submit, CI status, review feedback, ship", async () => {
  const agentRail = await loadAgentRail();
  const AgentRailError = agentRail.ErrorType;
  const w = await wireLinear(env);
  const ln = env.linear.fake;
  const issue = await ln.createIssue({ teamKey: w.teamKey, title: 'Refunds round the wrong way', description: 'Refund 10.005', priority: 1 });
  await waitForMine(w.agent);
  const sdk = agentRail.client(`${env.stack.url}/api`, w.agent.key);

  const mine = await sdk.listMyTasks({ limit: 10 });
  assert.equal(mine.data.length, 1);
  const id = mine.data[0].id;
  const task = await sdk.getTask(id);
  assert.equal(task.data.priority, 'critical');
  assert.ok(task.availableActions.includes('start'));

  const commented = await sdk.createLinearTaskComment(id, { body: 'Looking at the rounding now.' }, 'sdk-linear-comment-1');
  assert.equal(commented.data.success, true);
  assert.equal(commented.data.linearIssueId, issue.id);
  assert.ok(commented.data.commentId);
  assert.ok(ln.comments(issue.id).some((c) => c.body === 'Looking at the rounding now.'));

  const inProgress = ln.stateByName(issue.teamId, 'In Progress');
  const moved = await sdk.updateLinearTaskWorkflowState(id, { stateId: inProgress.id }, 'sdk-linear-state-1');
  assert.equal(moved.data.stateName, 'In Progress');
  assert.equal(moved.data.agentRailStatus, 'in_progress');
  assert.equal(ln.issue(issue.id)!.stateId, inProgress.id);

  const sha = await env.github.fake.pushCommit(w.owner, w.repo, 'fix-rounding', { 'src/app.txt': 'rounded half-even\n' });
  const submitted = await sdk.submitTask(id, { summary: 'Round half-even', pullRequest: { head: 'fix-rounding' } }, 'sdk-submit-1');
  assert.equal(submitted.data.headSha, sha);
  await env.circleci.fake.createPipeline({ projectSlug: w.projectSlug, branch: 'fix-rounding', revision: sha, workflows: [{ name: 'build', jobs: [{ name: 'unit', status: 'success' }] }] });
  await waitForTask(w.agent, id, 'CircleCI green → ship', (d) => d.availableActions.includes('ship'));
  const ci = await sdk.getTaskCiStatus(id);
  assert.equal(ci.data.overallStatus, 'passed');
  assert.equal(ci.data.checks[0].provider, 'circleci');
  const feedback = await sdk.getTaskReviewFeedback(id);
  assert.equal(feedback.data.latestDecision.outcome, 'not_required');
  // The SDK's TaskShipRequest carries mode and targetEnvironment: recorded as asked, and the answer says nothing was deployed.
  const shipped = await sdk.shipTask(id, { expectedHeadSha: sha, mode: 'merge_and_deploy', targetEnvironment: 'staging' }, 'sdk-ship-1');
  assert.match(shipped.data.mergeCommitSha, /^[0-9a-f]{40}$/);
  assert.deepEqual([shipped.data.mode, shipped.data.targetEnvironment, shipped.data.deployed], ['merge_and_deploy', 'staging', false]);
  await until(() => ln.issue(issue.id)!.stateId === ln.stateByName(issue.teamId, 'Done').id, 'the Linear issue completed');

  // The SDK's error type, for a task that is not Linear's and for a refused write.
  const other = await env.stack.admin.post(`/api/companies/${w.companyId}/issues`, { title: 'Not from Linear', status: 'todo', assigneeAgentId: w.agent.id });
  await assert.rejects(sdk.createLinearTaskComment(other.body.id, { body: 'x' }, 'sdk-linear-comment-2'), (err: any) => err instanceof AgentRailError && err.statusCode === 404 && err.code === 'linear_source_not_found' && err.availableActions.includes('repair_task_source'));
});
