-- Routing decisions made one at a time per company (issue 13 §6): a burst read the same counts from the
-- read model and sent every task to one agent. The decision is taken under a per-company lock and
-- written here at once, so the next decision counts it before the task's read-model row catches up.
CREATE TABLE routing_ledger (
  task_id      uuid PRIMARY KEY,
  company_id   uuid NOT NULL,
  decision_id  text NOT NULL,
  agent_id     uuid,
  decision     jsonb NOT NULL,
  decided_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX routing_ledger_company_idx ON routing_ledger (company_id, decided_at);

-- round_robin's position per rule, advanced in the same transaction as the decision.
CREATE TABLE routing_counters (
  company_id  uuid NOT NULL,
  rule_id     text NOT NULL,
  assigned    bigint NOT NULL,
  PRIMARY KEY (company_id, rule_id)
);
