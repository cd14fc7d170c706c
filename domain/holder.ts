/**
 * Who holds a task: the agent with the checkout, else its assignee. Ownership lasts through review:
 * the assignee holds a submitted task until it ships, is released, or an operator reassigns it.
 */
import type { Actor, IssueState } from './task.js';

export function holderOf(s: Pick<IssueState, 'checkout' | 'assigneeAgentId'>): string | null {
  return s.checkout?.agentId ?? s.assigneeAgentId ?? null;
}

/** An agent asking about a task some other agent holds. */
export function heldByAnother(s: Pick<IssueState, 'checkout' | 'assigneeAgentId'>, actor: Actor): boolean {
  const holder = holderOf(s);
  return actor.kind === 'agent' && holder !== null && holder !== actor.agentId;
}

/**
 * A task taken in from a tracker that nobody is assigned: routing (or an operator) gives it to an agent,
 * never an agent itself — "routing fails closed" (README).
 */
export function awaitsRouting(s: Pick<IssueState, 'assigneeAgentId' | 'lifecycle'>): boolean {
  return !!s.lifecycle?.source && !s.assigneeAgentId;
}

/**
 * Fields, documents, confirmations: an operator, the holder, or anyone of the company while nobody
 * holds the task (unless it waits for routing).
 */
export function mayUpdate(s: Pick<IssueState, 'checkout' | 'assigneeAgentId' | 'lifecycle'>, actor: Actor): boolean {
  if (actor.kind !== 'agent') return true;
  const holder = holderOf(s);
  return holder === actor.agentId || (holder === null && !awaitsRouting(s));
}

/**
 * A task that delivers through submit, CI, review and ship (it came from a tracker, or something was
 * submitted) is done when it ships: its agent is not offered `close`, which would skip the gate.
 */
export function shipsToFinish(s: Pick<IssueState, 'lifecycle'>): boolean {
  return !!s.lifecycle?.source || !!s.lifecycle?.delivery;
}
