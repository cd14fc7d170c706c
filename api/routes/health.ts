/**
 * /healthz: the process answers. /readyz: Temporal and Postgres answer, and a worker is polling the
 * task queue (without one, every change would wait until its deadline); 503 says which is missing.
 */
import { Router } from 'express';
import type { ApiDeps } from '../deps.js';

export function healthRouter({ pool, tasks }: ApiDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
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
    const worker = temporal.ok ? await probe(() => tasks.workerPolling()) : { ok: false, error: 'Temporal is not reachable' };
    const ready = temporal.ok && postgres.ok && worker.ok;
    if (!ready) res.setHeader('Retry-After', '2');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: { temporal, postgres, worker } });
  });
  return router;
}
