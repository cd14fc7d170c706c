/**
 * /healthz: the process answers. /readyz: Temporal and Postgres answer, and a worker is polling the
 * task queue (without one, every change would wait until its deadline); 503 says which is missing —
 * under `npm start`, a worker being restarted and how it stopped. Workflow runs quarantined
 * for killing workers are counted (`checks.workflowTasks`; listed for the admin key) without making
 * the stack unready.
 */
import { Router } from 'express';
import { adminKeyMatcher, bearerKey } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { supervisedStatus } from '../../scripts/stack/processes.js';
import { quarantinedRuns } from '../../worker/quarantine.js';

export function healthRouter({ pool, tasks, adminKey }: ApiDeps): Router {
  // Unauthenticated routes: only the admin key, if sent, shows the quarantined runs by name.
  const isAdminKey = adminKeyMatcher(adminKey);
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (req, res) => {
    // Each check answers within 3 s: a paused dependency is "not ready", never a hung probe.
    const probe = async (fn: () => Promise<unknown>) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const ok = await Promise.race([fn(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer within 3 s')), 3_000)))]);
        return ok === false ? { ok: false, error: 'no worker has polled the task queue lately' } : { ok: true };
      } catch (err) {
        return { ok: false, error: (err as Error).message };
      } finally {
        clearTimeout(timer);
      }
    };
    const [temporal, postgres] = await Promise.all([probe(() => tasks.ping()), probe(() => pool.query('SELECT 1'))]);
    // Under `npm start`, the supervisor's record says when the worker is down and how it stopped (its output
    // stays in npm start's console: /readyz answers anyone).
    const supervised = process.env.SWITCHYARD_STATE_DIR ? supervisedStatus(process.env.SWITCHYARD_STATE_DIR, 'worker') : undefined;
    const worker = supervised?.state === 'restarting'
      ? { ok: false, error: `the worker stopped (${supervised.lastExit}) and restarts at ${supervised.restartAt} (restart ${supervised.restarts} in a row)` }
      : temporal.ok ? await probe(() => tasks.workerPolling()) : { ok: false, error: 'Temporal is not reachable' };
    // Runs whose activations killed workers (worker/quarantine.ts): listed, but the rest of the stack is ready.
    // Anyone sees how many; the operator (admin key) sees which.
    const quarantined = postgres.ok ? await quarantinedRuns(pool).catch(() => []) : [];
    const workflowTasks = isAdminKey(bearerKey(req.headers.authorization)) ? { ok: true, quarantined } : { ok: true, quarantinedCount: quarantined.length };
    const ready = temporal.ok && postgres.ok && worker.ok;
    if (!ready) res.setHeader('Retry-After', '2');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: { temporal, postgres, worker, workflowTasks } });
  });
  return router;
}
