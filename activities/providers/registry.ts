/** From a source id to its adapter: the source row, its credential opened, the provider's client. */
import { githubClient, type GitHubCredential } from '../github/client.js';
import { getDeliverySource, type SourceRow } from '../../db/sources.js';
import type { Pool } from '../../db/pool.js';
import type { SecretBox } from '../../runtime/secrets.js';
import { DomainError } from '../../domain/errors.js';
import { credentialRefused } from '../boundary.js';
import { CircleCI } from '../circleci/index.js';
import { LinearIntake } from '../linear/index.js';
import { GitHubAdapter } from './github.js';
import { ProviderRefusal, type CIPort, type IntakePort } from './ports.js';

export function credentialOf(source: SourceRow, box: SecretBox): GitHubCredential {
  return asCredential(JSON.parse(box.open(source.credential_sealed, `the credential of source ${source.id}`)));
}

/** A credential as the API takes it (`{token}` or `{appId, privateKey, installationId}`), typed. */
export function asCredential(given: { token?: string; appId?: string | number; privateKey?: string; installationId?: number }): GitHubCredential {
  return given.token !== undefined
    ? { kind: 'token', token: given.token }
    : { kind: 'app', appId: given.appId!, privateKey: given.privateKey!, installationId: Number(given.installationId) };
}

/** A GitHub source's repository: its code host, judged by the CI systems the source names (combined). */
export function adapterFor(source: SourceRow, box: SecretBox, opts: { spaceWrites?: boolean } = {}): GitHubAdapter {
  if (source.provider !== 'github') throw new Error(`source ${source.id} is a ${source.provider} source, not a repository`);
  const gh = githubClient(credentialOf(source, box), { baseUrl: source.base_url ?? undefined, spaceWrites: opts.spaceWrites });
  return new GitHubAdapter({ gh, owner: source.owner, repo: source.repo, labels: source.labels, defaultBranch: source.default_branch }, (actions) => ciPortsOf(source, box, actions));
}

/** The CI systems of a repository, in the order its source names them. */
export function ciPortsOf(source: SourceRow, box: SecretBox, actions: CIPort): CIPort[] {
  const providers = source.ci_providers?.length ? source.ci_providers : ['github_actions'];
  return providers.map((p) => {
    if (p === 'github_actions') return actions;
    if (!source.circleci || !source.circleci_token_sealed) throw new ProviderRefusal('provider_rejected', `source ${source.id} names CircleCI but has no CircleCI project or token: set ci.circleci on it`, { sourceId: source.id });
    const token = box.open(source.circleci_token_sealed, `the CircleCI token of source ${source.id}`);
    return new CircleCI({ token, projectSlug: source.circleci.projectSlug, baseUrl: source.circleci.baseUrl ?? undefined });
  });
}

/** Where a source's issues come from: its repository's issues (GitHub) or its team's (Linear). */
export function intakeFor(source: SourceRow, box: SecretBox, opts: { spaceWrites?: boolean } = {}): IntakePort {
  if (source.provider === 'linear') {
    const { apiKey } = JSON.parse(box.open(source.credential_sealed, `the credential of source ${source.id}`)) as { apiKey: string };
    // No state filter here: intake applies it to new issues only (activities/intake.ts takesIn), so a task follows its issue into any state.
    return new LinearIntake({ apiKey, apiUrl: source.base_url ?? undefined, teamKey: source.team_key!, labels: source.labels });
  }
  return adapterFor(source, box, opts);
}

/**
 * The repository a task delivers to: its source's, or for a Linear task the GitHub source its Linear
 * source delivers through. `source` is the task's own (write-back goes there); `repository` the code host's.
 */
export async function loadAdapter(pool: Pool, box: SecretBox, sourceId: string, opts: { spaceWrites?: boolean } = {}): Promise<{ source: SourceRow; repository: SourceRow; adapter: GitHubAdapter }> {
  const source = await getDeliverySource(pool, sourceId);
  const repository = source.provider === 'linear' ? await getDeliverySource(pool, source.delivery_source_id!) : source;
  return { source, repository, adapter: adapterFor(repository, box, opts) };
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
