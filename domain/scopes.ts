/**
 * AgentRail's key scopes (issue 15 §4), and what each availableActions entry needs. Scopes only narrow:
 * an action the task's rules do not offer is never added; one the key's scopes do not cover is left out.
 */
import { DomainError } from './errors.js';

export const SCOPES = [
  'auth:admin', 'ci:read', 'events:read', 'providers:write', 'routing:admin', 'routing:evaluate', 'routing:read',
  'reviews:read', 'ship:write', 'tasks:read', 'tasks:write', 'usage:read', 'webhooks:read', 'webhooks:write',
] as const;
export type Scope = (typeof SCOPES)[number];

/** Satisfies every scope. */
export const ADMIN_SCOPE: Scope = 'auth:admin';

/** A process wake's run token: what an agent working one task needs, and nothing about other tasks or keys. */
export const RUN_TOKEN_SCOPES: Scope[] = ['ci:read', 'providers:write', 'reviews:read', 'ship:write', 'tasks:read', 'tasks:write'];

export const isScope = (value: string): value is Scope => (SCOPES as readonly string[]).includes(value);

export function grants(granted: readonly string[], required: Scope): boolean {
  return granted.includes(ADMIN_SCOPE) || granted.includes(required);
}

/** De-duplicated and sorted, as AgentRail stores them; an unknown one is 400 naming it. */
export function normalizeScopes(given: readonly string[]): Scope[] {
  const unsupported = given.find((s) => !isScope(s));
  if (unsupported !== undefined) {
    throw new DomainError('validation_error', `Unsupported scope: ${unsupported}`, { unsupportedScope: unsupported, supportedScopes: [...SCOPES] });
  }
  return [...new Set(given as Scope[])].sort();
}

/**
 * The scope each action needs (issue side: domain/actions.ts; task side: domain/delivery-actions.ts;
 * AgentRail's next steps in answers and errors). An action not named here (retry, reauthenticate,
 * request_scope, reconnect_without_cursor) is always kept: it needs no grant.
 */
export const ACTION_SCOPES: Readonly<Record<string, Scope>> = {
  // The issue half: every change to a task.
  checkout: 'tasks:write', update: 'tasks:write', comment: 'tasks:write', release: 'tasks:write', close: 'tasks:write',
  heartbeat: 'tasks:write', delegate: 'tasks:write', request_confirmation: 'tasks:write',
  // The task half.
  start: 'tasks:write', submit: 'tasks:write', fix: 'tasks:write', blocker: 'tasks:write', resolve_blocker: 'tasks:write',
  report_checks: 'tasks:write', record_review: 'tasks:write',
  ship: 'ship:write', rollback: 'ship:write',
  view_ci_status: 'ci:read', refresh: 'ci:read', retry_failed_checks: 'ci:read', view_logs: 'ci:read',
  view_review_feedback: 'reviews:read',
  get_task: 'tasks:read', refresh_task: 'tasks:read', list_my_tasks: 'tasks:read', fetch_next_page: 'tasks:read',
  sync_linear: 'providers:write', repair_task_source: 'routing:admin',
  // Keys and events.
  rotate: 'auth:admin', create_agent_api_key: 'auth:admin', list_agent_api_keys: 'usage:read', view_usage: 'usage:read',
  list_event_subscriptions: 'webhooks:read', create_event_subscription: 'webhooks:write', deactivate: 'webhooks:write',
};

export function narrowActions(actions: readonly string[], granted: readonly string[]): string[] {
  return actions.filter((a) => {
    const needs = ACTION_SCOPES[a];
    return needs === undefined || grants(granted, needs);
  });
}
