/** Reading documents, revisions and confirmations from the read model (issue 8 §2, §3). */
import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'>;

const DOCUMENT = `d.id, d.issue_id AS "issueId", d.key, d.title, d.format, r.body, d.latest_revision_id AS "latestRevisionId",
  d.latest_revision_number AS "latestRevisionNumber", d.created_by_agent_id AS "createdByAgentId", d.created_by_user AS "createdByUserId",
  d.updated_by_agent_id AS "updatedByAgentId", d.updated_by_user AS "updatedByUserId", NULL AS "lockedAt", d.created_at AS "createdAt", d.updated_at AS "updatedAt"`;

export async function documentsOf(db: Queryable, issueId: string) {
  const { rows } = await db.query(`SELECT ${DOCUMENT} FROM issue_documents d JOIN document_revisions r ON r.id = d.latest_revision_id WHERE d.issue_id = $1 ORDER BY d.key`, [issueId]);
  return rows;
}

export async function documentOf(db: Queryable, issueId: string, key: string) {
  const { rows } = await db.query(`SELECT ${DOCUMENT} FROM issue_documents d JOIN document_revisions r ON r.id = d.latest_revision_id WHERE d.issue_id = $1 AND d.key = $2`, [issueId, key]);
  return rows[0] as Record<string, unknown> | undefined;
}

/** Published revisions only (an unpublished one is a write the workflow has not decided on). Newest first. */
export async function revisionsOf(db: Queryable, issueId: string, key: string) {
  const { rows } = await db.query(
    `SELECT id, document_id AS "documentId", key, revision_number AS "revisionNumber", title, format, body, change_summary AS "changeSummary",
            created_by_agent_id AS "createdByAgentId", created_by_user AS "createdByUserId", created_at AS "createdAt"
     FROM document_revisions WHERE issue_id = $1 AND key = $2 AND revision_number IS NOT NULL ORDER BY revision_number DESC`,
    [issueId, key],
  );
  return rows;
}

const INTERACTION = `id, issue_id AS "issueId", kind, status, continuation_policy AS "continuationPolicy",
  requested_resolver_policy AS "requestedResolverPolicy", effective_resolver_policy AS "effectiveResolverPolicy",
  idempotency_key AS "idempotencyKey", source_run_id AS "sourceRunId", NULL AS "addresseeAgentId", title, summary, payload, result,
  created_by_agent_id AS "createdByAgentId", created_by_user AS "createdByUserId", resolved_by_agent_id AS "resolvedByAgentId",
  resolved_by_user AS "resolvedByUserId", created_at AS "createdAt", resolved_at AS "resolvedAt"`;

export async function interactionsOf(db: Queryable, issueId: string) {
  const { rows } = await db.query(`SELECT ${INTERACTION} FROM issue_interactions WHERE issue_id = $1 ORDER BY created_at, id`, [issueId]);
  return rows;
}

export async function interactionOf(db: Queryable, issueId: string, id: string) {
  const { rows } = await db.query(`SELECT ${INTERACTION} FROM issue_interactions WHERE issue_id = $1 AND id = $2`, [issueId, id]);
  return rows[0] as Record<string, unknown> | undefined;
}

export async function interactionByKey(db: Queryable, issueId: string, key: string) {
  const { rows } = await db.query(`SELECT ${INTERACTION}, request_hash AS "requestHash" FROM issue_interactions WHERE issue_id = $1 AND idempotency_key = $2`, [issueId, key]);
  return rows[0] as (Record<string, unknown> & { requestHash: string }) | undefined;
}
