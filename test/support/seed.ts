/** Common fixtures: a company with agents, and issues for them. */
import assert from 'node:assert/strict';
import type { Stack } from './stack.js';
import type { HttpClient } from './http.js';

export interface SeededAgent {
  id: string;
  key: string;
  http: HttpClient;
}

export async function seedCompany(stack: Stack, agents = 2, settings?: Record<string, unknown>) {
  const company = await stack.admin.post('/api/companies', { name: `Co ${Math.random().toString(36).slice(2, 7)}`, ...(settings ? { settings } : {}) });
  assert.equal(company.status, 201, JSON.stringify(company.body));
  const list: SeededAgent[] = [];
  for (let i = 0; i < agents; i++) {
    const res = await stack.admin.post(`/api/companies/${company.body.id}/agents`, { name: `agent-${i}`, role: 'engineer' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    list.push({ id: res.body.agent.id, key: res.body.apiKey, http: stack.as(res.body.apiKey, `run-${i}-a`) });
  }
  return { companyId: company.body.id as string, agents: list };
}

export async function createIssue(stack: Stack, companyId: string, body: Record<string, unknown> = {}) {
  const res = await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'A task', ...body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string; status: string; version: number };
}

export const ALL_TAKEABLE = ['todo', 'backlog', 'blocked', 'in_review'];

/** A new `todo` issue the agent has checked out; the checkout's answer. */
export async function checkedOutIssue(stack: Stack, companyId: string, agent: SeededAgent) {
  const issue = await createIssue(stack, companyId, { status: 'todo' });
  const res = await agent.http.post(`/api/issues/${issue.id}/checkout`, { agentId: agent.id, expectedStatuses: ALL_TAKEABLE });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as { id: string; version: number; checkout: { agentId: string; leaseExpiresAt: string } };
}
