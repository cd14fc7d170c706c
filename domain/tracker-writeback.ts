/**
 * What a Linear issue hears of its task beyond ship and rollback (which every tracker hears, in
 * domain/delivery.ts): who the task went to, and that it was cancelled here. Linear only: a team that
 * lives in Linear sees the work move there; GitHub-born tasks keep the write-back they always had.
 */
import type { Applied, Ctx } from './commands.js';
import type { Effect } from './effects.js';
import type { IssueState } from './task.js';

export function withTrackerWriteBack(prev: IssueState, applied: Applied, ctx: Ctx): Applied {
  const issue = applied.write.issue;
  const source = issue.lifecycle?.source;
  if (source?.provider !== 'linear') return applied;
  const label = issue.identifier ?? issue.id;
  const effects: Effect[] = [];
  if (issue.assigneeAgentId && issue.assigneeAgentId !== prev.assigneeAgentId) {
    effects.push({ kind: 'upstream_comment', id: ctx.newId(), body: `Switchyard assigned this issue to agent {agent} (task ${label}).`, agentId: issue.assigneeAgentId });
  }
  // Cancelled here while the issue is still open there (a close in Linear cancels the task; nothing to say back).
  if (issue.status === 'cancelled' && prev.status !== 'cancelled' && source.state === 'open') {
    effects.push({ kind: 'upstream_state', id: ctx.newId(), state: 'cancelled' }, { kind: 'upstream_comment', id: ctx.newId(), body: `Cancelled in Switchyard (task ${label}).` });
  }
  return effects.length ? { ...applied, effects: [...(applied.effects ?? []), ...effects] } : applied;
}
