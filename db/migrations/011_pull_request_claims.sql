-- One task per pull request (hostile pass): a submit reuses an open PR on its head branch, so naming
-- another task's branch would take over that task's PR (merge it under the wrong task, revert it).
-- The first task that opens or reuses a PR claims it; another task's submit of it is refused.
CREATE TABLE pull_request_claims (
  source_id   uuid NOT NULL,
  pr_number   integer NOT NULL,
  task_id     uuid NOT NULL,
  claimed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_id, pr_number)
);

-- PRs tasks opened before: theirs already.
INSERT INTO pull_request_claims (source_id, pr_number, task_id)
SELECT DISTINCT ON ((lifecycle->'source'->>'sourceId'), (lifecycle->'delivery'->>'prNumber'))
       (lifecycle->'source'->>'sourceId')::uuid, (lifecycle->'delivery'->>'prNumber')::integer, id
  FROM issues
 WHERE lifecycle->'source'->>'sourceId' IS NOT NULL AND lifecycle->'delivery'->>'prNumber' IS NOT NULL
 ORDER BY (lifecycle->'source'->>'sourceId'), (lifecycle->'delivery'->>'prNumber'), created_at
ON CONFLICT DO NOTHING;
