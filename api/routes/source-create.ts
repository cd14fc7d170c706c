/**
 * Connecting a source: a GitHub repository, or a Linear team delivering to one. Each is asked once with
 * its own credential before anything is stored (a refused key or an unknown repository or team is a 422
 * now, not an outage later), then inserted with its Schedule in one transaction under a lock per
 * company and identity, so two creates at once cannot both pass and a retried create finds its twin.
 */
import type pg from 'pg';
import type { z } from 'zod';
import { DomainError } from '../../domain/errors.js';
import { getSource, type SourceRow } from '../../db/sources.js';
import { inTransaction } from '../../db/transaction.js';
import type { Pool } from '../../db/pool.js';
import type { SecretBox } from '../../runtime/secrets.js';
import { asCredential, inspectRepository } from '../../activities/providers/registry.js';
import { inspectTeam } from '../../activities/linear/index.js';
import type * as schema from '../schemas-delivery.js';
import { checkCircleCI, ciColumns, flakyColumn } from './source-settings.js';

type CreateBody = z.infer<typeof schema.createSource>;
type GitHubBody = Extract<CreateBody, { provider: 'github' }>;
type LinearBody = Extract<CreateBody, { provider: 'linear' }>;

export interface Creation {
  pool: Pool;
  box: SecretBox;
  companyId: string;
  id: string;
  deadline: number;
  /** Brings the new source's Schedule in; a failure rolls the insert back. */
  schedule: (db: pg.PoolClient, source: SourceRow) => Promise<void>;
}

async function insert(db: pg.PoolClient, columns: Record<string, unknown>): Promise<void> {
  const names = Object.keys(columns);
  await db.query(`INSERT INTO sources (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT (id) DO NOTHING`, Object.values(columns));
}

async function lockedTwin(db: pg.PoolClient, lockKey: string, sql: string, params: unknown[]): Promise<string | undefined> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [lockKey]);
  return (await db.query<{ id: string }>(sql, params)).rows[0]?.id;
}

export async function createGitHubSource(c: Creation, body: GitHubBody): Promise<SourceRow> {
  const repo = await inspectRepository({ ...body, credential: asCredential(body.credential) }, c.deadline);
  const ci = body.ci ? ciColumns(body.ci, c.box) : {};
  await checkCircleCI(body.ci, c.box, c.deadline);
  // One live source per repository per company: a retried create (a 503 whose work had landed) or a
  // second connection of the same repository would otherwise take every issue in twice.
  return inTransaction(c.pool, async (db) => {
    const twin = await lockedTwin(db, `source:${c.companyId}:${repo.id}`,
      `SELECT id FROM sources WHERE company_id = $1 AND repo_id = $2 AND base_url IS NOT DISTINCT FROM $3 AND deleted_at IS NULL AND id <> $4 LIMIT 1`,
      [c.companyId, repo.id, body.baseUrl ?? null, c.id]);
    if (twin) throw new DomainError('source_exists', `${repo.owner}/${repo.repo} is already connected to this company as source ${twin}: change that one (PATCH), or delete it first`, { sourceId: twin });
    await insert(db, {
      id: c.id, company_id: c.companyId, provider: 'github', owner: repo.owner, repo: repo.repo, base_url: body.baseUrl ?? null,
      credential_kind: 'token' in body.credential ? 'token' : 'app', credential_sealed: c.box.seal(JSON.stringify(body.credential)),
      webhook_secret_sealed: body.webhookSecret ? c.box.seal(body.webhookSecret) : null,
      poll_interval_seconds: body.pollIntervalSeconds === undefined ? 60 : body.pollIntervalSeconds, labels: JSON.stringify(body.labels ?? {}),
      review_policy: body.reviewPolicy ?? 'require', default_branch: body.defaultBranch ?? null, repo_id: repo.id,
      ...ci, flaky: flakyColumn(body.flaky),
    });
    const source = await getSource(db, c.id);
    await c.schedule(db, source);
    return source;
  });
}

/** The GitHub source a Linear team delivers to: named by id or by owner/repo, of the same company and live. */
async function deliveryRepository(db: pg.PoolClient, companyId: string, given: LinearBody['repository']): Promise<SourceRow> {
  const { rows } = 'sourceId' in given
    ? await db.query<SourceRow>(`SELECT * FROM sources WHERE id = $1 AND company_id = $2 AND provider = 'github' AND deleted_at IS NULL`, [given.sourceId, companyId])
    : await db.query<SourceRow>(`SELECT * FROM sources WHERE company_id = $1 AND provider = 'github' AND lower(owner) = lower($2) AND lower(repo) = lower($3) AND deleted_at IS NULL ORDER BY created_at LIMIT 1`, [companyId, given.owner, given.repo]);
  if (!rows[0]) {
    const named = 'sourceId' in given ? `source ${given.sourceId}` : `${given.owner}/${given.repo}`;
    throw new DomainError('repository_not_found', `${named} is not a GitHub repository connected to this company: connect it first (POST /api/companies/{companyId}/sources with provider "github"), then name it in repository`, { repository: given });
  }
  return rows[0];
}

export async function createLinearSource(c: Creation, body: LinearBody): Promise<SourceRow> {
  const team = await inspectTeam({ apiKey: body.credential.apiKey, apiUrl: body.apiUrl, teamKey: body.teamKey }, c.deadline);
  return inTransaction(c.pool, async (db) => {
    const repository = await deliveryRepository(db, c.companyId, body.repository);
    // One live source per Linear team per company, for the same reason as one per repository.
    const twin = await lockedTwin(db, `source:${c.companyId}:linear:${team.id}`,
      `SELECT id FROM sources WHERE company_id = $1 AND provider = 'linear' AND team_id = $2 AND deleted_at IS NULL AND id <> $3 LIMIT 1`,
      [c.companyId, team.id, c.id]);
    if (twin) throw new DomainError('source_exists', `Linear team ${team.key} is already connected to this company as source ${twin}: change that one (PATCH), or delete it first`, { sourceId: twin });
    await insert(db, {
      id: c.id, company_id: c.companyId, provider: 'linear', owner: repository.owner, repo: repository.repo, base_url: body.apiUrl ?? null,
      credential_kind: 'token', credential_sealed: c.box.seal(JSON.stringify(body.credential)),
      webhook_secret_sealed: body.webhookSecret ? c.box.seal(body.webhookSecret) : null,
      poll_interval_seconds: body.pollIntervalSeconds === undefined ? 60 : body.pollIntervalSeconds, labels: JSON.stringify(body.labels ?? {}),
      review_policy: body.reviewPolicy ?? repository.review_policy, default_branch: repository.default_branch,
      team_key: team.key, team_id: team.id, states: JSON.stringify(body.states ?? []), delivery_source_id: repository.id, upstream_user_id: team.viewerId,
    });
    const source = await getSource(db, c.id);
    await c.schedule(db, source);
    return source;
  });
}
