/**
 * Linear as an intake provider: issues of one team changed since a cursor, comments and state changes
 * back on them, plus the single calls the API routes make. Every read is one GraphQL request with the
 * fields we need (the SDK's lazy models would make one request per issue per relation).
 */
import type { LinearClient } from '@linear/sdk';
import { DomainError } from '../../domain/errors.js';
import { upstreamOpenClosed } from '../../domain/linear.js';
import { ProviderRefusal, type Candidate, type IntakePort, type UpstreamRef, type UpstreamStateChange } from '../providers/ports.js';
import { linearClient, withLinear, type WithLinearOptions } from './client.js';

const ISSUE_FIELDS = `id identifier number title description priority url createdAt updatedAt
  state { id name type } team { id key name } labels(first: 100) { nodes { name } }`;

const ISSUES_QUERY = `query SwitchyardLinearIssues($filter: IssueFilter, $first: Int, $after: String) {
  issues(filter: $filter, first: $first, after: $after, orderBy: updatedAt) {
    nodes { ${ISSUE_FIELDS} }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** The labels a task keeps of a Linear issue (what one poll page of `labels(first: 100)` reads). */
export const MAX_LABELS = 100;

export interface LinearIssueFields {
  id: string;
  identifier: string;
  number: number;
  title: string;
  description?: string | null;
  priority?: number | null;
  url: string;
  updatedAt: string;
  state?: { id: string; name: string; type: string } | null;
  team?: { id: string; key: string; name?: string } | null;
  /** The query's `{nodes:[{name}]}` or a webhook's `[{name}]`. */
  labels?: { nodes: Array<{ name: string }> } | Array<{ name: string }> | null;
}

export interface LinearIssue extends Candidate {
  id: string;
  team: { id: string; key: string; name: string } | null;
}

/** One mapping for polls, webhooks and routes: key `linear:<uuid>`, open/closed from the state's type. */
export function candidateFromLinear(i: LinearIssueFields): Candidate {
  const labels = Array.isArray(i.labels) ? i.labels : (i.labels?.nodes ?? []);
  return {
    key: `linear:${i.id}`,
    number: i.number,
    identifier: i.identifier,
    title: i.title,
    body: i.description ?? null,
    // Sorted: the query and a webhook list labels in different orders, which is no change.
    // At most the 100 a poll reads (`labels(first: 100)`): a webhook carrying thousands would otherwise
    // ride in every signal and state of the task, and flip against the next poll.
    labels: labels.map((l) => l.name).sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }) || (a < b ? -1 : 1)).slice(0, MAX_LABELS),
    state: upstreamOpenClosed(i.state?.type),
    ...(i.state ? { workflowState: { id: i.state.id, name: i.state.name, type: i.state.type } } : {}),
    ...(typeof i.priority === 'number' ? { priority: i.priority } : {}),
    url: i.url,
    updatedAt: i.updatedAt,
  };
}

/**
 * The poll position. `updatedAt`/`ids`: the newest instant fully delivered and the issues delivered at
 * exactly that instant (so equal timestamps are neither lost nor repeated). `sweep`: a pass cut short by
 * the page bound, resumed next call over [updatedAt, upTo]; Linear lists `orderBy: updatedAt` newest
 * first, and the pass is correct in either order (what is unseen lies at or below upTo, or above max).
 */
interface Cursor {
  updatedAt: string | null;
  ids: string[];
  sweep?: { upTo: string; upToIds: string[]; max: string; maxIds: string[] };
}

function parseCursor(raw: string | null): Cursor {
  if (!raw) return { updatedAt: null, ids: [] };
  if (!raw.startsWith('{') && !Number.isNaN(Date.parse(raw))) return { updatedAt: raw, ids: [] };
  try {
    const c = JSON.parse(raw) as Cursor;
    if ((c.updatedAt === null || typeof c.updatedAt === 'string') && Array.isArray(c.ids)) return c;
  } catch {
    // an unreadable cursor starts over: intake is idempotent per key, a lost change is not recoverable
  }
  return { updatedAt: null, ids: [] };
}

const at = (iso: string) => Date.parse(iso);
const same = (a: string | null | undefined, b: string | null | undefined) => !!a && !!b && at(a) === at(b);

/** The latest instant among `items` (and `prior`), with every id seen at it. */
function newest(items: LinearIssueFields[], prior?: { at: string; ids: string[] }): { at: string; ids: string[] } | undefined {
  let best = prior ? { at: prior.at, ids: [...prior.ids] } : undefined;
  for (const i of items) {
    if (!best || at(i.updatedAt) > at(best.at)) best = { at: i.updatedAt, ids: [i.id] };
    else if (same(i.updatedAt, best.at) && !best.ids.includes(i.id)) best.ids.push(i.id);
  }
  return best;
}

export type LinearIntakeConfig = ({ client: LinearClient } | { apiKey: string; apiUrl?: string }) & {
  teamKey: string;
  /** Applied by the caller, as GitHub's `passesLabels`. */
  labels?: { include?: string[]; exclude?: string[] };
  /** State names or types to take in; empty = all. Completed and canceled issues always come back, so closures reach tasks. */
  states?: string[];
  pageSize?: number;
  /** Pages per call; the rest is resumed from the cursor next call. */
  maxPages?: number;
  rateLimit?: WithLinearOptions;
};

export class LinearIntake implements IntakePort {
  readonly client: LinearClient;
  readonly teamKey: string;
  readonly labels: { include?: string[]; exclude?: string[] };
  private readonly states: string[];
  private readonly pageSize: number;
  private readonly maxPages: number;
  private readonly rl: WithLinearOptions;

  constructor(cfg: LinearIntakeConfig) {
    this.client = 'client' in cfg ? cfg.client : linearClient({ apiKey: cfg.apiKey, apiUrl: cfg.apiUrl });
    this.teamKey = cfg.teamKey;
    this.labels = cfg.labels ?? {};
    this.states = (cfg.states ?? []).map((s) => s.toLowerCase());
    this.pageSize = cfg.pageSize ?? 50;
    this.maxPages = cfg.maxPages ?? 10;
    this.rl = cfg.rateLimit ?? {};
  }

  async listChangedSince(cursor: string | null): Promise<{ candidates: Candidate[]; cursor: string | null }> {
    const c = parseCursor(cursor);
    const range: Record<string, string> = {};
    if (c.updatedAt) range.gte = c.updatedAt;
    if (c.sweep) range.lte = c.sweep.upTo;
    const filter = { team: { key: { eq: this.teamKey } }, ...(Object.keys(range).length ? { updatedAt: range } : {}) };
    const seen: LinearIssueFields[] = [];
    let after: string | null = null;
    let truncated = false;
    for (let page = 1; ; page++) {
      const conn: { nodes: LinearIssueFields[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } = (
        await raw<{ issues: { nodes: LinearIssueFields[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>(this.client, ISSUES_QUERY, { filter, first: this.pageSize, after }, this.rl)
      ).issues;
      seen.push(...conn.nodes);
      if (!conn.pageInfo.hasNextPage || !conn.pageInfo.endCursor) break;
      if (page >= this.maxPages) {
        truncated = true;
        break;
      }
      after = conn.pageInfo.endCursor;
    }
    const delivered = (i: LinearIssueFields) => (same(i.updatedAt, c.updatedAt) && c.ids.includes(i.id)) || (!!c.sweep && same(i.updatedAt, c.sweep.upTo) && c.sweep.upToIds.includes(i.id));
    const fresh = [...new Map(seen.filter((i) => !delivered(i)).map((i) => [i.id, i])).values()];
    const max = newest(fresh, c.sweep ? { at: c.sweep.max, ids: c.sweep.maxIds } : undefined);
    let next: Cursor;
    if (truncated && !fresh.length) {
      // Only already-delivered issues within the page bound (more issues at one instant than it holds): stay put rather than skip any.
      next = c;
    } else if (truncated) {
      const lo = fresh.reduce((m, i) => (at(i.updatedAt) < at(m) ? i.updatedAt : m), fresh[0]!.updatedAt);
      const loIds = fresh.filter((i) => same(i.updatedAt, lo)).map((i) => i.id);
      const upToIds = c.sweep && same(c.sweep.upTo, lo) ? [...new Set([...c.sweep.upToIds, ...loIds])] : loIds;
      next = { updatedAt: c.updatedAt, ids: c.ids, sweep: { upTo: lo, upToIds, max: max!.at, maxIds: max!.ids } };
    } else if (max) {
      next = { updatedAt: max.at, ids: same(max.at, c.updatedAt) ? [...new Set([...c.ids, ...max.ids])] : max.ids };
    } else {
      next = { updatedAt: c.updatedAt, ids: c.ids };
    }
    const candidates = fresh
      .filter((i) => this.takes(i))
      .sort((a, b) => at(a.updatedAt) - at(b.updatedAt) || (a.id < b.id ? -1 : 1))
      .map(candidateFromLinear);
    return { candidates, cursor: next.updatedAt || next.sweep ? JSON.stringify(next) : cursor };
  }

  private takes(i: LinearIssueFields): boolean {
    if (!this.states.length || !i.state) return true;
    if (upstreamOpenClosed(i.state.type) === 'closed') return true;
    return this.states.includes(i.state.name.toLowerCase()) || this.states.includes(i.state.type.toLowerCase());
  }

  async comment(ref: UpstreamRef, body: string): Promise<void> {
    await createComment(this.client, issueIdOf(ref), body, this.rl);
  }

  /** closed → the team's first completed state, cancelled → first canceled, open → first started; already there: nothing. */
  async setState(ref: UpstreamRef, state: UpstreamStateChange): Promise<void> {
    const type = { closed: 'completed', cancelled: 'canceled', open: 'started' }[state];
    const issueId = issueIdOf(ref);
    const { issue } = await raw<{ issue: { id: string; state: { type: string }; team: { key: string; states: { nodes: Array<{ id: string; type: string; position: number }> } } } }>(
      this.client,
      `query SwitchyardLinearTeamStates($id: String!) { issue(id: $id) { id state { type } team { key states(first: 100) { nodes { id type position } } } } }`,
      { id: issueId },
      this.rl,
    );
    if (issue.state.type === type) return;
    const target = issue.team.states.nodes.filter((s) => s.type === type).sort((a, b) => a.position - b.position)[0];
    if (!target) throw new ProviderRefusal('validation_error', `Linear team ${issue.team.key} has no ${type} state`, { provider: 'linear', issueId, type });
    await moveToState(this.client, issue.id, target.id, this.rl);
  }
}

function issueIdOf(ref: UpstreamRef): string {
  if (!ref.key.startsWith('linear:')) throw new ProviderRefusal('validation_error', `not a Linear issue key: ${ref.key}`);
  return ref.key.slice('linear:'.length);
}

/** One GraphQL request through the SDK's raw client (errors arrive as the SDK's LinearError classes). */
async function raw<T>(client: LinearClient, query: string, variables: Record<string, unknown>, rl: WithLinearOptions = {}): Promise<T> {
  return withLinear(client, async (c) => {
    const res = await c.client.rawRequest<T, Record<string, unknown>>(query, variables);
    if (!res.data) throw new Error('Linear answered without data');
    return res.data;
  }, rl);
}

export async function createComment(client: LinearClient, issueId: string, body: string, rl?: WithLinearOptions): Promise<{ commentId: string | null; commentUrl: string | null; success: boolean }> {
  const { commentCreate: r } = await raw<{ commentCreate: { success: boolean; comment: { id: string; url: string } | null } }>(
    client,
    `mutation SwitchyardLinearComment($input: CommentCreateInput!) { commentCreate(input: $input) { success comment { id url } } }`,
    { input: { issueId, body } },
    rl,
  );
  if (!r.success) throw new ProviderRefusal('provider_rejected', 'Linear did not create the comment', { provider: 'linear', issueId });
  return { commentId: r.comment?.id ?? null, commentUrl: r.comment?.url ?? null, success: true };
}

/** Moves the issue and reads it back from the mutation's answer. */
export async function moveToState(client: LinearClient, issueId: string, stateId: string, rl?: WithLinearOptions): Promise<{ issueId: string; stateId: string; stateName: string; stateType: string }> {
  const { issueUpdate: r } = await raw<{ issueUpdate: { success: boolean; issue: { id: string; state: { id: string; name: string; type: string } } | null } }>(
    client,
    `mutation SwitchyardLinearMove($id: String!, $input: IssueUpdateInput!) { issueUpdate(id: $id, input: $input) { success issue { id state { id name type } } } }`,
    { id: issueId, input: { stateId } },
    rl,
  );
  if (!r.success || !r.issue) throw new ProviderRefusal('provider_rejected', 'Linear did not update the issue', { provider: 'linear', issueId, stateId });
  return { issueId: r.issue.id, stateId: r.issue.state.id, stateName: r.issue.state.name, stateType: r.issue.state.type };
}

/** A workflow state by id (what a move to it would mean), before anything is moved. */
export async function workflowStateOf(client: LinearClient, stateId: string, rl?: WithLinearOptions): Promise<{ id: string; name: string; type: string }> {
  const { workflowState } = await raw<{ workflowState: { id: string; name: string; type: string } }>(
    client,
    `query SwitchyardLinearState($id: String!) { workflowState(id: $id) { id name type } }`,
    { id: stateId },
    rl,
  );
  return workflowState;
}

/** An issue by uuid or identifier (`ENG-42`, also a former one after a team move). */
export async function fetchIssue(client: LinearClient, idOrIdentifier: string, rl?: WithLinearOptions): Promise<LinearIssue> {
  const { issue } = await raw<{ issue: LinearIssueFields & { team: { id: string; key: string; name: string } } }>(
    client,
    `query SwitchyardLinearIssue($id: String!) { issue(id: $id) { ${ISSUE_FIELDS} } }`,
    { id: idOrIdentifier },
    rl,
  );
  return { ...candidateFromLinear(issue), id: issue.id, team: issue.team ?? null };
}

export async function teamByKey(client: LinearClient, key: string, rl?: WithLinearOptions): Promise<{ id: string; key: string; name: string }> {
  const { teams } = await raw<{ teams: { nodes: Array<{ id: string; key: string; name: string }> } }>(
    client,
    `query SwitchyardLinearTeam($filter: TeamFilter) { teams(filter: $filter, first: 1) { nodes { id key name } } }`,
    { filter: { key: { eq: key } } },
    rl,
  );
  const team = teams.nodes[0];
  if (!team) throw new ProviderRefusal('not_found', `Linear team ${key} not found`, { provider: 'linear', teamKey: key });
  return team;
}

/**
 * The team a new source names, asked of Linear with the source's own key (one call) before it is saved:
 * a refused key or a team the key cannot see is a configuration error, Linear not answering an outage.
 */
/** The user the key acts as: its comments coming back by webhook are Switchyard's own, not a person's. */
async function viewerOf(client: LinearClient): Promise<string | null> {
  const { viewer } = await raw<{ viewer: { id: string } | null }>(client, 'query SwitchyardLinearViewer { viewer { id } }', {}, { maxWaitMs: 0 });
  return viewer?.id ?? null;
}

export async function inspectTeam(given: { apiKey: string; apiUrl?: string | null; teamKey: string }, deadline: number): Promise<{ id: string; key: string; name: string; viewerId: string | null }> {
  const left = Math.max(1, deadline - Date.now() - 500);
  try {
    const client = linearClient({ apiKey: given.apiKey, apiUrl: given.apiUrl ?? undefined, signal: AbortSignal.timeout(left) });
    const [team, viewer] = await Promise.all([teamByKey(client, given.teamKey, { maxWaitMs: 0 }), viewerOf(client)]);
    return { ...team, viewerId: viewer };
  } catch (err) {
    if (err instanceof ProviderRefusal) {
      if (err.code === 'not_found') throw new DomainError('validation_error', `Linear has no team ${given.teamKey} this key can see`, { field: 'teamKey', teamKey: given.teamKey });
      throw new DomainError(err.code, err.message, err.details);
    }
    throw new DomainError('provider_unavailable', `Linear did not answer for team ${given.teamKey}: ${(err as Error).message}`, { teamKey: given.teamKey });
  }
}
