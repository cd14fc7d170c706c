/**
 * Breaking a task down (seed 000's delegation, issue 13 §6): whether the parent admits one more
 * child. The parent's workflow decides, in an Update's validator, so the answer is read from the
 * state the workflow holds — a plan revision committed a moment earlier is seen, never a read model
 * that has not caught up.
 */
import { isPlanTarget, planApproved } from './collab.js';
import { DomainError } from './errors.js';
import { assertOffered, mayUpdate } from './permissions.js';
import type { Actor, IssueState } from './task.js';

/** Children one task may have (blast radius: its state and every child message stay bounded). */
export const MAX_CHILDREN = 500;

export interface AdmitChildCmd {
  actor: Actor;
  /** The company's `enforcePlanApproval` setting: without it, only the holder rule applies. */
  enforcePlanApproval: boolean;
  /** The id the child will have: admitted children count against the bound until they report in. */
  childId?: string;
}

/** How long an admitted child that has not reported in still counts (its creation failed, most likely). */
export const ADMISSION_HOLD_MS = 10 * 60_000;

/**
 * Forgets admissions that no longer count — the child reported in (it is among the known ones), or
 * was admitted too long ago — and answers how many still do.
 */
export function pendingAdmissions(s: IssueState, admitted: Map<string, number>, now: number): number {
  const known = new Set((s.collab?.children ?? []).map((c) => c.id));
  for (const [id, at] of admitted) if (known.has(id) || now - at >= ADMISSION_HOLD_MS) admitted.delete(id);
  return admitted.size;
}

/** Refuses a child the parent may not take now; answers the plan revision it was admitted under. */
export function checkAdmitChild(s: IssueState, cmd: AdmitChildCmd, pending = 0): { planRevisionId: string | null } {
  const planRevisionId = s.collab?.documents.find((d) => d.key === 'plan')?.revisionId ?? null;
  if (cmd.enforcePlanApproval) {
    assertPlanApproved(s);
    // A subtask is the parent's `delegate` (offered ⇔ accepted).
    assertOffered(s, cmd.actor, 'delegate');
  } else if (!mayUpdate(s, cmd.actor)) {
    assertOffered(s, cmd.actor, 'update');
  }
  const children = (s.collab?.children.length ?? 0) + pending;
  if (children >= MAX_CHILDREN) {
    throw new DomainError('limit_exceeded', `A task has at most ${MAX_CHILDREN} children: group the work under intermediate tasks`, { issueId: s.id, limit: MAX_CHILDREN });
  }
  return { planRevisionId };
}

/**
 * A task with a plan is broken down only once the board accepted the plan as it stands: a pending,
 * withdrawn, superseded or rejected confirmation, or a newer revision, leaves it unapproved. A task
 * without a plan document has no gate.
 */
export function assertPlanApproved(s: IssueState): void {
  if (planApproved(s.collab) !== false) return;
  const pending = (s.collab?.interactions ?? []).find((i) => i.status === 'pending' && isPlanTarget(i));
  throw new DomainError('plan_not_approved', pending
    ? 'The parent issue\'s plan is waiting for its confirmation: create subtasks once it is accepted'
    : 'The parent issue\'s plan (as it stands now) has not been accepted: request a confirmation of its latest revision', {
    parentId: s.id, interactionId: pending?.id ?? null, planRevisionId: s.collab?.documents.find((d) => d.key === 'plan')?.revisionId ?? null,
  });
}
