/** Request bodies and queries. Strict: an unknown field is an error, not silently dropped. */
import { z } from 'zod';
import { CREATABLE_STATUSES, PRIORITIES, STATUSES } from '../domain/statuses.js';
import { DomainError } from '../domain/errors.js';
import { MAX_LEASE_SECONDS } from '../domain/leases.js';

/** Comments and descriptions: at most 64 KiB each, counted in UTF-8 bytes as stored. */
export const MAX_COMMENT_BYTES = 64 * 1024;
export const MAX_DESCRIPTION_BYTES = 64 * 1024;

const id = z.string().uuid();
const text = (max: number) => z.string().max(max);
/** A name or title: something a person can read, not only whitespace. */
const label = (max: number) => text(max).refine((s) => s.trim() !== '', 'must not be empty or only whitespace');
const comment = z.string();
const description = z.string().refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_DESCRIPTION_BYTES, `must be at most ${MAX_DESCRIPTION_BYTES} bytes (UTF-8)`);

export const companySettings = z.strictObject({
  requireDeliverable: z.boolean().optional(),
  /** Subtasks of an issue wait for its pending plan confirmation (issue 8 §4); default true. */
  enforcePlanApproval: z.boolean().optional(),
  defaultLeaseSeconds: z.number().int().optional(),
});
export type CompanySettings = z.infer<typeof companySettings>;

export const createCompany = z.strictObject({
  name: label(200),
  settings: companySettings.optional(),
  /** Prefix of the company's task identifiers (`ACME` in `ACME-12`); derived from the name when left out. */
  issuePrefix: z.string().regex(/^[A-Z][A-Z0-9]{0,9}$/, 'must be 1-10 capital letters or digits, starting with a letter').optional(),
});
export const patchCompany = z.strictObject({ name: label(200).optional(), settings: companySettings.optional() });
export const createAgent = z.strictObject({ name: label(200), role: text(100).optional() });

export const createIssue = z.strictObject({
  title: label(500),
  description: description.nullable().optional(),
  status: z.enum(CREATABLE_STATUSES).optional(),
  priority: z.enum(PRIORITIES).optional(),
  assigneeAgentId: id.nullable().optional(),
  parentId: id.nullable().optional(),
  goalId: id.nullable().optional(),
  /** Paperclip's clients send the key in the body: a replay answers 200 with the issue and `deduplicated: true`. */
  idempotencyKey: z.string().min(1).max(255).optional(),
  /** Sent by Paperclip's CLI; accepted and not used yet (README). */
  workMode: z.enum(['standard', 'ask', 'planning', 'skill_test']).optional(),
  requestDepth: z.number().int().min(0).max(100).optional(),
  allowDuplicate: z.boolean().optional(),
  blockedByIssueIds: z.array(id).max(50).optional(),
  ...paperclipIgnored(),
});

export const patchIssue = z.strictObject({
  status: z.enum(STATUSES).optional(),
  comment: comment.optional(),
  priority: z.enum(PRIORITIES).optional(),
  title: label(500).optional(),
  description: description.nullable().optional(),
  assigneeAgentId: id.nullable().optional(),
  parentId: id.nullable().optional(),
  goalId: id.nullable().optional(),
  blockedByIssueIds: z.array(id).max(50).optional(),
  reviewInteractionId: id.optional(),
  /** Paperclip's: a done or cancelled issue goes back to todo (as status: todo does). */
  reopen: z.boolean().optional(),
  /** Paperclip's: wake the assignee (with a comment, as any comment does). */
  resume: z.boolean().optional(),
  workMode: z.enum(['standard', 'ask', 'planning', 'skill_test']).optional(),
  requestDepth: z.number().int().min(0).max(100).optional(),
  reviewRequest: z.strictObject({ instructions: text(10_000) }).nullable().optional(),
  interrupt: z.boolean().optional(),
  hiddenAt: z.string().datetime().nullable().optional(),
  ...paperclipIgnored(),
});

/**
 * Fields Paperclip's issue schemas define that Switchyard has no meaning for (projects, user
 * assignees, billing, execution policies): accepted so its clients work unchanged, and ignored
 * (README). A user assignee can only be none.
 */
function paperclipIgnored() {
  return {
    projectId: id.nullable().optional(),
    assigneeUserId: z.null().optional(),
    unblockDescriptor: z.unknown().optional(),
    billingCode: text(200).nullable().optional(),
    executionPolicy: z.unknown().optional(),
    acceptanceCriteria: z.unknown().optional(),
    blockParentUntilDone: z.boolean().optional(),
  };
}

const documentKey = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must match [a-z0-9][a-z0-9_-]* and be at most 64 characters');
export const documentKeyParam = documentKey;
export const putDocument = z.strictObject({
  format: z.literal('markdown'),
  body: z.string(),
  title: text(200).nullable().optional(),
  changeSummary: text(500).nullable().optional(),
  baseRevisionId: id.nullable().optional(),
});

const target = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('issue_document'), key: documentKey, revisionId: id, issueId: id.optional(), documentId: id.optional(), revisionNumber: z.number().int().min(1).optional(), label: text(200).optional(), href: text(2000).optional() }),
  z.strictObject({ type: z.literal('custom'), key: text(200), revisionId: text(200).nullable().optional(), label: text(200).optional(), href: text(2000).optional() }),
]);
export const createInteraction = z.strictObject({
  kind: z.literal('request_confirmation'),
  idempotencyKey: z.string().min(1).max(255).optional(),
  continuationPolicy: z.enum(['none', 'wake_assignee', 'wake_assignee_on_accept']).optional(),
  resolverPolicy: z.enum(['board_only', 'board_or_agents', 'human_only', 'not_creator', 'anyone']).optional(),
  title: text(240).nullable().optional(),
  summary: text(1000).nullable().optional(),
  sourceCommentId: id.optional(),
  payload: z.strictObject({
    version: z.literal(1),
    prompt: label(1000),
    acceptLabel: text(100).optional(),
    rejectLabel: text(100).optional(),
    rejectRequiresReason: z.boolean().optional(),
    detailsMarkdown: z.string().refine((v) => Buffer.byteLength(v, 'utf8') <= 8 * 1024, 'must be at most 8 KiB').optional(),
    supersedeOnUserComment: z.boolean().optional(),
    target: target.optional(),
    // Defined by Paperclip's schema (its CLI always sends allowDeclineReason): kept with the payload, shown to the board.
    allowDeclineReason: z.boolean().optional(),
    rejectReasonLabel: text(200).optional(),
    declineReasonPlaceholder: text(500).optional(),
  }),
});
export const acceptInteraction = z.strictObject({ selectedOptionIds: z.array(z.string()).optional() }).optional();
export const rejectInteraction = z.strictObject({ reason: text(4000).nullable().optional() }).optional();
export const withdrawInteraction = rejectInteraction;

export const checkout = z.strictObject({
  agentId: id,
  expectedStatuses: z.array(z.enum(STATUSES)).min(1),
  leaseSeconds: z.number().int().optional(),
});

export const commentBody = z.strictObject({
  body: comment.refine((s) => s.trim() !== '', 'must not be empty'),
  /** Paperclip's flags: reopen a done or cancelled issue; wake the assignee. */
  reopen: z.boolean().optional(),
  resume: z.boolean().optional(),
});

export const listComments = z.strictObject({
  order: z.enum(['asc', 'desc']).optional(),
  after: z.string().uuid().optional(),
  /** The name Paperclip's CLI sends for `after`. */
  afterCommentId: z.string().uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});
export const release = z.strictObject({ comment: comment.optional() });
export const close = z.strictObject({ comment: comment });
export const heartbeat = z.strictObject({}).optional();
export const restore = z.strictObject({});

export const listIssues = z.strictObject({
  assigneeAgentId: z.union([z.literal('me'), id]).optional(),
  status: z.string().optional(),
  parentId: id.optional(),
  /** Paperclip's alias of parentId. */
  parentIssueId: id.optional(),
  descendantOf: id.optional(),
  priority: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

export function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new DomainError('validation_error', 'The request is not valid', {
      issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code })),
    });
  }
  return result.data;
}

/** Comments are capped by bytes, as stored, not by characters. */
export function assertCommentSize(value: string | undefined, field = 'comment'): void {
  if (value !== undefined && Buffer.byteLength(value, 'utf8') > MAX_COMMENT_BYTES) {
    throw new DomainError('comment_too_large', `The ${field} is over ${MAX_COMMENT_BYTES} bytes`, { field, limitBytes: MAX_COMMENT_BYTES });
  }
}

/** A comma list of enum values, e.g. `status=todo,in_progress`. */
export function parseList<T extends string>(raw: string | undefined, allowed: readonly T[], field: string): T[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  const values = raw.split(',').map((v) => v.trim()).filter(Boolean);
  const bad = values.filter((v) => !(allowed as readonly string[]).includes(v));
  if (bad.length) throw new DomainError('validation_error', `Unknown ${field}: ${bad.join(', ')}`, { field, allowed });
  return values as T[];
}

/** Lease lengths (a checkout's or a company default) within [min, 86400]; min is configurable for tests. */
export function assertLeaseSeconds(value: number | undefined, minSeconds: number, field: string): void {
  if (value !== undefined && (value < minSeconds || value > MAX_LEASE_SECONDS)) {
    throw new DomainError('validation_error', `${field} must be between ${minSeconds} and ${MAX_LEASE_SECONDS}`, { field });
  }
}
