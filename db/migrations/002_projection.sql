-- The read model written from durable workflow decisions only (issue 6): each write carries its
-- version and a fingerprint of the state, the description only when it changed, and the entries it
-- adds with the version that added them. One function applies a write, so the API (right after an
-- Update returns) and the workflow's own projection activity (in case the API died first) apply
-- exactly the same rules in one round trip.

ALTER TABLE issues ADD COLUMN description_version integer;
UPDATE issues SET description_version = version;
ALTER TABLE issues ALTER COLUMN description_version SET NOT NULL;
ALTER TABLE issues ADD COLUMN fingerprint text;
-- running, or how the workflow ended (canceled, terminated, …): a closed workflow takes no changes.
ALTER TABLE issues ADD COLUMN workflow_status text NOT NULL DEFAULT 'running';
CREATE INDEX issues_updated_idx ON issues (updated_at);

ALTER TABLE comments ADD COLUMN version integer;
ALTER TABLE activity_log ADD COLUMN version integer;

-- Writes Postgres refused for good (never retried forever in silence): the reconciler reports them,
-- tries each again (the cause may be gone), and marks it resolved once it lands.
CREATE TABLE projection_failures (
  id           bigserial PRIMARY KEY,
  issue_id     uuid NOT NULL,
  version      integer NOT NULL,
  code         text,
  message      text NOT NULL,
  write        jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  resolved_at  timestamptz
);
CREATE INDEX projection_failures_open_idx ON projection_failures (issue_id) WHERE resolved_at IS NULL;

-- Applies one write; returns {outcome, version, fingerprint} of the row afterwards. Outcomes:
--   applied         the row now holds this write's state
--   current         the row already held exactly this state
--   stale           the row holds a later version (the write's entries are still added)
--   needs_snapshot  the write lacks the description and the row's is not the one it assumes
-- A row is replaced at the same or an earlier version only when its fingerprint differs, or the
-- write is forced: then it came from history the workflow did not keep (a Reset, a lost commit), and
-- the entries that history added (later versions, or this version but not in `keep`) are removed.
-- `durable => false` commits without waiting for the WAL flush (see db/projection.ts: only for a copy
-- that a durable write of the same decision follows).
CREATE FUNCTION sy_project_issue(w jsonb, durable boolean DEFAULT true) RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
  s        jsonb   := w->'issue';
  target   uuid    := (s->>'id')::uuid;
  v        integer := (s->>'version')::integer;
  fp       text    := w->>'fingerprint';
  carries  boolean := s ? 'description';
  forced   boolean := coalesce((w->>'force')::boolean, false);
  keep     uuid[]  := ARRAY(SELECT jsonb_array_elements_text(coalesce(w->'keep', '[]'::jsonb))::uuid);
  cur      record;
  outcome  text;
BEGIN
  IF NOT durable THEN
    PERFORM set_config('synchronous_commit', 'off', true);
  END IF;
  -- The common case for the second writer of a decision (the API and the projection activity both
  -- write it): the row holds it already. Say so without locking the row, so the two never queue on it.
  SELECT version, fingerprint INTO cur FROM issues WHERE id = target;
  IF FOUND AND NOT forced AND (v < cur.version OR (v = cur.version AND fp IS NOT DISTINCT FROM cur.fingerprint)) THEN
    outcome := CASE WHEN v = cur.version THEN 'current' ELSE 'stale' END;
  END IF;
  LOOP
    EXIT WHEN outcome IS NOT NULL;
    SELECT version, fingerprint, description_version INTO cur FROM issues WHERE id = target FOR UPDATE;
    EXIT WHEN FOUND;
    IF NOT carries THEN
      RETURN jsonb_build_object('outcome', 'needs_snapshot', 'version', NULL, 'fingerprint', NULL);
    END IF;
    INSERT INTO issues (id, company_id, title, description, description_version, status, priority, priority_rank,
                        assignee_agent_id, parent_id, goal_id, checkout, version, expiry_streak, created_at, updated_at,
                        started_at, completed_at, fingerprint, workflow_status)
    VALUES (target, (s->>'companyId')::uuid, s->>'title', s->>'description', (s->>'descriptionVersion')::integer,
            s->>'status', s->>'priority', (w->>'priorityRank')::smallint, (s->>'assigneeAgentId')::uuid,
            (s->>'parentId')::uuid, s->>'goalId', NULLIF(s->'checkout', 'null'::jsonb), v,
            (s->>'expiryStreak')::integer, (s->>'createdAt')::timestamptz, (s->>'updatedAt')::timestamptz,
            (s->>'startedAt')::timestamptz, (s->>'completedAt')::timestamptz, fp, coalesce(w->>'workflowStatus', 'running'))
    ON CONFLICT (id) DO NOTHING;
    IF FOUND THEN
      outcome := 'applied';
      EXIT;
    END IF;
    -- Another writer created it first: go round and compare with its row.
  END LOOP;

  IF outcome IS NULL THEN
    IF v > cur.version OR fp IS DISTINCT FROM cur.fingerprint AND (v = cur.version OR forced) THEN
      IF NOT carries AND cur.description_version IS DISTINCT FROM (s->>'descriptionVersion')::integer THEN
        outcome := 'needs_snapshot';
      ELSE
        IF v <= cur.version THEN
          DELETE FROM comments c WHERE c.issue_id = target AND (c.version > v OR (c.version = v AND NOT (c.id = ANY (keep))));
          DELETE FROM activity_log a WHERE a.issue_id = target AND (a.version > v OR (a.version = v AND NOT (a.id = ANY (keep))));
        END IF;
        UPDATE issues SET
          title = s->>'title',
          description = CASE WHEN carries THEN s->>'description' ELSE description END,
          description_version = (s->>'descriptionVersion')::integer,
          status = s->>'status',
          priority = s->>'priority',
          priority_rank = (w->>'priorityRank')::smallint,
          assignee_agent_id = (s->>'assigneeAgentId')::uuid,
          parent_id = (s->>'parentId')::uuid,
          goal_id = s->>'goalId',
          checkout = NULLIF(s->'checkout', 'null'::jsonb),
          version = v,
          expiry_streak = (s->>'expiryStreak')::integer,
          created_at = (s->>'createdAt')::timestamptz,
          updated_at = (s->>'updatedAt')::timestamptz,
          started_at = (s->>'startedAt')::timestamptz,
          completed_at = (s->>'completedAt')::timestamptz,
          fingerprint = fp,
          workflow_status = coalesce(w->>'workflowStatus', 'running')
        WHERE id = target;
        outcome := 'applied';
      END IF;
    ELSIF v = cur.version THEN
      outcome := 'current';
    ELSE
      outcome := 'stale';
    END IF;
  END IF;

  -- Entries of every durable decision belong in the log, whatever became of the row.
  INSERT INTO comments (id, issue_id, company_id, body, author_agent_id, author_user, run_id, created_at, version)
  SELECT (e.c->>'id')::uuid, target, (s->>'companyId')::uuid, e.c->>'body', (e.c->>'authorAgentId')::uuid,
         e.c->>'authorUser', e.c->>'runId', (e.c->>'createdAt')::timestamptz, (e.c->>'version')::integer
  FROM jsonb_array_elements(coalesce(w->'comments', '[]'::jsonb)) WITH ORDINALITY AS e(c, n)
  ORDER BY e.n
  ON CONFLICT (id) DO NOTHING;
  INSERT INTO activity_log (id, issue_id, company_id, action, actor_agent_id, actor_user, run_id, details, created_at, version)
  SELECT (e.a->>'id')::uuid, target, (s->>'companyId')::uuid, e.a->>'action', (e.a->>'actorAgentId')::uuid,
         e.a->>'actorUser', e.a->>'runId', coalesce(e.a->'details', '{}'::jsonb), (e.a->>'createdAt')::timestamptz,
         (e.a->>'version')::integer
  FROM jsonb_array_elements(coalesce(w->'activity', '[]'::jsonb)) WITH ORDINALITY AS e(a, n)
  ORDER BY e.n
  ON CONFLICT (id) DO NOTHING;

  -- The workflow's own projection says which entries it made over a range of versions: anything else
  -- there came from history it no longer has (a Reset that ran the same updates again made new ones).
  IF w ? 'coversFrom' AND outcome <> 'needs_snapshot' THEN
    DELETE FROM comments c WHERE c.issue_id = target AND c.version > (w->>'coversFrom')::integer AND c.version <= v
      AND NOT (c.id = ANY (keep || ARRAY(SELECT (e->>'id')::uuid FROM jsonb_array_elements(coalesce(w->'comments', '[]'::jsonb)) AS e)));
    DELETE FROM activity_log a WHERE a.issue_id = target AND a.version > (w->>'coversFrom')::integer AND a.version <= v
      AND NOT (a.id = ANY (keep || ARRAY(SELECT (e->>'id')::uuid FROM jsonb_array_elements(coalesce(w->'activity', '[]'::jsonb)) AS e)));
  END IF;

  SELECT version, fingerprint INTO cur FROM issues WHERE id = target;
  RETURN jsonb_build_object('outcome', outcome, 'version', cur.version, 'fingerprint', cur.fingerprint);
END
$fn$;

-- The range deletes above look entries up by issue and version.
CREATE INDEX comments_issue_version_idx ON comments (issue_id, version);
CREATE INDEX activity_issue_version_idx ON activity_log (issue_id, version);
