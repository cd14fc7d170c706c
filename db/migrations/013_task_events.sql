-- The task event log (issue 15): every decision's events, written by the projection in the same
-- statement as the read model, so an event exists exactly when its decision is durable.
--
-- `sequence` is one global order that never goes back (a Postgres sequence, not max+1 of what is
-- retained). Appends are serialized by a transaction-level advisory lock held until commit, so events
-- become visible in sequence order: a reader that has seen sequence N has seen everything before it.

CREATE SEQUENCE task_event_seq;

CREATE TABLE task_events (
  sequence      bigint PRIMARY KEY,
  id            text NOT NULL UNIQUE,
  issue_id      uuid NOT NULL,
  company_id    uuid NOT NULL,
  type          text NOT NULL,
  task_version  integer NOT NULL,
  occurred_at   timestamptz NOT NULL,
  trace_id      text,
  data          jsonb NOT NULL,
  recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX task_events_issue_idx ON task_events (issue_id, sequence);
CREATE INDEX task_events_recorded_idx ON task_events (recorded_at);

-- Retention: everything at or below `pruned_through` may be gone, so a cursor before it has expired.
CREATE TABLE task_event_horizon (
  only_row        boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  pruned_through  bigint NOT NULL DEFAULT 0
);
INSERT INTO task_event_horizon DEFAULT VALUES;

ALTER FUNCTION sy_project_task(jsonb, boolean) RENAME TO sy_project_task_core;

CREATE FUNCTION sy_project_task(w jsonb, durable boolean DEFAULT true) RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
  r       jsonb := sy_project_task_core(w, durable);
  events  jsonb := coalesce(w->'events', '[]'::jsonb);
  last    bigint;
BEGIN
  IF jsonb_array_length(events) = 0 THEN
    RETURN r;
  END IF;
  -- The second writer of a decision finds its events there already: no lock, no sequence spent.
  IF NOT EXISTS (SELECT 1 FROM jsonb_array_elements(events) e WHERE NOT EXISTS (SELECT 1 FROM task_events t WHERE t.id = e->>'id')) THEN
    RETURN r;
  END IF;
  PERFORM pg_advisory_xact_lock(7366157715);
  WITH added AS (
    INSERT INTO task_events (sequence, id, issue_id, company_id, type, task_version, occurred_at, trace_id, data)
    SELECT nextval('task_event_seq'), e.v->>'id', (w->'issue'->>'id')::uuid, (w->'issue'->>'companyId')::uuid, e.v->>'type',
           (e.v->>'taskVersion')::integer, (e.v->>'occurredAt')::timestamptz, e.v->>'traceId', e.v->'data'
    FROM (SELECT v, n FROM jsonb_array_elements(events) WITH ORDINALITY AS x(v, n)
          WHERE NOT EXISTS (SELECT 1 FROM task_events t WHERE t.id = x.v->>'id') ORDER BY n) e
    ON CONFLICT (id) DO NOTHING
    RETURNING sequence
  )
  SELECT max(sequence) INTO last FROM added;
  IF last IS NOT NULL THEN
    PERFORM pg_notify('sy_task_events', last::text);
  END IF;
  RETURN r;
END
$fn$;
