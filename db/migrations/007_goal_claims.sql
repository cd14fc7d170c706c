-- An issue being pointed at a goal (PATCH goalId) claims the goal for the length of the change, so a
-- delete racing it sees the claim (409) instead of leaving the issue on a missing goal. A claim is
-- taken and released in short statements: no connection is held while the workflow decides.
CREATE TABLE goal_claims (
  goal_id     uuid NOT NULL,
  issue_id    uuid NOT NULL,
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (goal_id, issue_id)
);

-- The comment that woke an agent, for agents that poll their wakes (heartbeat-context?wakeCommentId=).
ALTER TABLE wakeups ADD COLUMN comment_id text;
