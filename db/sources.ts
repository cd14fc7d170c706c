/** Connected repositories (`sources`): stored with sealed secrets; presented without them. */
import type pg from 'pg';
import { DomainError } from '../domain/errors.js';
import type { ReviewPolicy } from '../domain/lifecycle.js';

type Queryable = Pick<pg.Pool, 'query'>;

export interface SourceRow {
  id: string;
  company_id: string;
  provider: 'github';
  owner: string;
  repo: string;
  base_url: string | null;
  credential_kind: 'token' | 'app';
  credential_sealed: string;
  webhook_secret_sealed: string | null;
  poll_interval_seconds: number | null;
  labels: { include?: string[]; exclude?: string[] };
  review_policy: ReviewPolicy;
  default_branch: string | null;
  paused: boolean;
  cursor: string | null;
  last_poll_at: string | null;
  last_poll_error: string | null;
  created_at: string;
  updated_at: string;
}

/** What any route shows of a source: never a credential or a webhook secret, only whether one is set. */
export function presentSource(r: SourceRow) {
  return {
    id: r.id,
    companyId: r.company_id,
    provider: r.provider,
    owner: r.owner,
    repo: r.repo,
    baseUrl: r.base_url,
    credential: { kind: r.credential_kind, configured: true },
    webhook: { configured: r.webhook_secret_sealed !== null, path: `/api/providers/${r.provider}/webhooks/${r.id}` },
    pollIntervalSeconds: r.poll_interval_seconds,
    labels: r.labels,
    reviewPolicy: r.review_policy,
    defaultBranch: r.default_branch,
    paused: r.paused,
    schedule: r.poll_interval_seconds ? `intake/${r.id}` : null,
    cursor: r.cursor,
    lastPollAt: r.last_poll_at,
    lastPollError: r.last_poll_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export async function getSource(db: Queryable, id: string): Promise<SourceRow> {
  const { rows } = await db.query<SourceRow>('SELECT * FROM sources WHERE id = $1 AND deleted_at IS NULL', [id]);
  if (!rows[0]) throw new DomainError('not_found', 'Source not found', { sourceId: id });
  return rows[0];
}

export async function listSources(db: Queryable, companyId: string): Promise<SourceRow[]> {
  return (await db.query<SourceRow>('SELECT * FROM sources WHERE company_id = $1 AND deleted_at IS NULL ORDER BY created_at', [companyId])).rows;
}

/** Every source with polling, for the worker to keep their Schedules in step at start. */
export async function listPolledSources(db: Queryable): Promise<SourceRow[]> {
  return (await db.query<SourceRow>('SELECT * FROM sources WHERE deleted_at IS NULL AND poll_interval_seconds IS NOT NULL')).rows;
}
