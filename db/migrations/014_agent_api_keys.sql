-- Agent API keys (issue 15 §4): AgentRail's key model, least privilege. Every key an agent holds is a row
-- here: the keys agents were created with (kind agent_key, every scope), keys minted through
-- POST /api/agent-api-keys (api_key), and the run tokens of process wakes (run_token: one task, expiring).
-- Only the SHA-256 of a secret is stored. docs/keys.md says how it all fits.
CREATE TABLE agent_api_keys (
  id                   text PRIMARY KEY CHECK (id ~ '^akey_[0-9a-f]{20}$'),
  key_hash             text NOT NULL UNIQUE,
  agent_id             uuid NOT NULL REFERENCES agents(id),
  company_id           uuid NOT NULL REFERENCES companies(id),
  kind                 text NOT NULL CHECK (kind IN ('agent_key', 'api_key', 'run_token')),
  scopes               text[] NOT NULL CHECK (cardinality(scopes) > 0),
  window_seconds       integer NOT NULL DEFAULT 60 CHECK (window_seconds BETWEEN 10 AND 3600),
  max_requests         integer NOT NULL DEFAULT 600 CHECK (max_requests BETWEEN 1 AND 10000),
  -- Expiry is by time (expires_at), never a stored status: a key past it is presented as `expired`.
  status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'rotated', 'revoked')),
  created_at           timestamptz NOT NULL DEFAULT now(),
  expires_at           timestamptz,
  rotated_from_key_id  text REFERENCES agent_api_keys(id),
  rotated_at           timestamptz,
  -- A rotated key keeps working until then (rotate's graceSeconds); NULL: it stopped when rotated.
  grace_until          timestamptz,
  revoked_at           timestamptz,
  -- A run token's task: every other task is 404 for it (api/routes/scope.ts).
  task_id              uuid,
  run_id               text,
  -- AgentRail's agent fields, per key, as its clients sent them.
  agent_display_name   text NOT NULL,
  agent_role           text NOT NULL,
  external_identities  jsonb NOT NULL DEFAULT '[]'::jsonb,
  -- Usage: totals, accepted calls by the scope they required and by operation, the current fixed window.
  last_used_at         timestamptz,
  accepted             bigint NOT NULL DEFAULT 0,
  denied               bigint NOT NULL DEFAULT 0,
  by_scope             jsonb NOT NULL DEFAULT '{}'::jsonb,
  by_operation         jsonb NOT NULL DEFAULT '{}'::jsonb,
  window_started_at    timestamptz,
  window_used          integer NOT NULL DEFAULT 0
);
CREATE INDEX agent_api_keys_agent_idx ON agent_api_keys (agent_id, created_at);
CREATE INDEX agent_api_keys_company_idx ON agent_api_keys (company_id, created_at);

-- The keys agents already hold keep every power they had: every scope, and a window no agent reaches.
INSERT INTO agent_api_keys (id, key_hash, agent_id, company_id, kind, scopes, window_seconds, max_requests, created_at, agent_display_name, agent_role)
SELECT 'akey_' || substr(md5('agent-key:' || a.id::text), 1, 20), a.api_key_hash, a.id, a.company_id, 'agent_key',
       ARRAY['auth:admin', 'ci:read', 'events:read', 'providers:write', 'routing:admin', 'routing:evaluate', 'routing:read', 'reviews:read',
             'ship:write', 'tasks:read', 'tasks:write', 'usage:read', 'webhooks:read', 'webhooks:write'],
       60, 10000, a.created_at, a.name, COALESCE(a.role, 'agent')
FROM agents a;

-- Run tokens still live become keys of their wake's task, with what an agent working one task needs.
INSERT INTO agent_api_keys (id, key_hash, agent_id, company_id, kind, scopes, created_at, expires_at, task_id, run_id, agent_display_name, agent_role)
SELECT 'akey_' || substr(md5('run-token:' || t.token_hash), 1, 20), t.token_hash, t.agent_id, a.company_id, 'run_token',
       ARRAY['ci:read', 'providers:write', 'reviews:read', 'ship:write', 'tasks:read', 'tasks:write'],
       t.created_at, t.expires_at, t.issue_id, t.run_id, a.name, COALESCE(a.role, 'agent')
FROM run_tokens t JOIN agents a ON a.id = t.agent_id
WHERE t.expires_at > now();

-- One place answers "who is this key": the old columns would be a second, unrevocable one.
DROP TABLE run_tokens;
ALTER TABLE agents DROP COLUMN api_key_hash;

-- The gate every agent request passes (api/key-admission.ts), in one round trip: find the key, refuse it
-- (unknown, rotated or revoked, expired, scope missing, window full) or admit it, and count either way.
-- The key's row lock serializes its own requests, so the fixed window holds across every API process.
-- A window opens at the first request after the previous one ended. Only requests that pass the scope
-- check enter the window; a refusal for expiry, scope or rate counts as denied.
CREATE FUNCTION sy_admit_agent_key(p_hash text, p_scope text, p_operation text)
RETURNS TABLE (
  verdict text, key_id text, agent_id uuid, agent_name text, agent_role text, company_id uuid, scopes text[], task_id uuid, run_id text,
  window_seconds integer, max_requests integer, window_used integer, reset_at timestamptz, retry_after_seconds integer
) LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  k agent_api_keys%ROWTYPE;
  started timestamptz;
  used integer;
BEGIN
  -- Counters, not decisions: committed without waiting for the WAL flush (a Postgres crash may forget
  -- the last few milliseconds of counts; revocation and rotation are their own, durable, statements).
  PERFORM set_config('synchronous_commit', 'off', true);
  SELECT * INTO k FROM agent_api_keys WHERE key_hash = p_hash FOR UPDATE;
  IF NOT FOUND THEN
    verdict := 'unknown';
    RETURN NEXT;
    RETURN;
  END IF;
  key_id := k.id; agent_id := k.agent_id; company_id := k.company_id; scopes := k.scopes; task_id := k.task_id; run_id := k.run_id;
  window_seconds := k.window_seconds; max_requests := k.max_requests;
  SELECT a.name, a.role INTO agent_name, agent_role FROM agents a WHERE a.id = k.agent_id;
  IF k.status = 'revoked' OR (k.status = 'rotated' AND (k.grace_until IS NULL OR k.grace_until <= now())) THEN
    verdict := 'inactive';
    RETURN NEXT;
    RETURN;
  END IF;
  IF k.expires_at IS NOT NULL AND k.expires_at <= now() THEN
    UPDATE agent_api_keys SET denied = denied + 1 WHERE id = k.id;
    verdict := 'expired';
    RETURN NEXT;
    RETURN;
  END IF;
  IF p_scope IS NOT NULL AND NOT (p_scope = ANY (k.scopes) OR 'auth:admin' = ANY (k.scopes)) THEN
    UPDATE agent_api_keys SET denied = denied + 1 WHERE id = k.id;
    verdict := 'insufficient_scope';
    RETURN NEXT;
    RETURN;
  END IF;
  started := k.window_started_at;
  used := k.window_used;
  IF started IS NULL OR started + make_interval(secs => k.window_seconds) <= now() THEN
    started := now();
    used := 0;
  END IF;
  reset_at := started + make_interval(secs => k.window_seconds);
  IF used >= k.max_requests THEN
    UPDATE agent_api_keys SET denied = denied + 1 WHERE id = k.id;
    verdict := 'rate_limited';
    window_used := used;
    retry_after_seconds := greatest(1, ceil(extract(epoch FROM reset_at - now())))::integer;
    RETURN NEXT;
    RETURN;
  END IF;
  UPDATE agent_api_keys SET
    window_started_at = started,
    window_used = used + 1,
    accepted = accepted + 1,
    last_used_at = now(),
    by_scope = CASE WHEN p_scope IS NULL THEN by_scope ELSE jsonb_set(by_scope, ARRAY[p_scope], to_jsonb(COALESCE((by_scope->>p_scope)::bigint, 0) + 1)) END,
    by_operation = CASE WHEN p_operation IS NULL THEN by_operation ELSE jsonb_set(by_operation, ARRAY[p_operation], to_jsonb(COALESCE((by_operation->>p_operation)::bigint, 0) + 1)) END
  WHERE id = k.id;
  verdict := 'admitted';
  window_used := used + 1;
  RETURN NEXT;
END
$fn$;
