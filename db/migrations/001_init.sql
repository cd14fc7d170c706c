-- Read model of the task workflows, plus the tenancy and idempotency tables the API owns.

CREATE TABLE companies (
  id          uuid PRIMARY KEY,
  name        text NOT NULL,
  settings    jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agents (
  id            uuid PRIMARY KEY,
  company_id    uuid NOT NULL REFERENCES companies(id),
  name          text NOT NULL,
  role          text,
  api_key_hash  text NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agents_company_idx ON agents (company_id);

-- One row per task, written only by the task's workflow (through an activity), guarded by version.
CREATE TABLE issues (
  id                 uuid PRIMARY KEY,
  company_id         uuid NOT NULL REFERENCES companies(id),
  title              text NOT NULL,
  description        text,
  status             text NOT NULL,
  priority           text NOT NULL,
  priority_rank      smallint NOT NULL,
  assignee_agent_id  uuid,
  parent_id          uuid,
  goal_id            text,
  checkout           jsonb,
  version            integer NOT NULL,
  expiry_streak      integer NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  started_at         timestamptz,
  completed_at       timestamptz
);
CREATE INDEX issues_company_queue_idx ON issues (company_id, assignee_agent_id, status, priority_rank, created_at);
CREATE INDEX issues_company_status_idx ON issues (company_id, status, priority_rank, created_at);
CREATE INDEX issues_parent_idx ON issues (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE comments (
  id               uuid PRIMARY KEY,
  issue_id         uuid NOT NULL REFERENCES issues(id),
  company_id       uuid NOT NULL,
  body             text NOT NULL,
  author_agent_id  uuid,
  author_user      text,
  run_id           text,
  created_at       timestamptz NOT NULL,
  seq              bigserial
);
CREATE INDEX comments_issue_idx ON comments (issue_id, created_at, seq);

CREATE TABLE activity_log (
  id              uuid PRIMARY KEY,
  issue_id        uuid NOT NULL REFERENCES issues(id),
  company_id      uuid NOT NULL,
  action          text NOT NULL,
  actor_agent_id  uuid,
  actor_user      text,
  run_id          text,
  details         jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at      timestamptz NOT NULL,
  seq             bigserial
);
CREATE INDEX activity_issue_idx ON activity_log (issue_id, created_at, seq);

-- Idempotency-Key records: scoped to company and caller; replayed byte for byte.
CREATE TABLE idempotency_records (
  company_id     uuid NOT NULL,
  caller         text NOT NULL,
  key            text NOT NULL,
  operation      text NOT NULL,
  request_hash   text NOT NULL,
  status_code    integer,
  response_body  jsonb,
  created_at     timestamptz NOT NULL DEFAULT now(),
  completed_at   timestamptz,
  PRIMARY KEY (company_id, caller, key)
);
