/**
 * Issue 13 §6: routing decides one task at a time per company. The hostile pass saw round_robin send
 * 30/30 of a burst to one agent and least_loaded 19/9/2: every decision read the same counts from the
 * read model. Now each decision is taken under the company's lock and counted at once (activities/routing.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stackWithFakeGitHub, wireGitHub } from '../support/delivery.js';
import { waitFor } from '../support/wait.js';

const env = stackWithFakeGitHub();
const BURST = 30;

async function burst(strategy: 'round_robin' | 'least_loaded') {
  const w = await wireGitHub(env.stack, env.fake, { agents: 3, shared: strategy });
  await Promise.all(Array.from({ length: BURST }, (_, i) => env.fake.fake.openIssue(w.owner, w.repo, { title: `Burst ${i}` })));
  const tasks = await waitFor(
    `${BURST} tasks routed`,
    async () => (await env.stack.admin.get(`/api/companies/${w.companyId}/issues`)).body as Array<{ assigneeAgentId: string | null }>,
    (list) => list.length === BURST && list.every((t) => t.assigneeAgentId),
    60_000,
  );
  return w.agents.map((a) => tasks.filter((t) => t.assigneeAgentId === a.id).length);
}

test('a burst of 30 over 3 agents with round_robin lands 10/10/10', async () => {
  assert.deepEqual(await burst('round_robin'), [10, 10, 10]);
});

test('a burst of 30 over 3 agents with least_loaded lands 10/10/10', async () => {
  assert.deepEqual(await burst('least_loaded'), [10, 10, 10]);
});
