/** Connected repositories (`sources`): stored with sealed secrets; presented without them. */
import type { Pool } from './pool.js';
import { inTransaction } from './transaction.js';
import type pg from 'pg';
import { DomainError } from '../domain/errors.js';
import type { ReviewPolicy } from '../domain/lifecycle.js';

type Queryable = Pick<pg.Pool, 'query'>;

export interface SourceRow {
  id: string;
  company_id: string;
  /** github: a repository (intake and delivery); linear: a team's issues, delivered to `delivery_source_id`'s repository. */
  provider: 'github' | 'linear';
  owner: string;
  repo: string;
  /** GitHub's numeric repository id; null for a source not yet asked. */
  repo_id: string | number | null;
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
  /** Linear: the team taken in, its state filter, and the GitHub source its tasks deliver to. */
  team_key: string | null;
  team_id: string | null;
  states: string[];
  delivery_source_id: string | null;
  upstream_user_id: string | null;
  /** GitHub: the CI systems its heads are judged by, CircleCI's project, and the flaky policy. */
  ci_providers: Array<'github_actions' | 'circleci'>;
  circleci: { projectSlug: string; baseUrl?: string | null } | null;
  circleci_token_sealed: string | null;
  circleci_webhook_secret_sealed: string | null;
  flaky: FlakyPolicy;
}

export interface FlakyPolicy {
  rerunOnce: boolean;
  /** The least confidence a failure needs to be re-run before its agent is woken. */
  rerunAt: 'high' | 'medium';
}

/** What any route shows of a source: never a credential or a webhook secret, only whether one is set. */
export function presentSource(r: SourceRow) {
  const linear = r.provider === 'linear';
  return {
    id: r.id,
    companyId: r.company_id,
    provider: r.provider,
    owner: r.owner,
    repo: r.repo,
    ...(linear
      ? { teamKey: r.team_key, teamId: r.team_id, states: r.states, repository: { sourceId: r.delivery_source_id, owner: r.owner, repo: r.repo }, apiUrl: r.base_url }
      : {
          baseUrl: r.base_url,
          ci: {
            providers: r.ci_providers,
            circleci: r.circleci
              ? { projectSlug: r.circleci.projectSlug, baseUrl: r.circleci.baseUrl ?? null, token: { configured: r.circleci_token_sealed !== null }, webhook: { configured: r.circleci_webhook_secret_sealed !== null, path: `/api/providers/circleci/webhooks/${r.id}` } }
              : null,
          },
          flaky: r.flaky,
        }),
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

/**
 * The source a task delivers through. One deleted since (its tasks were all finished then; one was
 * reopened later) is named as such: the task can no longer reach its repository, and an operator
 * closes or cancels it.
 */
export async function getDeliverySource(db: Queryable, id: string): Promise<SourceRow> {
  const { rows } = await db.query<SourceRow & { deleted_at: string | null }>('SELECT * FROM sources WHERE id = $1', [id]);
  if (rows[0]?.deleted_at) {
    throw new DomainError('source_deleted', 'The source this task delivers through was deleted: it can no longer reach its repository. An operator closes or cancels the task (a new task from a new source takes the work on)', { sourceId: id });
  }
  return getSource(db, id);
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

/**
 * The key an upstream issue is claimed under (one task per key): the repository's numeric id once the
 * source knows it, else its lower-cased full name. The same on every path (poll, webhook), whatever
 * case a payload or an operator spelt the repository in.
 */
export function claimKeyOf(source: Pick<SourceRow, 'company_id' | 'owner' | 'repo' | 'repo_id'> & { provider?: SourceRow['provider'] }, number: number, key?: string): string {
  // A Linear issue's key is its uuid (`linear:<uuid>`): immutable, unlike ENG-42 when the issue moves team.
  if (source.provider === 'linear' && key) return `${source.company_id}|${key}`;
  return `${source.company_id}|${claimPrefix(source)}${number}`;
}

export const claimPrefix = (source: Pick<SourceRow, 'owner' | 'repo' | 'repo_id'>) =>
  source.repo_id ? `github:repo/${source.repo_id}#` : `github:${source.owner}/${source.repo}#`.toLowerCase();

/** Whether a payload's repository is this source's: by id when known, else by name in any case. */
export function isSourceRepository(source: Pick<SourceRow, 'owner' | 'repo' | 'repo_id'>, repo: { id?: number | null; fullName: string }): boolean {
  if (source.repo_id && repo.id != null) return String(repo.id) === String(source.repo_id);
  return repo.fullName.toLowerCase() === `${source.owner}/${source.repo}`.toLowerCase();
}

/**
 * A source created before repository ids were kept learns its id (read from GitHub by its first poll):
 * its claimed keys move to the id form in the same transaction, so no issue is claimed twice.
 */
export async function adoptRepositoryId(pool: Pool, sourceId: string, repoId: number): Promise<void> {
  await inTransaction(pool, async (client) => {
    const { rows } = await client.query<SourceRow>('SELECT * FROM sources WHERE id = $1 FOR UPDATE', [sourceId]);
    const source = rows[0];
    if (source && !source.repo_id) {
      const from = `${source.company_id}|${claimPrefix(source)}`;
      const to = `${source.company_id}|${claimPrefix({ ...source, repo_id: String(repoId) })}`;
      // A key already claimed under the id (another source of the same repository) keeps its task.
      await client.query(
        `UPDATE source_items SET source_key = $2 || substring(source_key FROM length($1) + 1) || '~duplicate~' || issue_id
         WHERE starts_with(source_key, $1) AND EXISTS (SELECT 1 FROM source_items o WHERE o.source_key = $2 || substring(source_items.source_key FROM length($1) + 1))`,
        [from, to],
      );
      await client.query(`UPDATE source_items SET source_key = $2 || substring(source_key FROM length($1) + 1) WHERE starts_with(source_key, $1)`, [from, to]);
      await client.query('UPDATE sources SET repo_id = $2, updated_at = now() WHERE id = $1', [sourceId, repoId]);
    }
  });
}
