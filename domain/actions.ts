/** availableActions: what this caller may do to this issue right now. Agents follow the list instead of guessing from status. */
import { planApproved, unresolvedBlockers } from './collab.js';
import { awaitsRouting, holderOf, mayUpdate, shipsToFinish } from './holder.js';
import { canTransition, TERMINAL_STATUSES } from './statuses.js';
import type { Actor, IssueState } from './task.js';

export type Action = 'checkout' | 'update' | 'comment' | 'release' | 'close' | 'heartbeat' | 'delegate' | 'request_confirmation';

export function availableActions(s: Pick<IssueState, 'status' | 'assigneeAgentId' | 'checkout' | 'collab' | 'lifecycle'>, actor: Actor): Action[] {
  const actions: Action[] = [];
  const terminal = TERMINAL_STATUSES.includes(s.status);
  const owner = s.checkout?.agentId ?? null;
  const mine = actor.kind === 'agent' && owner === actor.agentId;
  const operator = actor.kind === 'operator';

  const mayTake =
    !owner && !terminal && canTransition(s.status, 'in_progress') &&
    (operator || (!s.assigneeAgentId && !awaitsRouting(s)) || s.assigneeAgentId === actor.agentId) &&
    unresolvedBlockers(s.collab).length === 0;
  // The holder of the checkout may check out again (a renewal).
  if (mayTake || mine) actions.push('checkout');
  const updater = mayUpdate(s, actor);
  if (updater) actions.push('update');
  actions.push('comment');
  if (owner && (mine || operator)) actions.push('release');
  const closer = holderOf(s);
  if (!terminal && canTransition(s.status, 'done') && (operator || (actor.kind === 'agent' && closer === actor.agentId && !shipsToFinish(s)))) actions.push('close');
  if (mine) actions.push('heartbeat');
  // Subtasks (seed 000): by whoever may update it; with a plan, only once the plan as it stands is accepted.
  if (!terminal && updater && planApproved(s.collab) !== false) actions.push('delegate');
  // Seed 000's confirmations: asked by whoever may update it, while it is open.
  if (!terminal && updater) actions.push('request_confirmation');
  return actions;
}
