/**
 * What a task knows of its collaborators (issue 8, seed 000): its documents' latest revisions, its
 * confirmations, the issues it waits on and those that wait on it, and its children. It lives in the
 * task's state (so the workflow alone decides it) and is small by design: document bodies and the
 * revision history are in Postgres; resolved confirmations beyond the last few leave the state.
 */
import type { Effect } from './effects.js';
import { TERMINAL_STATUSES, type Status } from './statuses.js';

export interface DocumentRef {
  key: string;
  documentId: string;
  revisionId: string;
  revisionNumber: number;
  title: string | null;
  format: 'markdown';
  createdAt: string;
  updatedAt: string;
  createdByAgentId: string | null;
  createdByUser: string | null;
  updatedByAgentId: string | null;
  updatedByUser: string | null;
}

export type InteractionStatus = 'pending' | 'accepted' | 'rejected' | 'cancelled' | 'expired';
export type ContinuationPolicy = 'none' | 'wake_assignee' | 'wake_assignee_on_accept';
/** Paperclip's two vocabularies: the older board_* names are aliases of human_only and anyone. */
export type ResolverPolicy = 'board_only' | 'board_or_agents' | 'human_only' | 'not_creator' | 'anyone';
export type ExpiryOutcome = 'superseded_by_comment' | 'superseded_by_newer_request' | 'stale_target' | 'issue_closed';
export type Outcome = 'accepted' | 'rejected' | 'withdrawn' | ExpiryOutcome;

export type InteractionTarget =
  | { type: 'issue_document'; key: string; revisionId: string; issueId?: string; documentId?: string; revisionNumber?: number }
  | { type: 'custom'; key: string; revisionId?: string | null };

export interface ConfirmationPayload {
  version: 1;
  prompt: string;
  acceptLabel?: string;
  rejectLabel?: string;
  rejectRequiresReason?: boolean;
  detailsMarkdown?: string;
  supersedeOnUserComment?: boolean;
  target?: InteractionTarget;
}

export interface InteractionResult {
  version: 1;
  outcome: Outcome;
  reason?: string;
  commentId?: string;
  staleTarget?: InteractionTarget;
}

export interface Interaction {
  id: string;
  kind: 'request_confirmation';
  status: InteractionStatus;
  continuationPolicy: ContinuationPolicy;
  requestedResolverPolicy: ResolverPolicy | null;
  effectiveResolverPolicy: 'human_only' | 'not_creator' | 'anyone';
  idempotencyKey: string | null;
  /** Of the request body: the same key with another body is a conflict, not a replay. */
  requestHash: string;
  sourceRunId: string | null;
  title: string | null;
  summary: string | null;
  payload: ConfirmationPayload;
  result: InteractionResult | null;
  createdByAgentId: string | null;
  createdByUser: string | null;
  resolvedByAgentId: string | null;
  resolvedByUser: string | null;
  createdAt: string;
  resolvedAt: string | null;
  /** The issue version of its last change (the read model only moves it forward). */
  version: number;
}

export interface Collab {
  documents: DocumentRef[];
  /** Pending ones, and the last few resolved (older ones stay in the read model only). */
  interactions: Interaction[];
  /** Issues this one waits on; `resolved` once the blocker is done (cancelled is not resolved). */
  blockedBy: Array<{ id: string; resolved: boolean }>;
  /** Issues that wait on this one: told when it becomes done, or stops being done. */
  blocks: string[];
  /** Direct children that told this issue they exist, and whether each is terminal. */
  children: Array<{ id: string; terminal: boolean }>;
  /** The revision of the `plan` document the board last accepted (seed 000's plan approval). */
  approvedPlanRevisionId?: string | null;
}

/** Messages between task workflows (a signal from one to another, never a poll). */
export type CollabMessage =
  | { type: 'child'; childId: string; terminal: boolean }
  | { type: 'blocker'; blockerId: string; status: Status }
  | { type: 'dependent'; dependentId: string; add: boolean };

export const emptyCollab = (): Collab => ({ documents: [], interactions: [], blockedBy: [], blocks: [], children: [] });

/** Limits that keep the state small (it travels in every update's answer). */
export const MAX_DOCUMENTS = 50;
export const MAX_PENDING_INTERACTIONS = 20;
export const KEPT_RESOLVED_INTERACTIONS = 10;
export const MAX_BLOCKERS = 50;
/** Issues that may wait on one issue (its state and every "done" message it sends stay bounded). */
export const MAX_DEPENDENTS = 500;

export const unresolvedBlockers = (c: Collab | null | undefined): string[] => (c?.blockedBy ?? []).filter((b) => !b.resolved).map((b) => b.id);

export const isTerminal = (s: Status) => TERMINAL_STATUSES.includes(s);

/** Resolved interactions past the last few leave the state, oldest first. */
export function trimInteractions(list: Interaction[]): Interaction[] {
  const resolved = list.filter((i) => i.status !== 'pending');
  const drop = new Set(resolved.slice(0, Math.max(0, resolved.length - KEPT_RESOLVED_INTERACTIONS)).map((i) => i.id));
  return list.filter((i) => !drop.has(i.id));
}

/** A wake for the assignee about a resolved confirmation, if its continuation policy asks for one. */
export function continuationWake(i: Interaction, assignee: string | null, label: string, newId: () => string): Effect[] {
  if (!assignee || i.status === 'pending') return [];
  const wanted = i.continuationPolicy === 'wake_assignee' || (i.continuationPolicy === 'wake_assignee_on_accept' && i.status === 'accepted');
  if (!wanted) return [];
  const reason = i.result?.reason;
  return [{
    kind: 'wake',
    id: newId(),
    agentId: assignee,
    reason: 'interaction_resolved',
    summary: `Confirmation on ${label} ${i.status}${reason ? `: ${reason.slice(0, 200)}` : ''}`,
    details: { interactionId: i.id, interactionKind: i.kind, interactionStatus: i.status, outcome: i.result?.outcome ?? null, reason: reason ?? null, planReviewInteraction: isPlanTarget(i) },
  }];
}

export const isPlanTarget = (i: Pick<Interaction, 'payload'>) => i.payload.target?.type === 'issue_document' && i.payload.target.key === 'plan';

/**
 * Whether the issue's plan is approved as it stands: it has a `plan` document and its current revision
 * is the one the board accepted. A new revision, a withdrawn or superseded request, or none at all
 * leaves it unapproved. An issue without a plan document has nothing to approve (null).
 */
export function planApproved(c: Collab | null | undefined): boolean | null {
  const plan = c?.documents.find((d) => d.key === 'plan');
  if (!plan) return null;
  return c?.approvedPlanRevisionId === plan.revisionId;
}
