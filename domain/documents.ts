/**
 * Issue documents with revisions (issue 8 §2). The body is in Postgres before the workflow hears of
 * it (an unpublished revision nobody can read); the workflow decides whether it becomes the latest
 * revision, by the base the writer saw, and the read model publishes it from that decision. A new
 * revision expires every confirmation that targeted an older one (`stale_target`).
 */
import { emptyCollab, MAX_DOCUMENTS, type DocumentRef } from './collab.js';
import { assertMayChange, entry, nextState, renewed, type Applied, type Ctx } from './commands.js';
import { DomainError } from './errors.js';
import { expireInteractions } from './interactions.js';
import { actorLabel, type Actor, type IssueState } from './task.js';

export const MAX_DOCUMENT_BODY_BYTES = 512 * 1024;

export interface PutDocumentCmd {
  actor: Actor;
  key: string;
  /** The unpublished revision holding the body (written by the API just before). */
  revisionId: string;
  baseRevisionId: string | null;
  title: string | null;
  format: 'markdown';
  changeSummary: string | null;
}

export function checkPutDocument(s: IssueState, cmd: PutDocumentCmd): DocumentRef | undefined {
  assertMayChange(s, cmd.actor);
  const current = s.collab?.documents.find((d) => d.key === cmd.key);
  if (!current) {
    if (cmd.baseRevisionId) {
      throw new DomainError('revision_conflict', 'The document does not exist yet: create it without a baseRevisionId', { key: cmd.key, currentRevisionId: null });
    }
    if ((s.collab?.documents.length ?? 0) >= MAX_DOCUMENTS) {
      throw new DomainError('validation_error', `An issue holds at most ${MAX_DOCUMENTS} documents`, { key: cmd.key, limit: MAX_DOCUMENTS });
    }
    return undefined;
  }
  if (!cmd.baseRevisionId) {
    throw new DomainError('revision_conflict', 'Updating a document requires baseRevisionId: the latestRevisionId you read', { key: cmd.key, currentRevisionId: current.revisionId });
  }
  if (cmd.baseRevisionId !== current.revisionId) {
    throw new DomainError('revision_conflict', 'The document was updated by someone else since the revision you read', { key: cmd.key, currentRevisionId: current.revisionId, baseRevisionId: cmd.baseRevisionId });
  }
  return current;
}

export function applyPutDocument(s: IssueState, cmd: PutDocumentCmd, ctx: Ctx): Applied & { created: boolean } {
  const current = checkPutDocument(s, cmd);
  const at = new Date(ctx.now).toISOString();
  const by = actorLabel(cmd.actor);
  const doc: DocumentRef = {
    key: cmd.key,
    documentId: current?.documentId ?? ctx.newId(),
    revisionId: cmd.revisionId,
    revisionNumber: (current?.revisionNumber ?? 0) + 1,
    title: cmd.title ?? current?.title ?? null,
    format: cmd.format,
    createdAt: current?.createdAt ?? at,
    updatedAt: at,
    createdByAgentId: current ? current.createdByAgentId : by.actorAgentId,
    createdByUser: current ? current.createdByUser : by.actorUser,
    updatedByAgentId: by.actorAgentId,
    updatedByUser: by.actorUser,
  };
  const collab = s.collab ?? emptyCollab();
  const documents = current ? collab.documents.map((d) => (d.key === cmd.key ? doc : d)) : [...collab.documents, doc];
  let issue = nextState(s, ctx, { ...renewed(s, cmd.actor, ctx), collab: { ...collab, documents } });
  const activity = [entry(cmd.actor, current ? 'document.updated' : 'document.created', { key: cmd.key, documentId: doc.documentId, revisionId: doc.revisionId, revisionNumber: doc.revisionNumber }, issue, ctx)];
  // Confirmations that asked about an older revision of this document ask about nothing any more.
  const expired = expireInteractions(issue, (i) => i.payload.target?.type === 'issue_document' && i.payload.target.key === cmd.key && i.payload.target.revisionId !== doc.revisionId, 'stale_target', ctx);
  issue = expired.issue;
  activity.push(...expired.activity);
  return { write: { issue, comments: [], activity }, effects: expired.effects, created: !current };
}
