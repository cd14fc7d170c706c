/** From a source id to its adapter: the source row, its credential opened, the provider's client. */
import { githubClient, type GitHubCredential } from '../github/client.js';
import { getDeliverySource, type SourceRow } from '../../db/sources.js';
import type { Pool } from '../../db/pool.js';
import type { SecretBox } from '../../runtime/secrets.js';
import { DomainError } from '../../domain/errors.js';
import { credentialRefused } from '../boundary.js';
import { GitHubAdapter } from './github.js';

export function credentialOf(source: SourceRow, box: SecretBox): GitHubCredential {
  return asCredential(JSON.parse(box.open(source.credential_sealed, `the credential of source ${source.id}`)));
}

/** A credential as the API takes it (`{token}` or `{appId, privateKey, installationId}`), typed. */
export function asCredential(given: { token?: string; appId?: string | number; privateKey?: string; installationId?: number }): GitHubCredential {
  return given.token !== undefined
    ? { kind: 'token', token: given.token }
    : { kind: 'app', appId: given.appId!, privateKey: given.privateKey!, installationId: Number(given.installationId) };
}

export function adapterFor(source: SourceRow, box: SecretBox, opts: { spaceWrites?: boolean } = {}): GitHubAdapter {
  const gh = githubClient(credentialOf(source, box), { baseUrl: source.base_url ?? undefined, spaceWrites: opts.spaceWrites });
  return new GitHubAdapter({ gh, owner: source.owner, repo: source.repo, labels: source.labels, defaultBranch: source.default_branch });
}

export async function loadAdapter(pool: Pool, box: SecretBox, sourceId: string, opts: { spaceWrites?: boolean } = {}): Promise<{ source: SourceRow; adapter: GitHubAdapter }> {
  const source = await getDeliverySource(pool, sourceId);
  return { source, adapter: adapterFor(source, box, opts) };
}

/**
 * The repository a new source names, asked of GitHub with the source's own credential (one call): its
 * numeric id and canonical name, or why the source cannot work — a refused credential or a repository
 * the credential cannot see is a configuration error (422), GitHub not answering is an outage (503).
 */
export async function inspectRepository(
  given: { owner: string; repo: string; baseUrl?: string | null; credential: GitHubCredential },
  deadline: number,
): Promise<{ id: number; owner: string; repo: string; defaultBranch: string }> {
  const gh = githubClient(given.credential, { baseUrl: given.baseUrl ?? undefined, rateLimitRetries: 0 });
  const adapter = new GitHubAdapter({ gh, owner: given.owner, repo: given.repo, labels: {}, defaultBranch: null });
  const signal = AbortSignal.timeout(Math.max(1, deadline - Date.now() - 500));
  try {
    return await adapter.repository(signal);
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (credentialRefused(err) || status === 403) {
      throw new DomainError('source_credential_invalid', `GitHub refuses this credential for ${given.owner}/${given.repo}: ${(err as Error).message}`, { upstreamStatus: status ?? null });
    }
    if (status === 404) throw new DomainError('repository_not_found', `GitHub has no repository ${given.owner}/${given.repo} this credential can see`, { owner: given.owner, repo: given.repo });
    throw new DomainError('provider_unavailable', `GitHub did not answer for ${given.owner}/${given.repo}: ${(err as Error).message}`, { upstreamStatus: status ?? null });
  }
}
