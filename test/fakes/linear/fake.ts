/**
 * The fake Linear's state and behaviour: one workspace with teams, workflow states, labels, users,
 * issues and comments; every change emits the webhook Linear would. Driven over GraphQL (server.ts,
 * resolvers.ts), over HTTP control routes (control.ts), or directly as a handle in tests.
 */
import { randomUUID } from 'node:crypto';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { LinearHooks, type Violation } from './hooks.js';
import { DEFAULT_STATES, PRIORITY_LABELS, slug, type FakeComment, type FakeIssue, type FakeLabel, type FakeOrganization, type FakeState, type FakeTeam, type FakeUser } from './model.js';

/** Linear's answer to input it refuses (unknown ids included): the SDK reads `type` as InvalidInputLinearError. */
export function inputError(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { type: 'invalid input', code: 'INPUT_ERROR', statusCode: 400, userError: true, userPresentableMessage: message } });
}

export type Injection = { kind: 'ratelimited' | 'auth' | 'server'; times: number; resetInMs?: number; apiKey?: string; resetAt?: number };

export interface RequestRecord {
  at: number;
  apiKey: string | null;
  operationName: string | null;
  query: string;
  variables: Record<string, unknown>;
  status: number;
  outcome: 'ok' | 'errors' | 'invalid' | 'unauthenticated' | 'injected:ratelimited' | 'injected:auth' | 'injected:server';
}

const COLORS = ['#bb87fc', '#4ea7fc', '#f2994a', '#eb5757', '#26b5ce', '#5e6ad2'];

export class FakeLinear {
  readonly organization: FakeOrganization;
  readonly users = new Map<string, FakeUser>();
  readonly teams = new Map<string, FakeTeam>();
  readonly states = new Map<string, FakeState>();
  readonly labels = new Map<string, FakeLabel>();
  readonly issues = new Map<string, FakeIssue>();
  readonly commentsById = new Map<string, FakeComment>();
  /** api key → the user it acts as. */
  readonly apiKeys = new Map<string, string>();
  readonly requests: RequestRecord[] = [];
  /** Documents that break the schema, webhooks that break Linear's payload types, the fake's own bugs. */
  readonly violations: Violation[] = [];
  readonly injected: Injection[] = [];
  readonly hooks: LinearHooks;
  /** Tests may freeze time (two issues with one updatedAt). */
  clock: () => number = Date.now;
  lastSyncId = 1000;

  constructor(readonly schema: GraphQLSchema, opts: { urlKey?: string } = {}) {
    const at = this.now();
    this.organization = { id: randomUUID(), name: 'Fake Linear', urlKey: opts.urlKey ?? 'fake', createdAt: at, updatedAt: at };
    this.hooks = new LinearHooks(schema, this.violations);
  }

  now(): string {
    return new Date(this.clock()).toISOString();
  }

  // ------------------------------------------------------------------ controls

  addApiKey(key = `lin_api_${randomUUID().replace(/-/g, '')}`, userName = 'API User'): string {
    const user = [...this.users.values()].find((u) => u.name === userName) ?? this.createUser({ name: userName });
    this.apiKeys.set(key, user.id);
    return key;
  }

  createUser(input: { name: string; email?: string }): FakeUser {
    const at = this.now();
    const user: FakeUser = { id: randomUUID(), name: input.name, displayName: input.name.split(' ')[0]!.toLowerCase(), email: input.email ?? `${slug(input.name)}@linear.fake`, active: true, admin: false, createdAt: at, updatedAt: at };
    this.users.set(user.id, user);
    return user;
  }

  createTeam(input: { key: string; name: string }): FakeTeam {
    if (this.teamByKey(input.key)) throw inputError(`Team key ${input.key} is already taken`);
    const at = this.now();
    const team: FakeTeam = { id: randomUUID(), key: input.key, name: input.name, createdAt: at, updatedAt: at, nextNumber: 1 };
    this.teams.set(team.id, team);
    DEFAULT_STATES.forEach((s, i) => {
      const state: FakeState = { id: randomUUID(), teamId: team.id, name: s.name, type: s.type, position: i, color: s.color, description: null, createdAt: at, updatedAt: at };
      this.states.set(state.id, state);
    });
    return team;
  }

  async createIssue(input: { teamKey: string; title: string; description?: string; priority?: number; labels?: string[]; stateName?: string; creatorName?: string }): Promise<FakeIssue> {
    const team = this.teamByKey(input.teamKey);
    if (!team) throw inputError(`Team ${input.teamKey} not found`);
    const at = this.now();
    const state = input.stateName ? this.stateByName(team.id, input.stateName) : this.teamStates(team.id).find((s) => s.type === 'unstarted')!;
    const creator = input.creatorName ? ([...this.users.values()].find((u) => u.name === input.creatorName) ?? this.createUser({ name: input.creatorName })) : null;
    const issue: FakeIssue = {
      id: randomUUID(), teamId: team.id, number: team.nextNumber++, identifier: '', url: '', title: input.title, description: input.description ?? null, priority: input.priority ?? 0,
      stateId: state.id, labelIds: (input.labels ?? []).map((name) => this.label(team.id, name).id), creatorId: creator?.id ?? null, previousIdentifiers: [],
      sortOrder: -this.issues.size, createdAt: at, updatedAt: at, startedAt: null, completedAt: null, canceledAt: null, archivedAt: null,
    };
    stampState(issue, state, at);
    this.address(issue);
    this.issues.set(issue.id, issue);
    this.lastSyncId++;
    await this.emitIssue('create', issue, creator?.id ?? null);
    return issue;
  }

  /** An edit as a person or an API call makes it; moving team renumbers the issue (its uuid stays). */
  async updateIssue(idOrIdentifier: string, patch: { title?: string; description?: string | null; priority?: number; labels?: string[]; labelIds?: string[]; stateName?: string; stateId?: string; teamKey?: string; teamId?: string }, actorId: string | null = null): Promise<FakeIssue> {
    const issue = this.issue(idOrIdentifier);
    if (!issue) throw inputError(`Entity not found: Issue - Could not find referenced Issue.`);
    const before = this.issueData(issue);
    const at = this.now();
    const newTeamId = patch.teamId ?? (patch.teamKey ? this.teamByKey(patch.teamKey)?.id : undefined);
    if ((patch.teamId || patch.teamKey) && (!newTeamId || !this.teams.has(newTeamId))) throw inputError('Entity not found: Team - Could not find referenced Team.');
    if (newTeamId && newTeamId !== issue.teamId) {
      const old = this.states.get(issue.stateId)!;
      issue.previousIdentifiers.push(this.identifier(issue));
      issue.teamId = newTeamId;
      issue.number = this.teams.get(newTeamId)!.nextNumber++;
      issue.stateId = (this.teamStates(newTeamId).find((s) => s.name === old.name) ?? this.teamStates(newTeamId).find((s) => s.type === old.type)!).id;
      issue.labelIds = issue.labelIds.filter((id) => this.labels.get(id)?.teamId !== old.teamId);
    }
    if (patch.title !== undefined) issue.title = patch.title;
    if (patch.description !== undefined) issue.description = patch.description;
    if (patch.priority !== undefined) {
      if (!Number.isInteger(patch.priority) || patch.priority < 0 || patch.priority > 4) throw inputError('priority must be between 0 and 4');
      issue.priority = patch.priority;
    }
    if (patch.labels) issue.labelIds = patch.labels.map((name) => this.label(issue.teamId, name).id);
    if (patch.labelIds) {
      if (patch.labelIds.some((id) => !this.labels.has(id))) throw inputError('Entity not found: IssueLabel - Could not find referenced IssueLabel.');
      issue.labelIds = [...patch.labelIds];
    }
    const state = patch.stateId ? this.states.get(patch.stateId) : patch.stateName ? this.stateByName(issue.teamId, patch.stateName) : undefined;
    if (patch.stateId && (!state || state.teamId !== issue.teamId)) throw inputError('Entity not found: WorkflowState - Could not find referenced WorkflowState.');
    if (state && state.id !== issue.stateId) {
      issue.stateId = state.id;
      stampState(issue, state, at);
    }
    issue.updatedAt = at;
    this.address(issue);
    this.lastSyncId++;
    const after = this.issueData(issue);
    const updatedFrom = Object.fromEntries(Object.keys(before).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]) && k !== 'state' && k !== 'labels' && k !== 'team').map((k) => [k, before[k]]));
    await this.emitIssue('update', issue, actorId, updatedFrom);
    return issue;
  }

  /** Deleting an issue (it goes to the trash): Linear sends Issue `remove`. */
  async removeIssue(idOrIdentifier: string): Promise<FakeIssue> {
    const issue = this.issue(idOrIdentifier);
    if (!issue) throw inputError('Entity not found: Issue - Could not find referenced Issue.');
    issue.archivedAt = this.now();
    this.lastSyncId++;
    await this.emitIssue('remove', issue, null);
    return issue;
  }

  async addComment(issueId: string, input: { body: string; userName?: string; userId?: string }): Promise<FakeComment> {
    const issue = this.issue(issueId);
    if (!issue) throw inputError('Entity not found: Issue - Could not find referenced Issue.');
    if (!input.body.trim()) throw inputError('Comment body cannot be empty');
    const user = input.userId ? this.users.get(input.userId) : input.userName ? ([...this.users.values()].find((u) => u.name === input.userName) ?? this.createUser({ name: input.userName })) : undefined;
    const at = this.now();
    const comment: FakeComment = { id: randomUUID(), issueId: issue.id, body: input.body, userId: user?.id ?? null, createdAt: at, updatedAt: at };
    this.commentsById.set(comment.id, comment);
    this.lastSyncId++;
    const data = {
      id: comment.id, body: comment.body, createdAt: at, updatedAt: at, reactionData: {}, issueId: issue.id, userId: comment.userId,
      issue: { id: issue.id, identifier: this.identifier(issue), title: issue.title, url: this.url(issue), teamId: issue.teamId, team: this.teamData(issue.teamId) },
      ...(user ? { user: this.userData(user) } : {}),
    };
    await this.hooks.emit('Comment', this.envelope('create', 'Comment', data, `${this.url(issue)}#comment-${comment.id.slice(0, 8)}`, comment.userId), this.teams.get(issue.teamId)!.key);
    return comment;
  }

  subscribe(input: { url: string; secret: string; teamKey?: string }) {
    return this.hooks.subscribe(input);
  }

  redeliver(deliveryId: string) {
    return this.hooks.redeliver(deliveryId);
  }

  /** The next `times` requests (of `apiKey`, or any) fail as Linear would: rate limited, unauthenticated, or a 500. */
  inject(i: Omit<Injection, 'resetAt'>): void {
    this.injected.push({ ...i });
  }

  // ------------------------------------------------------------------ lookups

  issue(idOrIdentifier: string): FakeIssue | undefined {
    const direct = this.issues.get(idOrIdentifier);
    if (direct) return direct;
    const wanted = idOrIdentifier.toUpperCase();
    return [...this.issues.values()].find((i) => this.identifier(i) === wanted || i.previousIdentifiers.includes(wanted));
  }

  comments(issueId: string): FakeComment[] {
    const issue = this.issue(issueId);
    return [...this.commentsById.values()].filter((c) => c.issueId === issue?.id);
  }

  teamByKey(key: string): FakeTeam | undefined {
    return [...this.teams.values()].find((t) => t.key.toLowerCase() === key.toLowerCase());
  }

  teamStates(teamId: string): FakeState[] {
    return [...this.states.values()].filter((s) => s.teamId === teamId).sort((a, b) => a.position - b.position);
  }

  stateByName(teamId: string, name: string): FakeState {
    const state = this.teamStates(teamId).find((s) => s.name.toLowerCase() === name.toLowerCase());
    if (!state) throw inputError(`No workflow state named ${name} in team ${this.teams.get(teamId)?.key}`);
    return state;
  }

  /** A team's label by name, created on first use (Linear's UI does the same when you type a new one). */
  label(teamId: string, name: string): FakeLabel {
    const found = [...this.labels.values()].find((l) => l.name.toLowerCase() === name.toLowerCase() && (l.teamId === teamId || l.teamId === null));
    if (found) return found;
    const at = this.now();
    const label: FakeLabel = { id: randomUUID(), name, color: COLORS[this.labels.size % COLORS.length]!, teamId, createdAt: at, updatedAt: at };
    this.labels.set(label.id, label);
    return label;
  }

  private address(issue: FakeIssue): void {
    issue.identifier = this.identifier(issue);
    issue.url = this.url(issue);
  }

  identifier(issue: FakeIssue): string {
    return `${this.teams.get(issue.teamId)!.key}-${issue.number}`;
  }

  url(issue: FakeIssue): string {
    return `http://linear.fake/${this.organization.urlKey}/issue/${this.identifier(issue)}/${slug(issue.title)}`;
  }

  userUrl(user: FakeUser): string {
    return `http://linear.fake/${this.organization.urlKey}/profiles/${user.displayName}`;
  }

  // ------------------------------------------------------------------ webhook bodies (IssueWebhookPayload, CommentWebhookPayload)

  private teamData(teamId: string) {
    const t = this.teams.get(teamId)!;
    return { id: t.id, key: t.key, name: t.name };
  }

  private userData(u: FakeUser) {
    return { id: u.id, name: u.name, email: u.email, url: this.userUrl(u) };
  }

  issueData(issue: FakeIssue): Record<string, unknown> {
    const state = this.states.get(issue.stateId)!;
    const labels = issue.labelIds.map((id) => this.labels.get(id)!);
    return {
      id: issue.id, createdAt: issue.createdAt, updatedAt: issue.updatedAt, archivedAt: issue.archivedAt, number: issue.number, title: issue.title, description: issue.description,
      priority: issue.priority, priorityLabel: PRIORITY_LABELS[issue.priority] ?? 'No priority', prioritySortOrder: issue.priority || 5, sortOrder: issue.sortOrder,
      identifier: this.identifier(issue), url: this.url(issue), teamId: issue.teamId, team: this.teamData(issue.teamId), stateId: state.id,
      state: { id: state.id, name: state.name, type: state.type, color: state.color }, labelIds: [...issue.labelIds], labels: labels.map((l) => ({ id: l.id, name: l.name, color: l.color })),
      previousIdentifiers: [...issue.previousIdentifiers], subscriberIds: issue.creatorId ? [issue.creatorId] : [], creatorId: issue.creatorId, reactionData: {},
      startedAt: issue.startedAt, completedAt: issue.completedAt, canceledAt: issue.canceledAt,
    };
  }

  private async emitIssue(action: 'create' | 'update' | 'remove', issue: FakeIssue, actorId: string | null, updatedFrom?: Record<string, unknown>): Promise<void> {
    const envelope = this.envelope(action, 'Issue', this.issueData(issue), this.url(issue), actorId);
    await this.hooks.emit('Issue', updatedFrom ? { ...envelope, updatedFrom } : envelope, this.teams.get(issue.teamId)!.key);
  }

  private envelope(action: string, type: string, data: Record<string, unknown>, url: string, actorId: string | null) {
    const actor = actorId ? this.users.get(actorId) : undefined;
    return { action, type, createdAt: this.now(), organizationId: this.organization.id, url, data, ...(actor ? { actor: { ...this.userData(actor), type: 'user' } } : {}) };
  }
}

function stampState(issue: FakeIssue, state: FakeState, at: string): void {
  if (state.type === 'started' && !issue.startedAt) issue.startedAt = at;
  issue.completedAt = state.type === 'completed' ? at : null;
  issue.canceledAt = state.type === 'canceled' ? at : null;
}
