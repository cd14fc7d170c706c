/**
 * AgentRail's two Linear routes as task changes (issue 14 §2): a comment on the task's Linear issue and
 * a move of it to another workflow state, asked by the task's holder (or an operator) through the task's
 * workflow. Only a task taken in from Linear has an issue to write to; a state the move lands in
 * changes the task by the same rules as a person moving the issue in Linear.
 */
import { applyUpstream } from './delivery.js';
import { entry, nextState, type Applied, type Ctx } from './commands.js';
import { DomainError } from './errors.js';
import { linearStatus, upstreamOpenClosed } from './linear.js';
import { assertOffered } from './permissions.js';
import type { Actor, IssueState } from './task.js';

export type LinearWrite = { kind: 'comment'; body: string } | { kind: 'state'; stateId: string };

export interface LinearWriteCmd {
  actor: Actor;
  write: LinearWrite;
}

/** What Linear answered: the comment made, or the state the issue is in now. */
export type LinearWriteResult =
  | { kind: 'comment'; linearIssueId: string; commentId: string | null; commentUrl: string | null }
  | { kind: 'state'; linearIssueId: string; stateId: string; stateName: string | null; stateType: string | null };

/** The Linear issue id of a task taken in from Linear, or why there is none (AgentRail's 404 and its action). */
export function linearIssueOf(s: Pick<IssueState, 'id' | 'lifecycle'>): string {
  const source = s.lifecycle?.source;
  if (source?.provider !== 'linear' || !source.key.startsWith('linear:')) {
    throw new DomainError('linear_source_not_found', 'Linear issue source not found for task.', { taskId: s.id, availableActions: ['repair_task_source'] });
  }
  return source.key.slice('linear:'.length);
}

export function checkLinearWrite(s: IssueState, cmd: LinearWriteCmd): void {
  linearIssueOf(s);
  assertOffered(s, cmd.actor, 'sync_linear');
}

/** The write recorded on the task; a state move applied as an upstream change (a completed or cancelled state before ship cancels it). */
export function applyLinearWrite(s: IssueState, cmd: LinearWriteCmd, r: LinearWriteResult, ctx: Ctx): Applied {
  if (r.kind === 'comment') {
    const issue = nextState(s, ctx, {});
    return { write: { issue, comments: [], activity: [entry(cmd.actor, 'task.linear_commented', { linearIssueId: r.linearIssueId, commentId: r.commentId, commentUrl: r.commentUrl }, issue, ctx)] } };
  }
  const l = s.lifecycle!;
  const source = l.source!;
  const workflowState = { id: r.stateId, name: r.stateName ?? '', type: r.stateType ?? '' };
  const up = { title: s.title, body: s.description, labels: source.labels, state: upstreamOpenClosed(r.stateType), url: source.url };
  const moved = applyUpstream(s, up, ctx);
  const base = moved?.write.issue ?? nextState(s, ctx, {});
  const issue = { ...base, lifecycle: { ...base.lifecycle!, source: { ...base.lifecycle!.source!, workflowState } } };
  const details = { linearIssueId: r.linearIssueId, stateId: r.stateId, stateName: r.stateName, agentRailStatus: linearStatus({ name: r.stateName, type: r.stateType }), from: s.status, to: issue.status };
  return { write: { issue, comments: moved?.write.comments ?? [], activity: [...(moved?.write.activity ?? []), entry(cmd.actor, 'task.linear_state_changed', details, issue, ctx)] }, effects: moved?.effects };
}
