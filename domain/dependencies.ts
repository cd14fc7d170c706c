/**
 * Tasks that wait on each other (issue 8 §1): blockers and children. Each task's workflow tells the
 * others what became of it, by a message from workflow to workflow: a child tells its parent when it
 * becomes terminal (or stops being), a blocker tells its dependents when it is done (or stops being),
 * and a task that starts waiting on a blocker tells the blocker, which answers with its status.
 */
import { emptyCollab, isTerminal, unresolvedBlockers, type Collab, type CollabMessage } from './collab.js';
import { entry, nextState, type Applied, type Ctx } from './commands.js';
import type { Effect } from './effects.js';
import { expireInteractions } from './interactions.js';
import { systemActor, type IssueState } from './task.js';

const notify = (ctx: Ctx, issueId: string, message: CollabMessage): Effect => ({ kind: 'notify', id: ctx.newId(), issueId, message });

/** A message from another task's workflow: a decision, only an answer to send (`effectsOnly`), or null. */
export function applyCollabMessage(s: IssueState, m: CollabMessage, ctx: Ctx): Applied | { effectsOnly: Effect[] } | null {
  const collab = s.collab ?? emptyCollab();
  const system = systemActor('dependencies');
  const label = s.identifier ?? s.id;
  if (m.type === 'dependent') {
    const has = collab.blocks.includes(m.dependentId);
    if (has === m.add) {
      // Asked again (a retried registration): answer again, changing nothing.
      return m.add ? { effectsOnly: [notify(ctx, m.dependentId, { type: 'blocker', blockerId: s.id, status: s.status })] } : null;
    }
    const blocks = m.add ? [...collab.blocks, m.dependentId] : collab.blocks.filter((id) => id !== m.dependentId);
    const issue = nextState(s, ctx, { collab: { ...collab, blocks } });
    const effects = m.add ? [notify(ctx, m.dependentId, { type: 'blocker', blockerId: s.id, status: s.status })] : [];
    return { write: { issue, comments: [], activity: [entry(system, m.add ? 'issue.blocks_added' : 'issue.blocks_removed', { issueId: m.dependentId }, issue, ctx)] }, effects };
  }
  if (m.type === 'blocker') {
    const i = collab.blockedBy.findIndex((b) => b.id === m.blockerId);
    const resolved = m.status === 'done';
    if (i < 0 || collab.blockedBy[i]!.resolved === resolved) return null;
    const before = unresolvedBlockers(collab).length;
    const blockedBy = collab.blockedBy.map((b) => (b.id === m.blockerId ? { ...b, resolved } : b));
    const issue = nextState(s, ctx, { collab: { ...collab, blockedBy } });
    const activity = [entry(system, resolved ? 'issue.blocker_resolved' : 'issue.blocker_reopened', { blockerIssueId: m.blockerId, status: m.status }, issue, ctx)];
    const effects: Effect[] = [];
    const allResolved = before > 0 && unresolvedBlockers(issue.collab).length === 0;
    if (allResolved) {
      activity.push(entry(system, 'issue.blockers_resolved', { blockerIssueIds: blockedBy.map((b) => b.id) }, issue, ctx));
      if (issue.assigneeAgentId && !isTerminal(issue.status)) {
        effects.push({ kind: 'wake', id: ctx.newId(), agentId: issue.assigneeAgentId, reason: 'issue_blockers_resolved', summary: `Every issue ${label} waits on is done`, details: { blockerIssueIds: blockedBy.map((b) => b.id) } });
      }
    }
    return { write: { issue, comments: [], activity }, effects };
  }
  const known = collab.children.find((c) => c.id === m.childId);
  if (known?.terminal === m.terminal) return null;
  const wasComplete = allChildrenTerminal(collab);
  const children = known ? collab.children.map((c) => (c.id === m.childId ? { ...c, terminal: m.terminal } : c)) : [...collab.children, { id: m.childId, terminal: m.terminal }];
  const issue = nextState(s, ctx, { collab: { ...collab, children } });
  const activity = [entry(system, known ? (m.terminal ? 'issue.child_closed' : 'issue.child_reopened') : 'issue.child_added', { childIssueId: m.childId, terminal: m.terminal }, issue, ctx)];
  const effects: Effect[] = [];
  // Woken once per completion: again only if a child reopens (or a new one comes) and all close again.
  if (!wasComplete && allChildrenTerminal(issue.collab!)) {
    activity.push(entry(system, 'issue.children_completed', { childIssueIds: children.map((c) => c.id) }, issue, ctx));
    if (issue.assigneeAgentId && !isTerminal(issue.status)) {
      effects.push({ kind: 'wake', id: ctx.newId(), agentId: issue.assigneeAgentId, reason: 'issue_children_completed', summary: `Every child of ${label} is closed`, details: { childIssueIds: children.map((c) => c.id) } });
    }
  }
  return { write: { issue, comments: [], activity }, effects };
}

const allChildrenTerminal = (c: Collab) => c.children.length > 0 && c.children.every((x) => x.terminal);

/**
 * What any change means for the task's collaborators, added to the decision before it is committed:
 * closing expires pending confirmations (`issue_closed`); becoming terminal (or not) is told to the
 * parent, becoming done (or not) to the dependents; blockers added or removed are told to the blockers.
 * Only for tasks that carry collaboration state (created since it exists, or that used it since).
 */
export function withCollabConsequences(prev: IssueState, given: Applied, ctx: Ctx): Applied {
  const applied = withWakeEntries(given, ctx);
  let issue = applied.write.issue;
  const collab = issue.collab;
  if (!collab) return applied;
  const activity = [...applied.write.activity];
  const effects = [...(applied.effects ?? [])];
  if (isTerminal(issue.status) && !isTerminal(prev.status)) {
    const expired = expireInteractions(issue, () => true, 'issue_closed', ctx);
    issue = expired.issue;
    activity.push(...expired.activity);
  }
  if (issue.parentId && isTerminal(issue.status) !== isTerminal(prev.status)) {
    effects.push(notify(ctx, issue.parentId, { type: 'child', childId: issue.id, terminal: isTerminal(issue.status) }));
  }
  if ((issue.status === 'done') !== (prev.status === 'done')) {
    for (const dependent of collab.blocks) effects.push(notify(ctx, dependent, { type: 'blocker', blockerId: issue.id, status: issue.status }));
  }
  const before = new Set((prev.collab?.blockedBy ?? []).map((b) => b.id));
  const after = new Set(collab.blockedBy.map((b) => b.id));
  for (const id of after) if (!before.has(id)) effects.push(notify(ctx, id, { type: 'dependent', dependentId: issue.id, add: true }));
  for (const id of before) if (!after.has(id)) effects.push(notify(ctx, id, { type: 'dependent', dependentId: issue.id, add: false }));
  return { ...applied, write: { ...applied.write, issue, activity }, effects };
}

/** What a new task tells others when it starts: its parent that it exists, its blockers that it waits on them. */
export function startNotices(s: IssueState, idFor: (what: string) => string): Effect[] {
  if (!s.collab) return [];
  const out: Effect[] = [];
  if (s.parentId) out.push({ kind: 'notify', id: idFor(`child:${s.parentId}`), issueId: s.parentId, message: { type: 'child', childId: s.id, terminal: isTerminal(s.status) } });
  for (const b of s.collab.blockedBy) out.push({ kind: 'notify', id: idFor(`blocker:${b.id}`), issueId: b.id, message: { type: 'dependent', dependentId: s.id, add: true } });
  return out;
}

/**
 * Every wake a decision asks for is in the issue's activity log too (whom, why), beside the wakeups
 * list. Tasks without collaboration state (runs recorded before it) keep the log they had.
 */
export function withWakeEntries(applied: Applied, ctx: Ctx): Applied {
  const wakes = (applied.effects ?? []).filter((e) => e.kind === 'wake');
  if (wakes.length === 0 || !applied.write.issue.collab) return applied;
  const system = systemActor('wakes');
  const entries = wakes.map((w) => entry(system, 'agent.wake_requested', { agentId: w.agentId, reason: w.reason, wakeId: w.id, ...(w.commentId ? { commentId: w.commentId } : {}) }, applied.write.issue, ctx));
  return { ...applied, write: { ...applied.write, activity: [...applied.write.activity, ...entries] } };
}
