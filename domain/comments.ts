/**
 * A comment on the issue's thread (seed 000, Paperclip's wake reasons): it may reopen a closed issue,
 * and it wakes whom it concerns — the assignee when someone else comments, every agent it mentions —
 * never its own author. The plain `applyComment` (commands.ts) stays for runs recorded before this.
 */
import { entry, makeComment, notOwner, nextState, renewed, type Applied, type CommentCmd, type Ctx } from './commands.js';
import type { Effect } from './effects.js';
import { mayUpdate } from './holder.js';
import { expireInteractions } from './interactions.js';
import { TERMINAL_STATUSES } from './statuses.js';
import type { IssueState } from './task.js';

export interface ThreadCommentCmd extends CommentCmd {
  /** Agents the comment mentions (`[@Name](agent://<id>)` or `@name`), resolved by the API to ids of the company. */
  mentions?: string[];
  /** Paperclip's `reopen`: a done or cancelled issue goes back to todo. */
  reopen?: boolean;
  /** Paperclip's `resume`: the assignee is woken (as by any comment not their own). */
  resume?: boolean;
}

/** `[@Name](agent://<uuid>)` links in a comment body (the API resolves `@name` against the company's agents). */
export function mentionedAgentIds(body: string): string[] {
  return [...body.matchAll(/\]\(agent:\/\/([0-9a-f-]{36})\)/gi)].map((m) => m[1]!.toLowerCase());
}

/** Anyone of the company may comment; reopening with it is a change, the holder's (or anyone's while nobody holds it). */
export function checkThreadComment(s: IssueState, cmd: ThreadCommentCmd): void {
  if (cmd.reopen === true && TERMINAL_STATUSES.includes(s.status) && !mayUpdate(s, cmd.actor)) throw notOwner(s, cmd.actor);
}

export function applyThreadComment(s: IssueState, cmd: ThreadCommentCmd, ctx: Ctx): Applied {
  const terminal = TERMINAL_STATUSES.includes(s.status);
  // A human's comment on a closed issue reopens it; an agent's only when it asks (`reopen`).
  const reopen = terminal && (cmd.reopen === true || cmd.actor.kind === 'operator');
  let issue = nextState(s, ctx, { ...renewed(s, cmd.actor, ctx), ...(reopen ? { status: 'todo' as const, checkout: null, completedAt: null } : {}) });
  const comment = makeComment(cmd.actor, cmd.body, issue, ctx);
  const activity = [entry(cmd.actor, 'issue.commented', { commentId: comment.id, mentions: cmd.mentions ?? [] }, issue, ctx)];
  // A person answering in the thread instead of on the card: pending questions are moot.
  if (cmd.actor.kind === 'operator') {
    const expired = expireInteractions(issue, (i) => i.payload.supersedeOnUserComment !== false, 'superseded_by_comment', ctx, { commentId: comment.id });
    issue = expired.issue;
    activity.push(...expired.activity);
  }
  if (reopen) activity.push(entry(cmd.actor, 'issue.reopened', { from: s.status, via: 'comment', commentId: comment.id }, issue, ctx));
  const author = cmd.actor.kind === 'agent' ? cmd.actor.agentId : undefined;
  const label = issue.identifier ?? issue.id;
  const effects: Effect[] = [];
  const assignee = issue.assigneeAgentId;
  if (assignee && assignee !== author) {
    const reason = reopen ? 'issue_reopened_via_comment' : 'issue_commented';
    effects.push({ kind: 'wake', id: ctx.newId(), agentId: assignee, reason, summary: `${reopen ? 'Reopened' : 'New comment'} on ${label}: ${cmd.body.slice(0, 200)}`, commentId: comment.id });
  }
  for (const agentId of new Set(cmd.mentions ?? [])) {
    if (agentId === author) continue;
    effects.push({ kind: 'wake', id: ctx.newId(), agentId, reason: 'issue_comment_mentioned', summary: `Mentioned on ${label}: ${cmd.body.slice(0, 200)}`, commentId: comment.id });
  }
  return { write: { issue, comments: [comment], activity }, effects };
}
