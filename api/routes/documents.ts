/**
 * Issue documents with revisions (issue 8 §2). A PUT stores the body as an unpublished revision, then
 * asks the task's workflow to make it the latest (by the base revision the writer read); the read
 * model publishes it from that durable decision. A refused revision is deleted: nobody ever saw it.
 */
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { MAX_DOCUMENT_BODY_BYTES } from '../../domain/documents.js';
import { DomainError } from '../../domain/errors.js';
import { actorLabel } from '../../domain/task.js';
import { documentOf, documentsOf, revisionsOf } from '../../db/collab-reads.js';
import { putDocumentUpdate } from '../../workflows/messages.js';
import { actorOf } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import * as schema from '../schemas.js';
import { runIssueUpdate } from './issue-update.js';
import { scopedIssue } from './scope.js';

const keyOf = (raw: unknown) => schema.parse(schema.documentKeyParam, raw);

export function documentsRouter(deps: ApiDeps): Router {
  const { pool } = deps;
  const router = Router();

  router.get('/api/issues/:issueId/documents', async (req, res) => {
    const { issue } = await scopedIssue(deps, req, res);
    res.json(await documentsOf(pool, issue.id));
  });

  router.get('/api/issues/:issueId/documents/:key', async (req, res) => {
    const key = keyOf(req.params.key);
    const { issue } = await scopedIssue(deps, req, res);
    const doc = await documentOf(pool, issue.id, key);
    if (!doc) throw new DomainError('not_found', 'Document not found', { key });
    res.json(doc);
  });

  router.get('/api/issues/:issueId/documents/:key/revisions', async (req, res) => {
    const key = keyOf(req.params.key);
    const { issue } = await scopedIssue(deps, req, res);
    if (!(await documentOf(pool, issue.id, key))) throw new DomainError('not_found', 'Document not found', { key });
    res.json(await revisionsOf(pool, issue.id, key));
  });

  router.put('/api/issues/:issueId/documents/:key', async (req, res) => {
    const key = keyOf(req.params.key);
    const body = schema.parse(schema.putDocument, req.body);
    if (Buffer.byteLength(body.body, 'utf8') > MAX_DOCUMENT_BODY_BYTES) {
      throw new DomainError('validation_error', `The body is over ${MAX_DOCUMENT_BODY_BYTES} bytes`, { field: 'body', limitBytes: MAX_DOCUMENT_BODY_BYTES });
    }
    const actor = actorOf(req, res);
    const revisionId = randomUUID();
    let stored = false;
    let sent = false;
    try {
      await runIssueUpdate(deps, req, res, {
        operation: 'issue.document.put',
      action: 'update',
        def: putDocumentUpdate,
        // Stored only once the request is known not to be a replay or a refusal of the key.
        beforeSend: async (found) => {
          const by = actorLabel(actor);
          // A revision without a title carries the document's, as the document itself does.
          const title = body.title ?? ((await documentOf(pool, found.issue.id, key))?.title as string | null | undefined) ?? null;
          await pool.query(
            `INSERT INTO document_revisions (id, issue_id, company_id, key, title, format, body, change_summary, created_by_agent_id, created_by_user)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
            [revisionId, found.issue.id, found.company.id, key, title, body.format, body.body, body.changeSummary ?? null, by.actorAgentId, by.actorUser],
          );
          stored = true;
        },
        command: () => {
          sent = true;
          return { actor, key, revisionId, baseRevisionId: body.baseRevisionId ?? null, title: body.title ?? null, format: body.format, changeSummary: body.changeSummary ?? null };
        },
        respond: async ({ issue }) => {
          const doc = await documentOf(pool, issue.id, key);
          const ref = issue.collab?.documents.find((d) => d.key === key);
          return { status: ref?.revisionNumber === 1 && ref.revisionId === revisionId ? 201 : 200, body: doc };
        },
      });
    } finally {
      // Never sent, refused, or answered from an earlier attempt: this copy of the body is nobody's. Sent
      // and unanswered (a 5xx, a timeout) it may be the workflow's decision still: the projection publishes it.
      const decided = !sent || (res.headersSent && res.statusCode < 500);
      if (stored && decided) await pool.query('DELETE FROM document_revisions WHERE id = $1 AND revision_number IS NULL', [revisionId]).catch(() => {});
    }
  });

  return router;
}
