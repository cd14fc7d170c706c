-- Linear intake and CircleCI beside GitHub (issue 14).
--
-- A Linear source takes a team's issues in and delivers them to a GitHub repository: the GitHub source
-- named by `delivery_source_id` (its owner/repo are copied for display and routing rules).
ALTER TABLE sources ADD COLUMN team_key text;
ALTER TABLE sources ADD COLUMN team_id text;
ALTER TABLE sources ADD COLUMN states jsonb NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE sources ADD COLUMN delivery_source_id uuid REFERENCES sources(id);
-- The Linear user the source's key acts as: its comments coming back by webhook are our own write-backs.
ALTER TABLE sources ADD COLUMN upstream_user_id text;

-- The CI systems a repository runs (a GitHub source): its head is judged by all of them combined.
ALTER TABLE sources ADD COLUMN ci_providers text[] NOT NULL DEFAULT '{github_actions}';
ALTER TABLE sources ADD COLUMN circleci jsonb;
ALTER TABLE sources ADD COLUMN circleci_token_sealed text;
ALTER TABLE sources ADD COLUMN circleci_webhook_secret_sealed text;
-- Flaky CI policy: re-run a failure once before the agent is woken when it is classified at least `rerunAt`.
ALTER TABLE sources ADD COLUMN flaky jsonb NOT NULL DEFAULT '{"rerunOnce": true, "rerunAt": "high"}'::jsonb;

-- What each check said on each head, once per outcome: "passed earlier on this head" (medium) and
-- "flipped on unchanged code again and again in this repository" (high) are read from here.
CREATE TABLE ci_check_results (
  source_id   uuid NOT NULL,
  provider    text NOT NULL,
  check_name  text NOT NULL,
  head_sha    text NOT NULL,
  outcome     text NOT NULL,
  observed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_id, provider, check_name, head_sha, outcome)
);
CREATE INDEX ci_check_results_recent_idx ON ci_check_results (source_id, check_name, observed_at);

-- A Linear comment arrives once, whichever delivery brings it.
CREATE TABLE upstream_comments (
  source_id   uuid NOT NULL,
  comment_id  text NOT NULL,
  issue_id    uuid NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_id, comment_id)
);

-- A refusal that says "come back later" (429 rate_limited) is not the key's answer: its retry runs again,
-- under a new update id (the refused one made no change), counted here.
ALTER TABLE idempotency_records ADD COLUMN attempt integer NOT NULL DEFAULT 0;

-- A Linear task is also found by its issue's identifier (ENG-42), as routes accept it.
CREATE INDEX issues_linear_identifier_idx ON issues ((upper(lifecycle->'source'->>'identifier'))) WHERE lifecycle->'source'->>'provider' = 'linear';
