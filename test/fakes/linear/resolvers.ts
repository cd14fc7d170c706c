/**
 * The fake's GraphQL resolvers over Linear's SDL. Relations and computed fields are resolved here; plain
 * fields come straight off the model. A non-null field the model does not hold gets a sensible value by
 * its type (the SDK's fragments ask for dozens of such scalars); a non-null object, or any root field,
 * the fake does not model is a GraphQL error naming it (recorded as a violation), never a silent null.
 */
import { isEnumType, isListType, isNonNullType, isScalarType, type GraphQLFieldResolver } from 'graphql';
import { inputError, type FakeLinear } from './fake.js';
import type { FakeComment, FakeIssue, FakeLabel, FakeState, FakeTeam, FakeUser } from './model.js';
import { PRIORITY_LABELS } from './model.js';
import { COMMENT, ISSUE, LABEL, STATE, TEAM, USER, connection, matches, notModelled, type ConnectionArgs, type Spec } from './query.js';

export interface Ctx {
  fake: FakeLinear;
  viewer: FakeUser;
}

type ListArgs = ConnectionArgs & { filter?: Record<string, unknown> | null; includeArchived?: boolean | null };

function list<T extends { id: string; createdAt: string; updatedAt: string }>(items: Iterable<T>, args: ListArgs, spec: Spec, fake: FakeLinear) {
  const archived = (x: T) => (x as { archivedAt?: string | null }).archivedAt;
  return connection([...items].filter((x) => (args.includeArchived || !archived(x)) && matches(args.filter, x, spec, fake)), args);
}

const notFound = (type: string) => inputError(`Entity not found: ${type} - Could not find referenced ${type}.`);

function must<T>(value: T | undefined | null, type: string): T {
  if (value === undefined || value === null) throw notFound(type);
  return value;
}

/** Only these input fields are modelled; anything else set is an error rather than silently dropped. */
function onlyInputs(input: Record<string, unknown>, allowed: string[], where: string): void {
  const extra = Object.keys(input).filter((k) => input[k] !== undefined && input[k] !== null && !allowed.includes(k));
  if (extra.length) throw notModelled(`${where} input ${extra.join(', ')}`);
}

const teamOf = (fake: FakeLinear, idOrKey: string) => fake.teams.get(idOrKey) ?? fake.teamByKey(idOrKey);

export const resolvers = {
  Query: {
    viewer: (_: unknown, __: unknown, { viewer }: Ctx) => viewer,
    organization: (_: unknown, __: unknown, { fake }: Ctx) => fake.organization,
    users: (_: unknown, args: ListArgs, { fake }: Ctx) => list(fake.users.values(), args, USER, fake),
    user: (_: unknown, { id }: { id: string }, { fake }: Ctx) => must(fake.users.get(id), 'User'),
    teams: (_: unknown, args: ListArgs, { fake }: Ctx) => list(fake.teams.values(), args, TEAM, fake),
    team: (_: unknown, { id }: { id: string }, { fake }: Ctx) => must(teamOf(fake, id), 'Team'),
    workflowStates: (_: unknown, args: ListArgs, { fake }: Ctx) => list(fake.states.values(), args, STATE, fake),
    workflowState: (_: unknown, { id }: { id: string }, { fake }: Ctx) => must(fake.states.get(id), 'WorkflowState'),
    issueLabels: (_: unknown, args: ListArgs, { fake }: Ctx) => list(fake.labels.values(), args, LABEL, fake),
    issueLabel: (_: unknown, { id }: { id: string }, { fake }: Ctx) => must(fake.labels.get(id), 'IssueLabel'),
    issues: (_: unknown, args: ListArgs, { fake }: Ctx) => list(fake.issues.values(), args, ISSUE, fake),
    issue: (_: unknown, { id }: { id: string }, { fake }: Ctx) => must(fake.issue(id), 'Issue'),
    comments: (_: unknown, args: ListArgs, { fake }: Ctx) => list(fake.commentsById.values(), args, COMMENT, fake),
    comment: (_: unknown, { id }: { id?: string }, { fake }: Ctx) => must(id ? fake.commentsById.get(id) : undefined, 'Comment'),
  },
  Mutation: {
    commentCreate: async (_: unknown, { input }: { input: Record<string, any> }, { fake, viewer }: Ctx) => {
      onlyInputs(input, ['body', 'issueId'], 'commentCreate');
      if (!input.issueId) throw notModelled('commentCreate without issueId (project and document comments)');
      const comment = await fake.addComment(input.issueId, { body: String(input.body ?? ''), userId: viewer.id });
      return { success: true, lastSyncId: fake.lastSyncId, comment };
    },
    issueUpdate: async (_: unknown, { id, input }: { id: string; input: Record<string, any> }, { fake, viewer }: Ctx) => {
      onlyInputs(input, ['title', 'description', 'priority', 'stateId', 'labelIds', 'addedLabelIds', 'removedLabelIds', 'teamId'], 'issueUpdate');
      const issue = must(fake.issue(id), 'Issue');
      let labelIds: string[] | undefined = input.labelIds ?? undefined;
      if (input.addedLabelIds || input.removedLabelIds) labelIds = [...new Set([...(labelIds ?? issue.labelIds), ...(input.addedLabelIds ?? [])])].filter((l) => !(input.removedLabelIds ?? []).includes(l));
      const updated = await fake.updateIssue(issue.id, { title: input.title ?? undefined, description: input.description, priority: input.priority ?? undefined, stateId: input.stateId ?? undefined, labelIds, teamId: input.teamId ?? undefined }, viewer.id);
      return { success: true, lastSyncId: fake.lastSyncId, issue: updated };
    },
  },
  Organization: {
    teams: (_: unknown, args: ListArgs, { fake }: Ctx) => list(fake.teams.values(), args, TEAM, fake),
    users: (_: unknown, args: ListArgs, { fake }: Ctx) => list(fake.users.values(), args, USER, fake),
    labels: (_: unknown, args: ListArgs, { fake }: Ctx) => list([...fake.labels.values()].filter((l) => !l.teamId), args, LABEL, fake),
    userCount: (_: unknown, __: unknown, { fake }: Ctx) => fake.users.size,
  },
  User: {
    url: (u: FakeUser, _: unknown, { fake }: Ctx) => fake.userUrl(u),
    isMe: (u: FakeUser, _: unknown, { viewer }: Ctx) => u.id === viewer.id,
    initials: (u: FakeUser) => u.name.split(/\s+/).map((w) => w[0] ?? '').join('').slice(0, 2).toUpperCase(),
    avatarBackgroundColor: () => '#5e6ad2',
    isAssignable: (u: FakeUser) => u.active,
    isMentionable: (u: FakeUser) => u.active,
    organization: (_: FakeUser, __: unknown, { fake }: Ctx) => fake.organization,
  },
  Team: {
    displayName: (t: FakeTeam) => t.name,
    timezone: () => 'Etc/UTC',
    organization: (_: FakeTeam, __: unknown, { fake }: Ctx) => fake.organization,
    states: (t: FakeTeam, args: ListArgs, { fake }: Ctx) => list(fake.teamStates(t.id), args, STATE, fake),
    labels: (t: FakeTeam, args: ListArgs, { fake }: Ctx) => list([...fake.labels.values()].filter((l) => l.teamId === t.id || !l.teamId), args, LABEL, fake),
    issues: (t: FakeTeam, args: ListArgs, { fake }: Ctx) => list([...fake.issues.values()].filter((i) => i.teamId === t.id), args, ISSUE, fake),
    issueCount: (t: FakeTeam, _: unknown, { fake }: Ctx) => [...fake.issues.values()].filter((i) => i.teamId === t.id && !i.archivedAt).length,
    defaultIssueState: (t: FakeTeam, _: unknown, { fake }: Ctx) => fake.teamStates(t.id).find((s) => s.type === 'unstarted') ?? null,
    triageIssueState: (t: FakeTeam, _: unknown, { fake }: Ctx) => fake.teamStates(t.id).find((s) => s.type === 'triage') ?? null,
    triageEnabled: () => true,
    issueEstimationType: () => 'notUsed',
    setIssueSortOrderOnStateChange: () => 'default',
  },
  WorkflowState: {
    team: (s: FakeState, _: unknown, { fake }: Ctx) => fake.teams.get(s.teamId),
    issues: (s: FakeState, args: ListArgs, { fake }: Ctx) => list([...fake.issues.values()].filter((i) => i.stateId === s.id), args, ISSUE, fake),
  },
  IssueLabel: {
    team: (l: FakeLabel, _: unknown, { fake }: Ctx) => (l.teamId ? fake.teams.get(l.teamId) : null),
    organization: (_: FakeLabel, __: unknown, { fake }: Ctx) => fake.organization,
  },
  Issue: {
    identifier: (i: FakeIssue, _: unknown, { fake }: Ctx) => fake.identifier(i),
    url: (i: FakeIssue, _: unknown, { fake }: Ctx) => fake.url(i),
    branchName: (i: FakeIssue, _: unknown, { fake }: Ctx) => `${fake.identifier(i).toLowerCase()}`,
    priorityLabel: (i: FakeIssue) => PRIORITY_LABELS[i.priority] ?? 'No priority',
    prioritySortOrder: (i: FakeIssue) => i.priority || 5,
    boardOrder: (i: FakeIssue) => i.sortOrder,
    team: (i: FakeIssue, _: unknown, { fake }: Ctx) => fake.teams.get(i.teamId),
    state: (i: FakeIssue, _: unknown, { fake }: Ctx) => fake.states.get(i.stateId),
    creator: (i: FakeIssue, _: unknown, { fake }: Ctx) => (i.creatorId ? fake.users.get(i.creatorId) : null),
    trashed: (i: FakeIssue) => (i.archivedAt ? true : null),
    reactions: () => [],
    sharedAccess: () => ({ disallowedIssueFields: [], isShared: false, sharedWithCount: 0, sharedWithUsers: [], viewerHasOnlySharedAccess: false }),
    labels: (i: FakeIssue, args: ListArgs, { fake }: Ctx) => list(i.labelIds.map((id) => fake.labels.get(id)!), args, LABEL, fake),
    comments: (i: FakeIssue, args: ListArgs, { fake }: Ctx) => list(fake.comments(i.id), args, COMMENT, fake),
  },
  Comment: {
    issue: (c: FakeComment, _: unknown, { fake }: Ctx) => fake.issues.get(c.issueId),
    user: (c: FakeComment, _: unknown, { fake }: Ctx) => (c.userId ? fake.users.get(c.userId) : null),
    url: (c: FakeComment, _: unknown, { fake }: Ctx) => `${fake.url(fake.issues.get(c.issueId)!)}#comment-${c.id.slice(0, 8)}`,
    bodyData: (c: FakeComment) => JSON.stringify({ type: 'doc', content: [{ type: 'paragraph', content: [{ type: 'text', text: c.body }] }] }),
  },
};

/** Plain fields off the model; otherwise a value by type for non-null scalars, enums and lists, else an error naming the field. */
export const fallbackResolver: GraphQLFieldResolver<any, Ctx> = (source, _args, _ctx, info) => {
  const where = `${info.parentType.name}.${info.fieldName}`;
  if (info.parentType.name === 'Query' || info.parentType.name === 'Mutation') throw notModelled(`operation ${where}`);
  const value = source?.[info.fieldName];
  if (value !== undefined) return value;
  if (!isNonNullType(info.returnType)) return null;
  const type = info.returnType.ofType;
  if (isListType(type)) return [];
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isScalarType(type)) {
    switch (type.name) {
      case 'String': return '';
      case 'Boolean': return false;
      case 'Int':
      case 'Float': return 0;
      case 'DateTime': return source?.createdAt ?? new Date(0).toISOString();
      case 'TimelessDate': return '1970-01-01';
      case 'JSON':
      case 'JSONObject': return {};
    }
  }
  throw notModelled(`field ${where} (${String(info.returnType)})`);
};
