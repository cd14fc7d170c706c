-- A worker process that died while activating a workflow run (worker/activation-journal.ts) counts a
-- death against that run; at two, the run is quarantined for a while: workers fail its workflow tasks
-- at once instead of dying with it (issue 13 §2, worker/quarantine.ts). /readyz lists the quarantined.
CREATE TABLE workflow_task_deaths (
  run_id             text PRIMARY KEY,
  workflow_id        text,
  task_queue         text NOT NULL,
  deaths             integer NOT NULL,
  last_death_at      timestamptz NOT NULL,
  quarantined_until  timestamptz
);
CREATE INDEX workflow_task_deaths_quarantined ON workflow_task_deaths (quarantined_until) WHERE quarantined_until IS NOT NULL;
