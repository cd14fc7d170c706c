/** availableActions: what this caller may do to this issue right now. Agents follow the list instead of guessing from status. */
import { planApproved, unresolvedBlockers } from './collab.js';
import { canTransition, TERMINAL_STATUSES } from './statuses.js';
import type { Actor, IssueState } from './task.js';

export type Action = 'checkout' | 'update' | 'comment' | 'release' | 'close' | 'heartbeat' | 'delegate';

export function availableActions(s: Pick<IssueState, 'status' | 'assigneeAgentId' | 'checkout' | 'collab'>, actor: Actor): Action[] {
  const actions: Action[] = [];
  const terminal = TERMINAL_STATUSES.includes(s.status);
  const owner = s.checkout?.agentId ?? null;
  const mine = actor.kind === 'agent' && owner === actor.agentId;
  const operator = actor.kind === 'operator';

  const mayTake =
    !owner && !terminal && canTransition(s.status, 'in_progress') && (operator || !s.assigneeAgentId || s.assigneeAgentId === actor.agentId) &&
    unresolvedBlockers(s.collab).length === 0;
  if (mayTake) actions.push('checkout');
  if (operator || mine || !owner) actions.push('update');
  actions.push('comment');
  if (owner && (mine || operator)) actions.push('release');
  const closer = owner ?? s.assigneeAgentId;
  if (!terminal && canTransition(s.status, 'done') && (operator || (actor.kind === 'agent' && closer === actor.agentId))) actions.push('close');
  if (mine) actions.push('heartbeat');
  // Seed 000's plan approval: once the plan is accepted, the work may be broken down.
  if (!terminal && (operator || s.assigneeAgentId === actor.agentId) && planApproved(s.collab) === true) actions.push('delegate');
  return actions;
}
