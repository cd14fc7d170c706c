-- Collaboration (issue 8): documents with revisions, confirmations, blockers. The workflow decides
-- them (IssueState.collab); the read model shows them from its writes, like comments.

ALTER TABLE issues ADD COLUMN collab jsonb;

-- A document's latest revision, as the workflow decided it.
CREATE TABLE issue_documents (
  id                      uuid PRIMARY KEY,
  issue_id                uuid NOT NULL,
  company_id              uuid NOT NULL,
  key                     text NOT NULL,
  title                   text,
  format                  text NOT NULL,
  latest_revision_id      uuid NOT NULL,
  latest_revision_number  integer NOT NULL,
  created_by_agent_id     uuid,
  created_by_user         text,
  updated_by_agent_id     uuid,
  updated_by_user         text,
  created_at              timestamptz NOT NULL,
  updated_at              timestamptz NOT NULL,
  UNIQUE (issue_id, key)
);

-- Every revision's body. Written by the API before the workflow decides; nobody sees a revision until
-- a durable decision published it (revision_number set). Unpublished ones a refusal left are deleted.
CREATE TABLE document_revisions (
  id                   uuid PRIMARY KEY,
  issue_id             uuid NOT NULL,
  company_id           uuid NOT NULL,
  key                  text NOT NULL,
  document_id          uuid,
  revision_number      integer,
  title                text,
  format               text NOT NULL,
  body                 text NOT NULL,
  change_summary       text,
  created_by_agent_id  uuid,
  created_by_user      text,
  created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX document_revisions_doc_idx ON document_revisions (issue_id, key, revision_number DESC);

CREATE TABLE issue_interactions (
  id                         uuid PRIMARY KEY,
  issue_id                   uuid NOT NULL,
  company_id                 uuid NOT NULL,
  kind                       text NOT NULL,
  status                     text NOT NULL,
  continuation_policy        text NOT NULL,
  requested_resolver_policy  text,
  effective_resolver_policy  text NOT NULL,
  idempotency_key            text,
  request_hash               text NOT NULL,
  source_run_id              text,
  title                      text,
  summary                    text,
  payload                    jsonb NOT NULL,
  result                     jsonb,
  created_by_agent_id        uuid,
  created_by_user            text,
  resolved_by_agent_id       uuid,
  resolved_by_user           text,
  created_at                 timestamptz NOT NULL,
  resolved_at                timestamptz,
  version                    integer NOT NULL
);
CREATE INDEX issue_interactions_issue_idx ON issue_interactions (issue_id, created_at);
CREATE UNIQUE INDEX issue_interactions_key_idx ON issue_interactions (issue_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE issue_blockers (
  issue_id          uuid NOT NULL,
  blocker_issue_id  uuid NOT NULL,
  company_id        uuid NOT NULL,
  PRIMARY KEY (issue_id, blocker_issue_id)
);
CREATE INDEX issue_blockers_blocker_idx ON issue_blockers (blocker_issue_id);

-- The issue row plus the delivery columns (003) plus what collaboration adds. Documents and
-- confirmations are durable decisions whatever became of the row (a write that lost a race to a later
-- version still publishes its revision), each only moving forward; the blocker set follows the row.
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
      collab = c
    WHERE id = target
      AND (identifier, lifecycle, stage, source_key, collab) IS DISTINCT FROM
          (s->>'identifier', NULLIF(s->'lifecycle', 'null'::jsonb), s->'lifecycle'->>'stage', s->'lifecycle'->'source'->>'key', c);
    IF c IS NOT NULL THEN
      DELETE FROM issue_blockers b WHERE b.issue_id = target
        AND NOT (b.blocker_issue_id = ANY (ARRAY(SELECT (e->>'id')::uuid FROM jsonb_array_elements(c->'blockedBy') e)));
      INSERT INTO issue_blockers (issue_id, blocker_issue_id, company_id)
      SELECT target, (e->>'id')::uuid, company FROM jsonb_array_elements(c->'blockedBy') e
      ON CONFLICT DO NOTHING;
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
ALTER TABLE wakeups ADD COLUMN details jsonb;
