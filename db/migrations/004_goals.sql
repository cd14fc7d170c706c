-- Goals (issue 8 §1): what tasks serve, company > team > agent > task. Issues point at one by goal_id.
CREATE TABLE goals (
  id              uuid PRIMARY KEY,
  company_id      uuid NOT NULL REFERENCES companies(id),
  title           text NOT NULL,
  description     text,
  level           text NOT NULL,
  status          text NOT NULL DEFAULT 'planned',
  parent_id       uuid REFERENCES goals(id),
  owner_agent_id  uuid REFERENCES agents(id),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX goals_company_idx ON goals (company_id, created_at);
CREATE INDEX issues_goal_idx ON issues (goal_id) WHERE goal_id IS NOT NULL;
