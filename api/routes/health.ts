/** /healthz: the process answers. /readyz: Temporal and Postgres both answer (503 says which does not). */
import { Router } from 'express';
import type { ApiDeps } from '../deps.js';

export function healthRouter({ pool, tasks }: ApiDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const probe = async (fn: () => Promise<unknown>) => {
      try {
        await fn();
        return { ok: true };
      } catch (err) {
        return { ok: false, error: (err as Error).message };
      }
    };
    const [temporal, postgres] = await Promise.all([probe(() => tasks.ping()), probe(() => pool.query('SELECT 1'))]);
    const ready = temporal.ok && postgres.ok;
    if (!ready) res.setHeader('Retry-After', '2');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: { temporal, postgres } });
  });
  return router;
}
