-- The delivery pipeline (issue 7): sources with encrypted credentials, one task per upstream issue,
-- human identifiers, routing rules, webhook deliveries, wakes and run tokens; the issue row gains the
-- task's lifecycle (stage, source, routing, delivery) as the workflow decided it.

ALTER TABLE companies ADD COLUMN issue_prefix text;
ALTER TABLE companies ADD COLUMN issue_counter integer NOT NULL DEFAULT 0;
UPDATE companies SET issue_prefix = coalesce(nullif(upper(left(regexp_replace(name, '[^A-Za-z]', '', 'g'), 4)), ''), 'TASK');

ALTER TABLE issues ADD COLUMN identifier text;
ALTER TABLE issues ADD COLUMN source_key text;
ALTER TABLE issues ADD COLUMN lifecycle jsonb;
ALTER TABLE issues ADD COLUMN stage text;
CREATE UNIQUE INDEX issues_identifier_idx ON issues (company_id, identifier) WHERE identifier IS NOT NULL;
CREATE INDEX issues_stage_idx ON issues (company_id, stage) WHERE stage IS NOT NULL;
CREATE INDEX issues_unroutable_idx ON issues (company_id) WHERE (lifecycle->'routing'->>'state') = 'unroutable';

-- A connected repository. Secrets are AES-256-GCM sealed (runtime/secrets.ts) and never leave this table
-- except into an activity's memory: not into any response, log, or workflow input/state/history.
CREATE TABLE sources (
  id                     uuid PRIMARY KEY,
  company_id             uuid NOT NULL REFERENCES companies(id),
  provider               text NOT NULL,
  owner                  text NOT NULL,
  repo                   text NOT NULL,
  base_url               text,
  credential_kind        text NOT NULL,
  credential_sealed      text NOT NULL,
  webhook_secret_sealed  text,
  poll_interval_seconds  integer,
  labels                 jsonb NOT NULL DEFAULT '{}'::jsonb,
  review_policy          text NOT NULL DEFAULT 'require',
  default_branch         text,
  paused                 boolean NOT NULL DEFAULT false,
  cursor                 text,
  last_poll_at           timestamptz,
  last_poll_error        text,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  deleted_at             timestamptz
);
CREATE INDEX sources_company_idx ON sources (company_id) WHERE deleted_at IS NULL;

-- One task per upstream issue, whatever arrives first: the key is claimed once, with its task id.
CREATE TABLE source_items (
  source_key  text PRIMARY KEY,
  company_id  uuid NOT NULL,
  source_id   uuid NOT NULL,
  issue_id    uuid NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Human identifiers (`ACME-12`), one per task id, numbered per company without gaps.
CREATE TABLE issue_identifiers (
  issue_id    uuid PRIMARY KEY,
  company_id  uuid NOT NULL,
  identifier  text NOT NULL,
  UNIQUE (company_id, identifier)
);

-- The identifier of a task id, allocated on first ask: a retried create or intake gets the same one.
CREATE FUNCTION sy_identifier_for(company uuid, issue uuid) RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
  ident  text;
  prefix text;
  n      integer;
BEGIN
  SELECT identifier INTO ident FROM issue_identifiers WHERE issue_id = issue;
  IF FOUND THEN RETURN ident; END IF;
  -- One allocation per company at a time: numbers never skip or repeat.
  SELECT issue_prefix INTO prefix FROM companies WHERE id = company FOR UPDATE;
  IF NOT FOUND THEN RAISE EXCEPTION 'no company %', company USING ERRCODE = '23503'; END IF;
  SELECT identifier INTO ident FROM issue_identifiers WHERE issue_id = issue;
  IF FOUND THEN RETURN ident; END IF;
  UPDATE companies SET issue_counter = issue_counter + 1 WHERE id = company RETURNING issue_counter INTO n;
  ident := coalesce(prefix, 'TASK') || '-' || n;
  INSERT INTO issue_identifiers (issue_id, company_id, identifier) VALUES (issue, company, ident);
  RETURN ident;
END
$fn$;

CREATE TABLE routing_rules (
  company_id  uuid PRIMARY KEY REFERENCES companies(id),
  rules       jsonb NOT NULL,
  version     integer NOT NULL DEFAULT 1,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- X-GitHub-Delivery ids already taken: a replayed delivery has no second effect.
CREATE TABLE webhook_deliveries (
  source_id    uuid NOT NULL,
  delivery_id  text NOT NULL,
  event        text NOT NULL,
  action       text,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_id, delivery_id)
);

ALTER TABLE agents ADD COLUMN wake_target_sealed text;
ALTER TABLE agents ADD COLUMN wake_target_type text;

-- Every wake of an agent (also for agents that poll GET /api/agents/me/wakeups).
CREATE TABLE wakeups (
  id            text PRIMARY KEY,
  company_id    uuid NOT NULL,
  agent_id      uuid NOT NULL,
  issue_id      uuid NOT NULL,
  reason        text NOT NULL,
  summary       text NOT NULL,
  status        text NOT NULL DEFAULT 'pending',
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text,
  run_id        text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  delivered_at  timestamptz
);
CREATE INDEX wakeups_agent_idx ON wakeups (agent_id, created_at DESC);

-- Short-lived keys minted for one wake of a managed local agent: bound to the agent and a run id.
CREATE TABLE run_tokens (
  token_hash  text PRIMARY KEY,
  agent_id    uuid NOT NULL REFERENCES agents(id),
  run_id      text NOT NULL,
  issue_id    uuid,
  expires_at  timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- The issue row plus what the delivery pipeline adds. Wraps sy_project_issue (every rule stays there)
-- and writes the lifecycle columns when the write's state is the row's.
CREATE FUNCTION sy_project_task(w jsonb, durable boolean DEFAULT true) RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
  r  jsonb := sy_project_issue(w, durable);
  s  jsonb := w->'issue';
BEGIN
  IF r->>'outcome' = 'applied' THEN
    UPDATE issues SET
      identifier = s->>'identifier',
      lifecycle = NULLIF(s->'lifecycle', 'null'::jsonb),
      stage = s->'lifecycle'->>'stage',
      source_key = s->'lifecycle'->'source'->>'key'
    WHERE id = (s->>'id')::uuid
      AND (identifier, lifecycle, stage, source_key) IS DISTINCT FROM
          (s->>'identifier', NULLIF(s->'lifecycle', 'null'::jsonb), s->'lifecycle'->>'stage', s->'lifecycle'->'source'->>'key');
  END IF;
  RETURN r;
END
$fn$;
