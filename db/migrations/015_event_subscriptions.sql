-- Event subscriptions (issue 15 §3): AgentRail's webhooks out, delivered by one Temporal workflow per
-- subscription (workflows/event-subscription.ts). The secret is sealed like source credentials.

CREATE TABLE event_subscriptions (
  id                      text PRIMARY KEY,            -- evsub_ + 20 hex, derived from the create's Idempotency-Key
  ordinal                 bigserial NOT NULL UNIQUE,   -- creation order, for listing
  company_id              uuid NOT NULL REFERENCES companies(id),
  created_by              text NOT NULL,               -- 'operator' or 'agent:<id>'
  -- The task a task-scoped key was limited to: the subscription never carries another task's events.
  task_scope              uuid,
  url                     text NOT NULL,
  event_types             text[] NOT NULL,
  task_ids                uuid[] NOT NULL DEFAULT '{}',
  secret_sealed           text NOT NULL,
  description             text,
  -- url + types + tasks + scope, normalized (domain/event-subscriptions.ts filterKey).
  filter_key              text NOT NULL,
  status                  text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  disabled_reason         text,
  disabled_at             timestamptz,
  -- No backfill: only events after the log's newest at creation are delivered.
  created_after_sequence  bigint NOT NULL,
  -- The workflow's cursor, kept here so a restarted workflow resumes: every matching event at or
  -- below it was delivered, failed for good, or skipped.
  delivered_through       bigint NOT NULL,
  last_delivery_at        timestamptz,
  last_failure            jsonb,
  created_at              timestamptz NOT NULL DEFAULT now()
);
-- One active subscription per endpoint and filter set in a company: twenty identical creates at once
-- make one (the others meet this index and answer 409 conflict), not a read-then-write race.
CREATE UNIQUE INDEX event_subscriptions_active_filter_idx ON event_subscriptions (company_id, filter_key) WHERE status = 'active';
CREATE INDEX event_subscriptions_company_idx ON event_subscriptions (company_id, ordinal);

-- One row per (subscription, event): the attempts so far and how the last one went.
CREATE TABLE event_deliveries (
  subscription_id   text NOT NULL REFERENCES event_subscriptions(id),
  event_id          text NOT NULL,
  sequence          bigint NOT NULL,
  event_type        text NOT NULL,
  -- retrying (an attempt failed, more to come) | delivered | failed (3xx/4xx) | exhausted (8 attempts)
  -- | gone (410: the subscription was disabled) | refused (the target resolved to a private address)
  status            text NOT NULL,
  attempts          integer NOT NULL DEFAULT 0,
  last_delivery_id  text,
  last_status_code  integer,
  last_error        text,
  first_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_attempt_at   timestamptz NOT NULL DEFAULT now(),
  completed_at      timestamptz,
  PRIMARY KEY (subscription_id, event_id)
);
CREATE INDEX event_deliveries_recent_idx ON event_deliveries (subscription_id, sequence DESC);
