/**
 * Offered ⇔ accepted (issue 13 §3): the one rule every write to a task passes. A request names the
 * action of `availableActions` it is (issue side: domain/actions.ts, task side: domain/delivery-actions.ts);
 * the workflow's validator refuses it unless the same functions offer that action to that caller on
 * the task as it stands. Who holds a task: the agent with the checkout, else its assignee — so
 * ownership lasts through review, until the task ships, is released or an operator reassigns it.
 */
import { availableActions, type Action } from './actions.js';
import { taskActions, type TaskAction } from './delivery-actions.js';
import { DomainError } from './errors.js';
import { awaitsRouting, heldByAnother, holderOf, mayUpdate, shipsToFinish } from './holder.js';
import type { Actor, IssueState } from './task.js';

export { holderOf, mayUpdate };

export type OfferedAction = Action | TaskAction;

/** Everything the caller is offered on the task, both halves. */
export function offeredTo(s: IssueState, actor: Actor): string[] {
  return [...availableActions(s, actor), ...taskActions(s, actor)];
}

/**
 * A check's verdict that the request is a decision already made, answered with the same success: a
 * ship asked again by its assignee (or an operator) at the head that shipped (domain/delivery.ts
 * checkShip). It is not a new action, so it needs no offer.
 */
export const SAME_SUCCESS_AGAIN = 'shipped' as const;

/** Actions only an operator is ever offered. */
const OPERATOR_ONLY: OfferedAction[] = ['report_checks', 'record_review'];

/**
 * A task another agent holds: not_owner comes before any rule of the action's own, so the caller hears
 * whose task it is (a checkout keeps its checkout_conflict, which the contracts name).
 */
export function assertNotAnothers(s: IssueState, actor: Actor, action: OfferedAction): void {
  if (action === 'checkout' || action === 'start' || !heldByAnother(s, actor)) return;
  assertOffered(s, actor, action);
}

/**
 * Refuses `action` unless it is offered: 409 not_owner when another agent holds the task, 403
 * forbidden for an agent asking an operator's action, else 409 status_conflict (not in this state);
 * each carries the caller's availableActions.
 */
export function assertOffered(s: IssueState, actor: Actor, action: OfferedAction): void {
  if (actor.kind === 'system') return;
  const offered = offeredTo(s, actor);
  if (offered.includes(action)) return;
  const holder = holderOf(s);
  const details = { issueId: s.id, status: s.status, assigneeAgentId: s.assigneeAgentId, checkoutAgentId: s.checkout?.agentId ?? null, action, availableActions: offered };
  if (actor.kind === 'agent' && holder !== null && holder !== actor.agentId) {
    throw new DomainError('not_owner', `The task is held by another agent: ${action} is not among your availableActions`, details);
  }
  if (actor.kind === 'agent' && OPERATOR_ONLY.includes(action)) throw new DomainError('forbidden', `${action} is the operator's (board's) action`, details);
  if (actor.kind === 'agent' && awaitsRouting(s)) {
    throw new DomainError('status_conflict', 'This task waits for routing: a routing rule or an operator assigns it', details);
  }
  if (actor.kind === 'agent' && action === 'close' && shipsToFinish(s)) {
    throw new DomainError('status_conflict', 'This task is done when it ships: submit it, and ship once CI and review pass (or block it for a person)', details);
  }
  throw new DomainError('status_conflict', `${action} is not among your availableActions on this task as it stands`, details);
}
