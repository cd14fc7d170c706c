/** Companies and their agents: created by the operator; agents read their own. */
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { inTransaction } from '../../db/transaction.js';
import { issuePrefixOf } from '../../domain/creation.js';
import { DomainError } from '../../domain/errors.js';
import { assertCompanyAccess, callerOf, newAgentKey, requireOperator } from '../auth.js';
import { insertAgentKeyOfNewAgent } from '../../db/agent-keys.js';
import type { ApiDeps } from '../deps.js';
import { runIdempotent } from '../idempotency.js';
import { uuidFromSeed } from '../../runtime/ids.js';
import * as schema from '../schemas.js';

export function companiesRouter({ pool, reads, config }: ApiDeps): Router {
  const router = Router();

  const checkSettings = (settings: schema.CompanySettings | undefined) =>
    schema.assertLeaseSeconds(settings?.defaultLeaseSeconds, config.minLeaseSeconds, 'settings.defaultLeaseSeconds');

  router.post('/api/companies', async (req, res) => {
    requireOperator(res);
    const body = schema.parse(schema.createCompany, req.body);
    checkSettings(body.settings);
    await runIdempotent(pool, req, res, { companyId: '00000000-0000-0000-0000-000000000000', operation: 'company.create' }, async ({ seed }) => {
      // With a key the id derives from it, so a retried create finds the same company.
      const id = seed ? uuidFromSeed(seed) : randomUUID();
      await inTransaction(pool, async (db) => {
        // A prefix derived from the name is made unique (ACME, ACME2, …) under a lock, so `ACME-1` names one
        // issue whoever asks; a prefix the operator chose is kept as given.
        let prefix = body.issuePrefix;
        if (!prefix) {
          const base = issuePrefixOf(body.name);
          await db.query(`SELECT pg_advisory_xact_lock(hashtext('issue-prefix:' || $1))`, [base]);
          const taken = new Set((await db.query<{ p: string }>(`SELECT issue_prefix AS p FROM companies WHERE issue_prefix ~ ('^' || $1 || '[0-9]*$') AND id <> $2`, [base, id])).rows.map((r) => r.p));
          prefix = base;
          for (let n = 2; taken.has(prefix); n++) prefix = `${base}${n}`;
        }
        await db.query('INSERT INTO companies (id, name, settings, issue_prefix) VALUES ($1,$2,$3,$4) ON CONFLICT (id) DO NOTHING', [id, body.name, body.settings ?? {}, prefix]);
      });
      return { status: 201, body: await reads.company(id) };
    });
  });

  router.get('/api/companies/:companyId', async (req, res) => {
    assertCompanyAccess(res, req.params.companyId);
    res.json(await reads.company(req.params.companyId));
  });

  router.patch('/api/companies/:companyId', async (req, res) => {
    assertCompanyAccess(res, req.params.companyId);
    requireOperator(res);
    const body = schema.parse(schema.patchCompany, req.body);
    checkSettings(body.settings);
    const company = await reads.company(req.params.companyId);
    await runIdempotent(pool, req, res, { companyId: company.id, operation: 'company.update' }, async () => {
      const { rows } = await pool.query(
        `UPDATE companies SET name = COALESCE($2, name), settings = settings || $3::jsonb, updated_at = now() WHERE id = $1 RETURNING id, name, settings`,
        [company.id, body.name ?? null, JSON.stringify(body.settings ?? {})],
      );
      return { status: 200, body: rows[0] };
    });
  });

  router.post('/api/companies/:companyId/agents', async (req, res) => {
    requireOperator(res);
    const company = await reads.company(req.params.companyId);
    const body = schema.parse(schema.createAgent, req.body);
    await runIdempotent(pool, req, res, { companyId: company.id, operation: 'agent.create', reentrant: false }, async () => {
      const apiKey = newAgentKey();
      // The agent and its key (every scope, as agent keys always had: docs/keys.md) together.
      const rows = await inTransaction(pool, async (db) => {
        const created = await db.query(
          `INSERT INTO agents (id, company_id, name, role) VALUES ($1,$2,$3,$4)
           RETURNING id, name, company_id AS "companyId", role, created_at AS "createdAt"`,
          [randomUUID(), company.id, body.name, body.role ?? null],
        );
        await insertAgentKeyOfNewAgent(db, created.rows[0].id, apiKey);
        return created.rows;
      });
      // The key is shown this once; only its hash is kept, so a replay cannot show it again.
      return { status: 201, body: { agent: rows[0], apiKey }, replayBody: { agent: rows[0], apiKey: null, apiKeyShownOnce: true } };
    });
  });

  router.get('/api/companies/:companyId/agents', async (req, res) => {
    assertCompanyAccess(res, req.params.companyId);
    const company = await reads.company(req.params.companyId);
    const { rows } = await pool.query(
      'SELECT id, name, company_id AS "companyId", role, created_at AS "createdAt" FROM agents WHERE company_id = $1 ORDER BY created_at',
      [company.id],
    );
    res.json(rows);
  });

  router.get('/api/agents/me', (_req, res) => {
    const caller = callerOf(res);
    if (caller.kind !== 'agent') throw new DomainError('forbidden', 'The operator key is not an agent');
    // Paperclip's shape around ours: no budgets, titles or reporting lines are modelled here.
    res.json({ title: null, status: 'active', reportsTo: null, capabilities: null, budgetMonthlyCents: 0, spentMonthlyCents: 0, permissions: {}, chainOfCommand: [], ...caller.agent });
  });

  return router;
}
