/**
 * Search attributes every task workflow carries, so operators can filter in the Temporal Web UI
 * (e.g. `TaskStatus = "in_progress" AND AssigneeAgentId = "<agent>"`). Plain data: the keys have
 * the shape of the SDK's SearchAttributeKey without importing it here.
 */
import type { IssueState } from './task.js';

const keyword = <N extends string>(name: N) => ({ name, type: 'KEYWORD' as const });

export const SA = {
  TaskStatus: keyword('TaskStatus'),
  AssigneeAgentId: keyword('AssigneeAgentId'),
  CompanyId: keyword('CompanyId'),
  Priority: keyword('Priority'),
  Stage: keyword('Stage'),
  Provider: keyword('Provider'),
  Repo: keyword('Repo'),
  RoutingState: keyword('RoutingState'),
} as const;

/** `Name=Keyword` pairs, as the dev server's --search-attribute flag and `operator search-attribute create` want them. */
export const SEARCH_ATTRIBUTE_NAMES = Object.values(SA).map((k) => k.name);

export function searchAttributeValues(s: IssueState): Array<{ key: (typeof SA)[keyof typeof SA]; value: string | null }> {
  const l = s.lifecycle;
  return [
    { key: SA.TaskStatus, value: s.status },
    { key: SA.AssigneeAgentId, value: s.assigneeAgentId },
    { key: SA.CompanyId, value: s.companyId },
    { key: SA.Priority, value: s.priority },
    // Only tasks with a lifecycle carry these: earlier tasks upsert exactly what they always did.
    ...(l
      ? [
          { key: SA.Stage, value: l.stage },
          { key: SA.Provider, value: l.source?.provider ?? null },
          { key: SA.Repo, value: l.source ? `${l.source.owner}/${l.source.repo}` : null },
          { key: SA.RoutingState, value: l.routing?.state ?? null },
        ]
      : []),
  ];
}
