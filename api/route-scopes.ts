/**
 * The one route table of key scopes (issue 15 §4): every route of both families, by method and Express
 * path, with the scope an agent key needs and the AgentRail-style operation name its usage is counted
 * under. test/keys/route-table.test.ts fails for a served route missing here. A path the table does not
 * name needs auth:admin (fail closed); the operator's key passes every route.
 */
import { ADMIN_SCOPE, type Scope } from '../domain/scopes.js';

export interface RouteRule {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  /** null: no key at all (signed webhooks, the OpenAPI document). */
  scope: Scope | null;
  operation: string;
}

const r = (method: RouteRule['method'], path: string, scope: Scope | null, operation: string): RouteRule => ({ method, path, scope, operation });

export const ROUTE_SCOPES: readonly RouteRule[] = [
  r('GET', '/api/openapi.json', null, 'get_openapi_document'),
  // Provider webhooks: signed with the source's secret, never a key.
  r('POST', '/api/providers/github/webhooks/:sourceId', null, 'github_webhook'),
  r('POST', '/api/providers/linear/webhooks/:sourceId', null, 'linear_webhook'),
  r('POST', '/api/providers/circleci/webhooks/:sourceId', null, 'circleci_webhook'),

  // AgentRail's task API.
  r('GET', '/api/tasks/mine', 'tasks:read', 'list_my_tasks'),
  r('GET', '/api/tasks/:issueId', 'tasks:read', 'get_task'),
  r('GET', '/api/tasks/:issueId/ci-status', 'ci:read', 'get_task_ci_status'),
  r('GET', '/api/tasks/:issueId/review-feedback', 'reviews:read', 'get_task_review_feedback'),
  r('POST', '/api/tasks/:issueId/start', 'tasks:write', 'start_task'),
  r('POST', '/api/tasks/:issueId/blocker', 'tasks:write', 'block_task_awaiting_user'),
  r('POST', '/api/tasks/:issueId/resolve-blocker', 'tasks:write', 'resolve_task_blocker'),
  r('POST', '/api/tasks/:issueId/submit', 'tasks:write', 'submit_task'),
  r('POST', '/api/tasks/:issueId/ship', 'ship:write', 'ship_task'),
  r('POST', '/api/tasks/:issueId/rollback', 'ship:write', 'rollback_task'),
  r('POST', '/api/tasks/:issueId/checks', 'tasks:write', 'report_task_checks'),
  r('POST', '/api/tasks/:issueId/review', 'tasks:write', 'record_task_review'),
  r('POST', '/api/providers/linear/tasks/:issueId/comments', 'providers:write', 'linear_create_comment'),
  r('POST', '/api/providers/linear/tasks/:issueId/workflow-state', 'providers:write', 'linear_update_workflow_state'),

  // Agent API keys.
  r('POST', '/api/agent-api-keys', 'auth:admin', 'create_agent_api_key'),
  r('GET', '/api/agent-api-keys', 'usage:read', 'list_agent_api_keys'),
  r('GET', '/api/agent-api-keys/:keyId', 'usage:read', 'get_agent_api_key'),
  r('POST', '/api/agent-api-keys/:keyId/rotate', 'auth:admin', 'rotate_agent_api_key'),
  r('DELETE', '/api/agent-api-keys/:keyId', 'auth:admin', 'revoke_agent_api_key'),
  r('GET', '/api/agent-api-keys/:keyId/usage', 'usage:read', 'get_agent_api_key_usage'),

  // Task events and their subscriptions (AgentRail's; served by the events change).
  r('GET', '/api/task-events/stream', 'events:read', 'stream_task_events'),
  r('GET', '/api/event-subscriptions', 'webhooks:read', 'list_event_subscriptions'),
  r('GET', '/api/event-subscriptions/:subscriptionId', 'webhooks:read', 'get_event_subscription'),
  r('POST', '/api/event-subscriptions', 'webhooks:write', 'create_event_subscription'),
  r('DELETE', '/api/event-subscriptions/:subscriptionId', 'webhooks:write', 'deactivate_event_subscription'),
  r('GET', '/api/event-subscriptions/:subscriptionId/deliveries', 'webhooks:read', 'list_event_subscription_deliveries'),

  // Companies and agents.
  r('POST', '/api/companies', ADMIN_SCOPE, 'create_company'),
  r('GET', '/api/companies/:companyId', 'tasks:read', 'get_company'),
  r('PATCH', '/api/companies/:companyId', ADMIN_SCOPE, 'update_company'),
  r('POST', '/api/companies/:companyId/agents', ADMIN_SCOPE, 'create_agent'),
  r('GET', '/api/companies/:companyId/agents', 'tasks:read', 'list_agents'),
  r('GET', '/api/agents/me', 'tasks:read', 'get_my_agent'),
  r('GET', '/api/agents/me/inbox-lite', 'tasks:read', 'get_my_inbox'),
  r('GET', '/api/agents/me/wakeups', 'tasks:read', 'list_my_wakeups'),
  r('PUT', '/api/agents/:agentId/wake-target', ADMIN_SCOPE, 'set_agent_wake_target'),

  // Paperclip-style issues: reads tasks:read, changes tasks:write.
  r('POST', '/api/companies/:companyId/issues', 'tasks:write', 'create_issue'),
  r('GET', '/api/companies/:companyId/issues', 'tasks:read', 'list_issues'),
  r('GET', '/api/issues/:issueId', 'tasks:read', 'get_issue'),
  r('PATCH', '/api/issues/:issueId', 'tasks:write', 'update_issue'),
  r('POST', '/api/issues/:issueId/children', 'tasks:write', 'create_child_issue'),
  r('POST', '/api/issues/:issueId/checkout', 'tasks:write', 'checkout_issue'),
  r('POST', '/api/issues/:issueId/release', 'tasks:write', 'release_issue'),
  r('POST', '/api/issues/:issueId/close', 'tasks:write', 'close_issue'),
  r('POST', '/api/issues/:issueId/heartbeat', 'tasks:write', 'renew_issue_lease'),
  r('POST', '/api/issues/:issueId/restore', 'tasks:write', 'restore_issue'),
  r('GET', '/api/issues/:issueId/comments', 'tasks:read', 'list_issue_comments'),
  r('GET', '/api/issues/:issueId/comments/:commentId', 'tasks:read', 'get_issue_comment'),
  r('POST', '/api/issues/:issueId/comments', 'tasks:write', 'add_issue_comment'),
  r('GET', '/api/issues/:issueId/activity', 'tasks:read', 'list_issue_activity'),
  r('GET', '/api/issues/:issueId/heartbeat-context', 'tasks:read', 'get_heartbeat_context'),
  r('GET', '/api/issues/:issueId/documents', 'tasks:read', 'list_issue_documents'),
  r('GET', '/api/issues/:issueId/documents/:key', 'tasks:read', 'get_issue_document'),
  r('GET', '/api/issues/:issueId/documents/:key/revisions', 'tasks:read', 'list_issue_document_revisions'),
  r('PUT', '/api/issues/:issueId/documents/:key', 'tasks:write', 'put_issue_document'),
  r('GET', '/api/issues/:issueId/interactions', 'tasks:read', 'list_issue_interactions'),
  r('GET', '/api/issues/:issueId/interactions/:interactionId', 'tasks:read', 'get_issue_interaction'),
  r('POST', '/api/issues/:issueId/interactions', 'tasks:write', 'request_confirmation'),
  r('POST', '/api/issues/:issueId/interactions/:interactionId/accept', 'tasks:write', 'accept_interaction'),
  r('POST', '/api/issues/:issueId/interactions/:interactionId/reject', 'tasks:write', 'reject_interaction'),
  r('POST', '/api/issues/:issueId/interactions/:interactionId/withdraw', 'tasks:write', 'withdraw_interaction'),

  // Goals.
  r('POST', '/api/companies/:companyId/goals', 'tasks:write', 'create_goal'),
  r('GET', '/api/companies/:companyId/goals', 'tasks:read', 'list_goals'),
  r('GET', '/api/goals/:goalId', 'tasks:read', 'get_goal'),
  r('PATCH', '/api/goals/:goalId', 'tasks:write', 'update_goal'),
  r('DELETE', '/api/goals/:goalId', 'tasks:write', 'delete_goal'),

  // Routing and task sources (intake setup).
  r('GET', '/api/companies/:companyId/routing', 'routing:read', 'get_routing_rules'),
  r('PUT', '/api/companies/:companyId/routing', 'routing:admin', 'update_routing_rules'),
  r('POST', '/api/issues/:issueId/route', 'routing:admin', 'route_task'),
  r('POST', '/api/companies/:companyId/sources', 'routing:admin', 'create_task_source'),
  r('GET', '/api/companies/:companyId/sources', 'routing:read', 'list_task_sources'),
  r('GET', '/api/sources/:sourceId', 'routing:read', 'get_task_source'),
  r('PATCH', '/api/sources/:sourceId', 'routing:admin', 'update_task_source'),
  r('DELETE', '/api/sources/:sourceId', 'routing:admin', 'delete_task_source'),
  r('GET', '/api/companies/:companyId/sources/:sourceId', 'routing:read', 'get_task_source'),
  r('PATCH', '/api/companies/:companyId/sources/:sourceId', 'routing:admin', 'update_task_source'),
  r('DELETE', '/api/companies/:companyId/sources/:sourceId', 'routing:admin', 'delete_task_source'),
  r('POST', '/api/sources/:sourceId/sync', 'routing:admin', 'sync_task_source'),
];

/** A request to a path no route names: counted, and needs auth:admin, so a path the table misses grants nothing. */
export const UNLISTED_ROUTE: RouteRule = { method: 'GET', path: '', scope: ADMIN_SCOPE, operation: 'unlisted_route' };

/**
 * Express's own matching: a `:param` is one non-empty segment, case-insensitive, an optional trailing
 * slash. Matched on the raw path, as Express matches, so an encoded `/` cannot move a segment.
 */
function compile(path: string): RegExp {
  const parts = path.split('/').map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${parts.join('/')}/?$`, 'i');
}

const COMPILED = ROUTE_SCOPES.map((rule) => ({ rule, re: compile(rule.path), literals: rule.path.split('/').filter((s) => s && !s.startsWith(':')).length }));

/** The rule for a request; where two match (/tasks/mine and /tasks/:issueId), the more literal wins, as route order does. */
export function ruleFor(method: string, path: string): RouteRule | undefined {
  const m = method === 'HEAD' ? 'GET' : method;
  let best: (typeof COMPILED)[number] | undefined;
  for (const c of COMPILED) {
    if (c.rule.method === m && c.re.test(path) && (!best || c.literals > best.literals)) best = c;
  }
  return best?.rule;
}
