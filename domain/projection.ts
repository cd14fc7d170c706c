/**
 * What the read model is written from. Every write is one durable decision of the workflow (or the
 * latest state plus everything added since the last write), so two writes of the same version are
 * the same decision — unless history was rewritten (a Reset in the Web UI, a server that lost its
 * last commits), which the fingerprint shows.
 */
import type { TaskEvent } from './events.js';
import type { ActivityEntry, IssueState, NewComment } from './task.js';

/** The issue as written: `description` is left out when the writer knows the reader already has it. */
export type IssueSnapshot = Omit<IssueState, 'description'> & { description?: string | null };

/** The workflow's lifecycle as the read model shows it; a closed workflow takes no more changes. */
export type WorkflowStatus = 'running' | 'canceled' | 'terminated' | 'completed' | 'failed' | 'timed_out';

export interface ProjectionWrite {
  issue: IssueSnapshot;
  /** Of the whole state, description included. */
  fingerprint: string;
  comments: NewComment[];
  activity: ActivityEntry[];
  /** Task events of the decisions this write covers: added to the event log once each, whatever became of the row. */
  events?: TaskEvent[];
  /** Ids of the entries the workflow made at `issue.version`: a row of that version being replaced keeps only these. */
  keep: string[];
  /**
   * The write carries every entry the workflow made in versions (coversFrom, issue.version]: any other
   * entry of those versions came from history the workflow no longer has (a Reset that re-ran updates)
   * and is removed. Only the workflow's own projection knows this; the API's copy leaves it out.
   */
  coversFrom?: number;
  workflowStatus: WorkflowStatus;
  /** Replace the row even when it claims a later version (it came from history the workflow no longer has). */
  force?: boolean;
}

/** What applying a write did, and what the row holds afterwards (null: there is no row). */
export interface ProjectionOutcome {
  /**
   * applied: the row now holds this write's state · current: it held exactly this state already ·
   * stale: it holds a later version (the write's entries are added anyway) · needs_snapshot: the
   * write lacks the description and the row's is not the one it assumes.
   */
  outcome: 'applied' | 'current' | 'stale' | 'needs_snapshot';
  version: number | null;
  fingerprint: string | null;
}

export function snapshotOf(state: IssueState, withDescription: boolean): IssueSnapshot {
  if (withDescription) return { ...state };
  const { description: _omitted, ...rest } = state;
  return rest;
}

/** cyrb53: a fast 53-bit string hash (pure, deterministic: usable in workflow code). */
export function cyrb53(text: string, seed = 0): string {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

const FIELDS: Array<keyof IssueState> = [
  'id', 'companyId', 'title', 'descriptionVersion', 'status', 'priority', 'assigneeAgentId', 'parentId',
  'goalId', 'checkout', 'version', 'expiryStreak', 'createdAt', 'updatedAt', 'startedAt', 'completedAt',
];

// The description (up to 64 KiB) rarely changes while every update fingerprints the state: hash it
// once per text. Starts empty (undefined, never a description): a null description hashes the same
// whatever came before.
let lastDescription: string | null | undefined;
let lastDescriptionHash = '';

/**
 * Workflow runs recorded before the fix (no `pure-fingerprint-v1` marker) hashed a null description as
 * the empty string until any other description was hashed in that run; their histories hold those
 * fingerprints, so they replay with that memo (workflow globals are per run).
 */
let legacyMemo = false;
export function useLegacyDescriptionHash(on: boolean): void {
  legacyMemo = on;
  if (on) {
    lastDescription = null;
    lastDescriptionHash = cyrb53('', 1);
  } else {
    lastDescription = undefined;
  }
}

function descriptionHash(description: string | null): string {
  if ((!legacyMemo && lastDescription === undefined) || description !== lastDescription) {
    lastDescription = description;
    lastDescriptionHash = cyrb53(description ?? '\u0000null', 1);
  }
  return lastDescriptionHash;
}

/** Two states with the same fingerprint are the same state. */
export function fingerprintOf(state: IssueState): string {
  const c = state.checkout;
  const checkout = c ? [c.agentId, c.runId, c.leaseSeconds, c.leaseExpiresAt, c.checkedOutAt] : null;
  const core = cyrb53(JSON.stringify(FIELDS.map((f) => (f === 'checkout' ? checkout : (state[f] ?? null)))));
  // Tasks without identifier and lifecycle keep the fingerprint they had before the delivery pipeline,
  // and tasks without collaboration state the one they had before it.
  const delivery = state.identifier || state.lifecycle || state.collab
    ? cyrb53(JSON.stringify([state.identifier ?? null, state.lifecycle ?? null, ...(state.collab ? [state.collab] : [])]))
    : '';
  return `${core}${descriptionHash(state.description)}${delivery}`;
}
