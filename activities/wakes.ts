/**
 * Waking an agent: every wake is recorded (GET /api/agents/me/wakeups serves agents that poll), then
 * delivered to the agent's wake target if it has one: a signed HTTP POST (retried by Temporal with
 * backoff for hours; the receiver deduplicates by wakeId), or a process spawned on this worker host
 * (managed local mode) with a short-lived run token as its API key, good for the wake's task only.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { Pool } from '../db/pool.js';
import type { Config } from '../runtime/config.js';
import type { SecretBox } from '../runtime/secrets.js';
import { mintRunToken } from '../db/agent-keys.js';
import { logger } from '../runtime/logger.js';
import { storable } from '../domain/text.js';
import type { DeliveryActivities } from '../workflows/activity-types.js';
import { agentEnvironment, freshRunDirectory, resolveRunAs, spawnAgent } from './agent-process.js';

export type WakeTarget =
  | { type: 'http'; url: string; secret: string }
  /** `env`: variables the operator gives the agent (sealed with the target); `user`: the OS user it runs as. */
  | { type: 'process'; command: string; args?: string[]; cwd?: string; env?: Record<string, string>; user?: string };

export const signWake = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

type WakeInput = Parameters<DeliveryActivities['wakeAgent']>[0];

export function createWakeActivity(pool: Pool, box: () => SecretBox, config: Config): DeliveryActivities['wakeAgent'] {
  return async (given: WakeInput) => {
    // Text from upstream (an issue title) may hold what Postgres cannot store; the wake carries it anyway.
    const w = storable(given);
    await pool.query(
      `INSERT INTO wakeups (id, company_id, agent_id, issue_id, reason, summary, details, comment_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (id) DO NOTHING`,
      [w.wakeId, w.companyId, w.agentId, w.issueId, w.reason, w.summary, w.details ? JSON.stringify(w.details) : null, w.commentId ?? null],
    );
    const { rows } = await pool.query<{ status: string; wake_target_type: string | null; wake_target_sealed: string | null }>(
      `SELECT w.status, a.wake_target_type, a.wake_target_sealed FROM wakeups w JOIN agents a ON a.id = w.agent_id WHERE w.id = $1`,
      [w.wakeId],
    );
    const row = rows[0];
    if (!row) throw ApplicationFailure.create({ type: 'not_found', message: `agent ${w.agentId} not found`, nonRetryable: true });
    if (row.status === 'delivered' || row.status.startsWith('exited')) return { delivered: row.wake_target_type === 'process' ? 'process' : 'http' };
    if (!row.wake_target_type || !row.wake_target_sealed) {
      await pool.query(`UPDATE wakeups SET status = 'queued' WHERE id = $1`, [w.wakeId]);
      return { delivered: 'queued' };
    }
    const target = JSON.parse(box().open(row.wake_target_sealed, `the wake target of agent ${w.agentId}`)) as WakeTarget;
    await pool.query('UPDATE wakeups SET attempts = attempts + 1 WHERE id = $1', [w.wakeId]);
    try {
      if (target.type === 'http') await deliverHttp(target, w);
      else await runProcess(pool, config, target, w);
      return { delivered: target.type };
    } catch (err) {
      await pool.query('UPDATE wakeups SET last_error = $2 WHERE id = $1', [w.wakeId, String((err as Error).message).slice(0, 500)]);
      throw err;
    }
  };

  async function deliverHttp(target: Extract<WakeTarget, { type: 'http' }>, w: WakeInput): Promise<void> {
    const body = JSON.stringify({ wakeId: w.wakeId, reason: w.reason, taskId: w.issueId, agentId: w.agentId, companyId: w.companyId, summary: w.summary, commentId: w.commentId ?? null, details: w.details ?? null, sentAt: new Date().toISOString() });
    const res = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-switchyard-signature': signWake(target.secret, body), 'x-switchyard-wake-id': w.wakeId },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`wake target answered ${res.status}`);
    await pool.query(`UPDATE wakeups SET status = 'delivered', delivered_at = now(), last_error = NULL WHERE id = $1`, [w.wakeId]);
  }

  async function runProcess(db: Pool, cfg: Config, target: Extract<WakeTarget, { type: 'process' }>, w: WakeInput): Promise<void> {
    const as = resolveRunAs(target.user);
    if (!as.ok) throw ApplicationFailure.create({ type: 'wake_failed', message: as.why, nonRetryable: true });
    if (!as.runAs && process.getuid?.() === 0) warnRunningAsRoot();
    const runId = `run_${randomUUID()}`;
    // A key of the wake's task only (every other task is 404 for it), expiring (docs/keys.md).
    const token = await mintRunToken(db, { agentId: w.agentId, issueId: w.issueId, runId, ttlSeconds: cfg.runTokenTtlSeconds });
    await db.query('UPDATE wakeups SET run_id = $2 WHERE id = $1', [w.wakeId, runId]);
    const url = cfg.publicUrl ?? `http://127.0.0.1:${cfg.port}`;
    const wake: Record<string, string> = {
      SWITCHYARD_URL: url,
      SWITCHYARD_API_KEY: token,
      SWITCHYARD_RUN_ID: runId,
      SWITCHYARD_TASK_ID: w.issueId,
      SWITCHYARD_WAKE_REASON: w.reason,
      SWITCHYARD_WAKE_ID: w.wakeId,
      ...(w.commentId ? { SWITCHYARD_WAKE_COMMENT_ID: w.commentId } : {}),
      // Paperclip's names too, so an agent written for Paperclip's heartbeat runs unchanged.
      PAPERCLIP_API_URL: url,
      PAPERCLIP_API_KEY: token,
      PAPERCLIP_AGENT_ID: w.agentId,
      PAPERCLIP_COMPANY_ID: w.companyId,
      PAPERCLIP_RUN_ID: runId,
      PAPERCLIP_TASK_ID: w.issueId,
      PAPERCLIP_WAKE_REASON: w.reason,
      ...(w.commentId ? { PAPERCLIP_WAKE_COMMENT_ID: w.commentId } : {}),
      // What woke it, in full (an interaction's id, status and reject reason; the blockers or children).
      ...(w.details ? { PAPERCLIP_WAKE_PAYLOAD_JSON: JSON.stringify(w.details), SWITCHYARD_WAKE_DETAILS: JSON.stringify(w.details) } : {}),
    };
    // Never the worker's whole environment: it holds the admin key, the secret key and the database URL.
    const env = agentEnvironment(process.env, target.env, wake, as.runAs?.home);
    const scratch = target.cwd ? undefined : freshRunDirectory(as.runAs);
    const ids = as.runAs ? { uid: as.runAs.uid, gid: as.runAs.gid } : {};
    const beat = setInterval(() => Context.current().heartbeat({ runId }), 5_000);
    try {
      const child = spawnAgent(target.command, target.args ?? [], { cwd: target.cwd ?? scratch!.dir, env, stdio: 'ignore', ...ids });
      const code = await new Promise<number | string>((resolve, reject) => {
        child.once('error', (err) => reject(ApplicationFailure.create({ type: 'wake_failed', message: `could not start ${target.command}: ${err.message}`, nonRetryable: true })));
        child.once('exit', (c, signal) => resolve(c ?? signal ?? 'unknown'));
        Context.current().cancelled.catch(() => child.kill('SIGTERM'));
      });
      await db.query(`UPDATE wakeups SET status = $2, delivered_at = now() WHERE id = $1`, [w.wakeId, `exited:${code}`]);
    } finally {
      clearInterval(beat);
      scratch?.remove();
    }
  }
}

let warned = false;
/** Once per process: an agent started by a root worker without a `user` runs as root. */
function warnRunningAsRoot(): void {
  if (warned) return;
  warned = true;
  logger.warn('process wakes run as root: set `user` on the wake target (or run the wakes worker under its own account) so an agent cannot read what root can');
}
