/** Wake targets (operator sets one per agent; the secret is sealed and never shown) and the wakes an agent can poll. */
import { Router } from 'express';
import { DomainError } from '../../domain/errors.js';
import { secretBox } from '../../runtime/secrets.js';
import { callerOf, requireOperator } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { isUuid } from '../read-model.js';
import { parse } from '../schemas.js';
import * as schema from '../schemas-delivery.js';

export function agentWakesRouter({ pool, config, adminKey }: ApiDeps): Router {
  const router = Router();

  router.put('/api/agents/:agentId/wake-target', async (req, res) => {
    requireOperator(res);
    const agentId = String(req.params.agentId);
    const body = parse(schema.putWakeTarget, req.body);
    if (!isUuid(agentId)) throw new DomainError('not_found', 'Agent not found');
    if (body.target?.type === 'process') refuseOperatorSecrets(body.target.env, [adminKey, config.secretKey, config.databaseUrl]);
    const sealed = body.target ? secretBox(config.secretKey).seal(JSON.stringify(body.target)) : null;
    const { rowCount } = await pool.query('UPDATE agents SET wake_target_type = $2, wake_target_sealed = $3 WHERE id = $1', [agentId, body.target?.type ?? null, sealed]);
    if (!rowCount) throw new DomainError('not_found', 'Agent not found');
    res.json({ agentId, wakeTarget: body.target ? describe(body.target) : null });
  });

  router.get('/api/agents/me/wakeups', async (req, res) => {
    const caller = callerOf(res);
    if (caller.kind !== 'agent') throw new DomainError('forbidden', 'The operator key is not an agent');
    const limit = Math.min(100, Math.max(1, Number(req.query.limit ?? 50) || 50));
    const { rows } = await pool.query(
      `SELECT w.id AS "wakeId", w.issue_id AS "taskId", i.identifier, w.reason, w.summary, w.details, w.comment_id AS "commentId", w.status, w.attempts, w.run_id AS "runId",
              w.created_at AS "createdAt", w.delivered_at AS "deliveredAt"
       FROM wakeups w LEFT JOIN issues i ON i.id = w.issue_id WHERE w.agent_id = $1 ORDER BY w.created_at DESC LIMIT $2`,
      [caller.agent.id, limit],
    );
    res.json({ data: rows });
  });

  return router;
}

/** A target as shown back: where, never the secret nor a variable's value (only their names). */
function describe(t: NonNullable<ReturnType<typeof schema.putWakeTarget.parse>['target']>) {
  if (t.type === 'http') return { type: 'http', url: t.url, secret: { configured: true } };
  return { type: 'process', command: t.command, args: t.args ?? [], cwd: t.cwd ?? null, env: Object.keys(t.env ?? {}).sort(), user: t.user ?? null };
}

/** The operator's own keys are never an agent's: a variable carrying one is a mistake, refused. */
function refuseOperatorSecrets(env: Record<string, string> | undefined, operatorSecrets: Array<string | undefined>): void {
  const secrets = operatorSecrets.filter((x): x is string => !!x);
  for (const [name, value] of Object.entries(env ?? {})) {
    if (secrets.some((secret) => value.includes(secret))) {
      throw new DomainError('validation_error', `target.env.${name} carries an operator secret (the admin key, the secret key or the database URL): agents never get those`, { field: `target.env.${name}` });
    }
  }
}
