/**
 * AgentRail's agent API keys under `/api/agent-api-keys` (issue 15 §4): create (201, the secret shown
 * once), rotate (201, optional grace), list, read, revoke (DELETE, 200) and usage. The operator's key
 * manages every key; an agent key holding auth:admin manages its company's. Only a secret's hash is
 * stored: a create replayed with its Idempotency-Key derives the same secret again (runtime/keys.ts
 * derivedKey) instead of keeping it. docs/keys.md has the whole design.
 */
import { createHash } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { insertAgentKey } from '../../db/agent-keys.js';
import { inTransaction } from '../../db/transaction.js';
import { DomainError } from '../../domain/errors.js';
import { normalizeScopes } from '../../domain/scopes.js';
import { derivedKey, newKeyId, newKeySecret } from '../../runtime/keys.js';
import { assertMayMint, issuedKeyView, keyRow, keyView, KEY_SELECT, maySee, statusOf, usageView, visibleKey, type KeyRow } from '../agent-keys.js';
import { callerOf } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { canonical, runIdempotent } from '../idempotency.js';
import { isUuid } from '../read-model.js';
import { parse } from '../schemas.js';
import * as schema from '../schemas-keys.js';

const LIST_DEFAULT = 100;
const LIST_MAX = 500;

/** AgentRail's rule for key writes: 8 to 128 characters. */
function agentRailKey(req: Request, required: boolean): string | undefined {
  const key = req.header('idempotency-key');
  if (key === undefined && !required) return undefined;
  if (key === undefined || key.length < 8 || key.length > 128) throw new DomainError('validation_error', 'Idempotency-Key header is required.', { header: 'Idempotency-Key', minLength: 8, maxLength: 128 });
  return key;
}

const fingerprintOf = (value: unknown) => createHash('sha256').update(JSON.stringify(canonical(value))).digest('hex');
const iso = (when: string | null | undefined) => (when ? new Date(when).toISOString() : when);

/** A recorded create or rotate keeps `apiKey: null`; its replay puts the derived secret back. */
function withSecret(stored: { status: number; body: unknown }, secret: string) {
  const body = stored.body as { data: Record<string, unknown>; availableActions: unknown };
  return { status: stored.status, body: { ...body, data: { ...body.data, apiKey: secret } } };
}

export function agentApiKeysRouter({ pool, config }: ApiDeps): Router {
  const router = Router();

  /** Secrets derived from the server's secret key: the same key material that seals credentials (docs/keys.md). */
  const derive = (seed: string) => {
    if (!config.secretKey) throw new DomainError('internal_error', 'SWITCHYARD_SECRET_KEY is not set: agent API keys need it (npm start generates one)');
    return derivedKey(config.secretKey, seed);
  };
  const issued = (k: KeyRow, secret: string) => {
    const data = issuedKeyView(k, secret);
    return { status: 201, body: { data, availableActions: data.availableActions }, replayBody: { data: { ...data, apiKey: null }, availableActions: data.availableActions } };
  };

  router.post('/api/agent-api-keys', async (req, res) => {
    agentRailKey(req, true);
    const body = parse(schema.createAgentKey, req.body);
    const scopes = normalizeScopes(body.scopes);
    const agent = await agentFor(res, body.agent.id);
    assertMayMint(res, scopes);
    const request = { agent: body.agent, scopes, rateLimit: body.rateLimit ?? null, expiresAt: iso(body.expiresAt) ?? null };
    const secretOf = (seed: string) => derive(`create\u0000${seed}\u0000${fingerprintOf(request)}`);
    await runIdempotent(pool, req, res, {
      companyId: agent.companyId, operation: 'agent_api_key.create', keyRequired: true,
      restoreReplay: (stored, { seed }) => withSecret(stored, secretOf(seed!).secret),
    }, async ({ seed }) => {
      // Concurrent retries with the key derive the same id and secret: one row, one answer.
      const { id, secret } = secretOf(seed!);
      await inTransaction(pool, async (db) => {
        // An agent minting for itself is capped (each key has its own rate window); counted under a per-agent lock so racing mints cannot pass it.
        if (callerOf(res).kind === 'agent') {
          await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`agent-keys:${agent.id}`]);
          const { rows } = await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM agent_api_keys WHERE agent_id = $1 AND kind = 'api_key' AND status = 'active' AND (expires_at IS NULL OR expires_at > now()) AND id <> $2`,
            [agent.id, id],
          );
          if (rows[0]!.n >= config.maxKeysPerAgent) {
            throw new DomainError('conflict', `An agent may hold ${config.maxKeysPerAgent} live keys it minted: revoke one first`, { limit: config.maxKeysPerAgent, availableActions: ['list_agent_api_keys'] });
          }
        }
        await insertAgentKey(db, {
          id, secret, agentId: agent.id, kind: 'api_key', scopes, rateLimit: body.rateLimit, expiresAt: request.expiresAt,
          displayName: body.agent.displayName, role: body.agent.role, externalIdentities: body.agent.externalIdentities,
        });
      });
      return issued((await keyRow(pool, id))!, secret);
    });
  });

  router.post('/api/agent-api-keys/:keyId/rotate', async (req, res) => {
    const key = agentRailKey(req, false);
    const body = parse(schema.rotateAgentKey, req.body ?? {});
    const scopes = body.scopes ? normalizeScopes(body.scopes) : undefined;
    const old = await visibleKey(pool, res, req.params.keyId, 'unauthorized');
    if (scopes) assertMayMint(res, scopes);
    const secretOf = (seed: string) => derive(`rotate\u0000${old.id}\u0000${seed}\u0000${fingerprintOf({ ...body, scopes, expiresAt: iso(body.expiresAt) })}`);
    // Idempotency-Key is optional, as AgentRail's SDK sends it: with one, a retry gets the same new key; without, a retry is 409 (the old key is no longer active).
    await runIdempotent(pool, req, res, {
      companyId: old.company_id, operation: 'agent_api_key.rotate',
      restoreReplay: (stored, { seed }) => withSecret(stored, secretOf(seed!).secret),
    }, async ({ seed }) => {
      const fresh = seed && key ? secretOf(seed) : { id: newKeyId(), secret: newKeySecret() };
      const made = await inTransaction(pool, async (db) => {
        const current = (await db.query<KeyRow>(`${KEY_SELECT} WHERE k.id = $1 FOR UPDATE`, [old.id])).rows[0]!;
        // A concurrent request with the same Idempotency-Key rotated it already: that is this request's answer.
        const already = await keyRow(db, fresh.id);
        if (already) return already;
        if (statusOf(current) !== 'active') {
          throw new DomainError('conflict', 'Agent API key is not active.', { keyId: current.id, currentStatus: statusOf(current), availableActions: ['retry'] });
        }
        await db.query(
          `UPDATE agent_api_keys SET status = 'rotated', rotated_at = now(), grace_until = CASE WHEN $2::int > 0 THEN now() + make_interval(secs => $2::int) END WHERE id = $1`,
          [current.id, body.graceSeconds ?? 0],
        );
        await insertAgentKey(db, {
          id: fresh.id, secret: fresh.secret, agentId: current.agent_id, kind: current.kind as 'api_key', scopes: (scopes ?? current.scopes) as never,
          rateLimit: body.rateLimit ?? { windowSeconds: current.window_seconds, maxRequests: current.max_requests },
          expiresAt: body.expiresAt !== undefined ? iso(body.expiresAt) : current.expires_at,
          rotatedFromKeyId: current.id, taskId: current.task_id, runId: current.run_id,
          displayName: current.agent_display_name, role: current.agent_role, externalIdentities: current.external_identities,
        });
        return (await keyRow(db, fresh.id))!;
      });
      return issued(made, fresh.secret);
    });
  });

  router.get('/api/agent-api-keys', async (req, res) => {
    const q = parse(schema.listAgentKeys, req.query);
    const caller = callerOf(res);
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      values.push(value);
      where.push(clause.replace('?', `$${values.length}`));
    };
    if (caller.kind === 'agent') add('k.company_id = ?', caller.agent.companyId);
    if (q.companyId) add('k.company_id = ?', q.companyId);
    if (q.agentId) add('k.agent_id = ?', q.agentId);
    if (q.kind) add('k.kind = ?', q.kind);
    if (q.status === 'expired') where.push(`k.status = 'active' AND k.expires_at <= now()`);
    else if (q.status === 'active') where.push(`k.status = 'active' AND (k.expires_at IS NULL OR k.expires_at > now())`);
    else if (q.status) add('k.status = ?', q.status);
    const limit = Math.min(LIST_MAX, Math.max(1, Number(q.limit ?? LIST_DEFAULT)));
    const { rows } = await pool.query<KeyRow>(`${KEY_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY k.created_at DESC, k.id LIMIT ${limit}`, values);
    res.json({ data: rows.filter((k) => maySee(res, k)).map(keyView), availableActions: ['create_agent_api_key'] });
  });

  router.get('/api/agent-api-keys/:keyId', async (req, res) => {
    const data = keyView(await visibleKey(pool, res, req.params.keyId, 'not_found'));
    res.json({ data, availableActions: data.availableActions });
  });

  router.get('/api/agent-api-keys/:keyId/usage', async (req, res) => {
    const data = usageView(await visibleKey(pool, res, req.params.keyId, 'unauthorized'));
    res.json({ data, availableActions: data.availableActions });
  });

  /** Revoke: the key stops at once on every API process; a repeat answers the same snapshot. */
  router.delete('/api/agent-api-keys/:keyId', async (req, res) => {
    const k = await visibleKey(pool, res, req.params.keyId, 'not_found');
    await pool.query(`UPDATE agent_api_keys SET status = 'revoked', revoked_at = COALESCE(revoked_at, now()), grace_until = NULL WHERE id = $1`, [k.id]);
    res.json({ data: keyView((await keyRow(pool, k.id))!), availableActions: [] });
  });

  /** Our agent, by its UUID, in the caller's company; anything else is 404 (AgentRail's agt_ ids name nothing here). */
  async function agentFor(res: Response, agentId: string): Promise<{ id: string; companyId: string }> {
    const caller = callerOf(res);
    const { rows } = isUuid(agentId) ? await pool.query<{ id: string; companyId: string }>('SELECT id, company_id AS "companyId" FROM agents WHERE id = $1', [agentId]) : { rows: [] };
    const agent = rows[0];
    // An agent mints keys for itself only: for another agent it would act as that agent.
    if (!agent || (caller.kind === 'agent' && caller.agent.id !== agent.id)) {
      throw new DomainError('not_found', caller.kind === 'agent' ? 'Agent not found: an agent key mints keys for its own agent only (agent.id is its own id)' : 'Agent not found: agent.id is the id of a Switchyard agent (a UUID)', { agentId, availableActions: [] });
    }
    return agent;
  }

  return router;
}
