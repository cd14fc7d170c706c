/**
 * One uncontended checkout at a time, interleaved with one raw Temporal Update on a no-op workflow
 * (the engine's floor for the same step), so both see the same machine at the same moment.
 */
import type { HttpClient } from '../test/support/http.js';
import { claimUpdate } from './floor/workflow.js';
import type { Deployed } from './processes.js';
import { timed } from './stats.js';

const TAKE = ['todo', 'backlog', 'blocked', 'in_review'];
const WARMUP = 5;

export async function measureSolo(stack: Deployed, companyId: string, agents: Array<{ id: string; http: HttpClient }>, n: number) {
  const issues: string[] = [];
  for (let i = 0; i < n + WARMUP; i++) {
    issues.push((await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'solo', status: 'todo' })).body.id);
  }
  // The floor's workflows exist and are idle before the first measurement, like the issues.
  const floors: Array<Awaited<ReturnType<Deployed['client']['workflow']['start']>>> = [];
  for (const id of issues) floors.push(await stack.client.workflow.start('benchFloorWorkflow', { workflowId: `bench-solo/${id}`, taskQueue: stack.floorTaskQueue }));
  await new Promise((r) => setTimeout(r, 1_000));
  const api: number[] = [];
  const raw: number[] = [];
  for (const [i, id] of issues.entries()) {
    const a = agents[i % agents.length]!;
    const checkout = await timed(() => a.http.post(`/api/issues/${id}/checkout`, { agentId: a.id, expectedStatuses: TAKE }));
    if (checkout.value.status !== 200) throw new Error(`solo checkout answered ${checkout.value.status}`);
    const update = await timed(() => floors[i]!.executeUpdate(claimUpdate, { args: [a.id] }));
    if (i >= WARMUP) {
      api.push(checkout.ms);
      raw.push(update.ms);
    }
  }
  return { api, raw };
}
