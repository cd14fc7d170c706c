/**
 * Who holds a task: the agent with the checkout, else its assignee. Ownership lasts through review:
 * the assignee holds a submitted task until it ships, is released, or an operator reassigns it.
 */
import type { Actor, IssueState } from './task.js';

export function holderOf(s: Pick<IssueState, 'checkout' | 'assigneeAgentId'>): string | null {
  return s.checkout?.agentId ?? s.assigneeAgentId ?? null;
}

/** Fields, documents, confirmations: an operator, the holder, or anyone of the company while nobody holds the task. */
export function mayUpdate(s: Pick<IssueState, 'checkout' | 'assigneeAgentId'>, actor: Actor): boolean {
  if (actor.kind !== 'agent') return true;
  const holder = holderOf(s);
  return holder === null || holder === actor.agentId;
}
