/** From a source id to its adapter: the source row, its credential opened, the provider's client. */
import { githubClient, type GitHubCredential } from '../github/client.js';
import { getSource, type SourceRow } from '../../db/sources.js';
import type { Pool } from '../../db/pool.js';
import type { SecretBox } from '../../runtime/secrets.js';
import { GitHubAdapter } from './github.js';

export function credentialOf(source: SourceRow, box: SecretBox): GitHubCredential {
  const opened = JSON.parse(box.open(source.credential_sealed, `the credential of source ${source.id}`)) as { token?: string; appId?: string | number; privateKey?: string; installationId?: number };
  return source.credential_kind === 'token'
    ? { kind: 'token', token: opened.token! }
    : { kind: 'app', appId: opened.appId!, privateKey: opened.privateKey!, installationId: Number(opened.installationId) };
}

export function adapterFor(source: SourceRow, box: SecretBox, opts: { spaceWrites?: boolean } = {}): GitHubAdapter {
  const gh = githubClient(credentialOf(source, box), { baseUrl: source.base_url ?? undefined, spaceWrites: opts.spaceWrites });
  return new GitHubAdapter({ gh, owner: source.owner, repo: source.repo, labels: source.labels, defaultBranch: source.default_branch });
}

export async function loadAdapter(pool: Pool, box: SecretBox, sourceId: string, opts: { spaceWrites?: boolean } = {}): Promise<{ source: SourceRow; adapter: GitHubAdapter }> {
  const source = await getSource(pool, sourceId);
  return { source, adapter: adapterFor(source, box, opts) };
}
