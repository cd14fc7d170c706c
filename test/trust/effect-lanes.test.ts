/**
 * Issue 13 §5: a task's effects never wait on each other. A wake to a target that is down is retried
 * for hours; before lanes, the notice that frees a dependent and the write-back that closes the
 * upstream issue waited behind it. Each reproduction: an agent whose HTTP wake target refuses
 * connections, woken when its task is assigned (that wake is still being retried when the rest happens).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort } from '../../scripts/stack/ports.js';
import { ALL_TAKEABLE, seedCompany, type SeededAgent } from '../support/seed.js';
import { stackWithFakeGitHub, waitForMine, waitForTask, wireGitHub } from '../support/delivery.js';
import { waitFor } from '../support/wait.js';

const env = stackWithFakeGitHub();

/** Points the agent's wakes at a port nobody listens on: every wake is retried with backoff for 24 h. */
async function deadWakeTarget(agent: SeededAgent): Promise<void> {
  const url = `http://127.0.0.1:${await freePort()}/wake`;
  const set = await env.stack.admin.request('PUT', `/api/agents/${agent.id}/wake-target`, { target: { type: 'http', url, secret: 'a-secret-of-16-chars-or-more' } });
  assert.equal(set.status, 200, JSON.stringify(set.body));
}

/** The wake to the dead target is being retried: its activity has failed at least once. */
async function wakeRetrying(issueId: string): Promise<void> {
  const { workflowIdFor } = await import('../../workflows/messages.js');
  await waitFor('the wake to the dead target to be retried', async () => (await env.stack.client.workflow.getHandle(workflowIdFor(issueId)).describe()).raw.pendingActivities ?? [],
    (acts) => acts.some((a) => a.activityType?.name === 'wakeAgent' && Number(a.attempt) >= 2), 30_000);
}

test('a dead wake target does not hold up the notice that frees a dependent', async () => {
  const { companyId, agents } = await seedCompany(env.stack, 2);
  const [a, b] = agents as [SeededAgent, SeededAgent];
  await deadWakeTarget(a);
  const blocker = (await env.stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'blocker', assigneeAgentId: a.id, status: 'todo' })).body;
  const dependent = (await env.stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'dependent', assigneeAgentId: b.id, status: 'todo', blockedByIssueIds: [blocker.id] })).body;
  await wakeRetrying(blocker.id);
  assert.equal((await b.http.post(`/api/issues/${dependent.id}/checkout`, { agentId: b.id, expectedStatuses: ALL_TAKEABLE })).body.code, 'unresolved_blockers');
  assert.equal((await a.http.post(`/api/issues/${blocker.id}/checkout`, { agentId: a.id, expectedStatuses: ALL_TAKEABLE })).status, 200);
  const closed = await a.http.post(`/api/issues/${blocker.id}/close`, { comment: 'Inline result: done. Result: ok. Verified: by hand.' });
  assert.equal(closed.status, 200, JSON.stringify(closed.body));
  const freed = Date.now();
  const checkout = await waitFor('the dependent to be free', () => b.http.post(`/api/issues/${dependent.id}/checkout`, { agentId: b.id, expectedStatuses: ALL_TAKEABLE }), (r) => r.status === 200, 20_000);
  assert.equal(checkout.body.status, 'in_progress');
  console.log(`dependent free ${Date.now() - freed} ms after its blocker closed, with a wake to a dead target still being retried`);
});

test('a dead wake target does not hold up closing the upstream issue after a ship', async () => {
  const w = await wireGitHub(env.stack, env.fake, { reviewPolicy: 'never_require' });
  await deadWakeTarget(w.agent);
  const issue = await env.fake.fake.openIssue(w.owner, w.repo, { title: 'Ship me', labels: ['bug'] });
  const { id } = await waitForMine(w.agent);
  await wakeRetrying(id);
  const sha = await env.fake.fake.pushCommit(w.owner, w.repo, 'lanes', { 'src/app.txt': 'lanes\n' });
  assert.equal((await w.agent.http.post(`/api/tasks/${id}/submit`, { summary: 'lanes', pullRequest: { head: 'lanes' } }, { 'idempotency-key': 's' })).status, 202);
  await env.fake.fake.setStatus(w.owner, w.repo, { sha, state: 'success', context: 'ci' });
  await waitForTask(w.agent, id, 'ship offered', (d) => d.availableActions.includes('ship'));
  const ship = await w.agent.http.post(`/api/tasks/${id}/ship`, { expectedHeadSha: sha }, { 'idempotency-key': 'ship' });
  assert.equal(ship.status, 202, JSON.stringify(ship.body));
  const shipped = Date.now();
  await waitFor('the upstream issue closed', async () => env.fake.fake.repo(w.owner, w.repo).issues.get(issue.number)!.state, (s) => s === 'closed', 20_000);
  console.log(`upstream closed ${Date.now() - shipped} ms after the ship, with a wake to a dead target still being retried`);
});
