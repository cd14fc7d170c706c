/** The task's state and the actors that change it: plain JSON, so it crosses Temporal and continue-as-new intact. */
import type { Collab } from './collab.js';
import type { Lifecycle } from './lifecycle.js';
import type { Priority, Status } from './statuses.js';

/**
 * Who made a change: an agent (its key), an operator (the board key, or a Temporal identity), or
 * Switchyard itself (lease expiry, intake, routing, provider events), named by what acted.
 */
export interface Actor {
  kind: 'agent' | 'operator' | 'system';
  /** Set when kind is agent. */
  agentId?: string;
  /** Set when kind is operator ("board"), or the part of the system that acted ("lease", "intake", …). */
  user?: string;
  runId?: string | null;
}

export const systemActor = (part: string, runId: string | null = null): Actor => ({ kind: 'system', user: part, runId });

export interface Checkout {
  agentId: string;
  runId: string | null;
  leaseSeconds: number;
  leaseExpiresAt: string;
  checkedOutAt: string;
}

export interface IssueState {
  id: string;
  companyId: string;
  title: string;
  description: string | null;
  /**
   * The version at which the description last changed. The description is the one large field of the
   * state (up to 64 KiB): update results and read-model writes carry it only when it changed, so a
   * heartbeat costs a few hundred bytes of history whatever the description's size.
   */
  descriptionVersion: number;
  status: Status;
  priority: Priority;
  assigneeAgentId: string | null;
  parentId: string | null;
  goalId: string | null;
  checkout: Checkout | null;
  /** Bumped on every change; the read model only ever moves forward by it. */
  version: number;
  /** Lease expiries since the owner last showed life; reaching the limit pauses the task. */
  expiryStreak: number;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  completedAt: string | null;
  /** Company prefix and number (`ACME-12`); tasks created before identifiers existed have none. */
  identifier?: string | null;
  /** Source, routing and delivery (domain/lifecycle.ts); absent on tasks created before the delivery pipeline. */
  lifecycle?: Lifecycle | null;
  /** Who created it (an agent, or a person by name); absent on tasks created before it was recorded and on intake's. */
  createdBy?: { agentId: string | null; user: string | null } | null;
  /** Documents, confirmations, blockers and children (domain/collab.ts); absent on tasks created before them. */
  collab?: Collab;
}

export interface NewComment {
  id: string;
  body: string;
  authorAgentId: string | null;
  authorUser: string | null;
  runId: string | null;
  createdAt: string;
  /** The issue version that added it: the read model drops entries of a version the workflow did not keep. */
  version: number;
}

export interface ActivityEntry {
  id: string;
  action: string;
  actorAgentId: string | null;
  actorUser: string | null;
  runId: string | null;
  details: Record<string, unknown>;
  createdAt: string;
  version: number;
}

/** One change to persist: the issue snapshot plus what it adds, written in one transaction. */
export interface IssueWrite {
  issue: IssueState;
  comments: NewComment[];
  activity: ActivityEntry[];
}

/** A person of an upstream tracker, speaking through Switchyard (`linear:<name>`): shown as that person, with no rights here. */
export function upstreamPerson(actor: Actor): string | null {
  return actor.kind === 'system' && actor.user?.startsWith('linear:') ? actor.user : null;
}

export function actorLabel(actor: Actor): { actorAgentId: string | null; actorUser: string | null } {
  return actor.kind === 'agent'
    ? { actorAgentId: actor.agentId ?? null, actorUser: null }
    : { actorAgentId: null, actorUser: actor.kind === 'system' ? (upstreamPerson(actor) ?? 'system') : (actor.user ?? 'operator') };
}

export function isOwner(state: IssueState, actor: Actor): boolean {
  return actor.kind === 'agent' && state.checkout !== null && state.checkout.agentId === actor.agentId;
}
