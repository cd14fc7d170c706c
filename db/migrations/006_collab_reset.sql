-- A Reset in the Temporal Web UI re-runs a task from an earlier point: the read model then drops the
-- confirmations, revisions and documents that only the discarded history made (as 002 does for
-- comments and activity). Replaces sy_project_task from 005, which also writes who created the issue.

ALTER TABLE issues ADD COLUMN created_by_agent_id uuid;
ALTER TABLE issues ADD COLUMN created_by_user text;
CREATE OR REPLACE FUNCTION sy_project_task(w jsonb, durable boolean DEFAULT true) RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
  r       jsonb := sy_project_issue(w, durable);
  s       jsonb := w->'issue';
  target  uuid  := (s->>'id')::uuid;
  company uuid  := (s->>'companyId')::uuid;
  c       jsonb := NULLIF(s->'collab', 'null'::jsonb);
BEGIN
  IF r->>'outcome' = 'applied' THEN
    UPDATE issues SET
      identifier = s->>'identifier',
      lifecycle = NULLIF(s->'lifecycle', 'null'::jsonb),
      stage = s->'lifecycle'->>'stage',
      source_key = s->'lifecycle'->'source'->>'key',
      collab = c,
      created_by_agent_id = (s->'createdBy'->>'agentId')::uuid,
      created_by_user = s->'createdBy'->>'user'
    WHERE id = target
      AND (identifier, lifecycle, stage, source_key, collab, created_by_agent_id, created_by_user) IS DISTINCT FROM
          (s->>'identifier', NULLIF(s->'lifecycle', 'null'::jsonb), s->'lifecycle'->>'stage', s->'lifecycle'->'source'->>'key', c,
           (s->'createdBy'->>'agentId')::uuid, s->'createdBy'->>'user');
    IF c IS NOT NULL THEN
      DELETE FROM issue_blockers b WHERE b.issue_id = target
        AND NOT (b.blocker_issue_id = ANY (ARRAY(SELECT (e->>'id')::uuid FROM jsonb_array_elements(c->'blockedBy') e)));
      INSERT INTO issue_blockers (issue_id, blocker_issue_id, company_id)
      SELECT target, (e->>'id')::uuid, company FROM jsonb_array_elements(c->'blockedBy') e
      ON CONFLICT DO NOTHING;
      -- The row now holds this state: anything of a later version came from history the workflow no
      -- longer has (a Reset in the Web UI). Confirmations and revisions it made go; documents follow the state.
      DELETE FROM issue_interactions i WHERE i.issue_id = target AND i.version > (s->>'version')::integer;
      UPDATE document_revisions v SET revision_number = NULL, document_id = NULL
      FROM jsonb_array_elements(c->'documents') d
      WHERE v.issue_id = target AND v.key = d->>'key' AND v.revision_number > (d->>'revisionNumber')::integer;
      UPDATE issue_documents o SET latest_revision_id = (d->>'revisionId')::uuid, latest_revision_number = (d->>'revisionNumber')::integer,
             title = d->>'title', updated_at = (d->>'updatedAt')::timestamptz
      FROM jsonb_array_elements(c->'documents') d
      WHERE o.issue_id = target AND o.key = d->>'key' AND o.latest_revision_number > (d->>'revisionNumber')::integer;
      DELETE FROM issue_documents o WHERE o.issue_id = target
        AND NOT (o.key = ANY (ARRAY(SELECT d->>'key' FROM jsonb_array_elements(c->'documents') d)));
    END IF;
  END IF;
  IF c IS NULL OR r->>'outcome' = 'needs_snapshot' THEN
    RETURN r;
  END IF;

  UPDATE document_revisions v SET revision_number = (d->>'revisionNumber')::integer, document_id = (d->>'documentId')::uuid
  FROM jsonb_array_elements(c->'documents') d
  WHERE v.id = (d->>'revisionId')::uuid AND v.issue_id = target AND v.revision_number IS NULL;
  INSERT INTO issue_documents AS o (id, issue_id, company_id, key, title, format, latest_revision_id, latest_revision_number,
                                    created_by_agent_id, created_by_user, updated_by_agent_id, updated_by_user, created_at, updated_at)
  SELECT (d->>'documentId')::uuid, target, company, d->>'key', d->>'title', d->>'format', (d->>'revisionId')::uuid,
         (d->>'revisionNumber')::integer, (d->>'createdByAgentId')::uuid, d->>'createdByUser', (d->>'updatedByAgentId')::uuid,
         d->>'updatedByUser', (d->>'createdAt')::timestamptz, (d->>'updatedAt')::timestamptz
  FROM jsonb_array_elements(c->'documents') d
  ON CONFLICT (issue_id, key) DO UPDATE SET
    title = excluded.title, format = excluded.format, latest_revision_id = excluded.latest_revision_id,
    latest_revision_number = excluded.latest_revision_number, updated_by_agent_id = excluded.updated_by_agent_id,
    updated_by_user = excluded.updated_by_user, updated_at = excluded.updated_at
  WHERE o.latest_revision_number < excluded.latest_revision_number;

  INSERT INTO issue_interactions AS o (id, issue_id, company_id, kind, status, continuation_policy, requested_resolver_policy,
                                       effective_resolver_policy, idempotency_key, request_hash, source_run_id, title, summary, payload,
                                       result, created_by_agent_id, created_by_user, resolved_by_agent_id, resolved_by_user, created_at,
                                       resolved_at, version)
  SELECT (i->>'id')::uuid, target, company, i->>'kind', i->>'status', i->>'continuationPolicy', i->>'requestedResolverPolicy',
         i->>'effectiveResolverPolicy', i->>'idempotencyKey', i->>'requestHash', i->>'sourceRunId', i->>'title', i->>'summary',
         i->'payload', NULLIF(i->'result', 'null'::jsonb), (i->>'createdByAgentId')::uuid, i->>'createdByUser',
         (i->>'resolvedByAgentId')::uuid, i->>'resolvedByUser', (i->>'createdAt')::timestamptz, (i->>'resolvedAt')::timestamptz,
         (i->>'version')::integer
  FROM jsonb_array_elements(c->'interactions') i
  ON CONFLICT (id) DO UPDATE SET
    status = excluded.status, result = excluded.result, resolved_by_agent_id = excluded.resolved_by_agent_id,
    resolved_by_user = excluded.resolved_by_user, resolved_at = excluded.resolved_at, version = excluded.version
  WHERE o.version < excluded.version;
  RETURN r;
END
$fn$;
