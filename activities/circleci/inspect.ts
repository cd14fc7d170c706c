/**
 * A repository's CircleCI settings tried once when they are saved, with the token given (one call):
 * a token CircleCI refuses or a project it cannot see is a configuration error now (422), not CI
 * that waits for checks for ever later; CircleCI not answering is an outage (503).
 */
import { DomainError } from '../../domain/errors.js';
import { ProviderRefusal } from '../providers/ports.js';
import { CircleCIClient } from './client.js';

export async function inspectProject(given: { token: string; projectSlug: string; baseUrl?: string | null }, deadline: number): Promise<{ slug: string; name: string }> {
  const client = new CircleCIClient({ token: given.token, baseUrl: given.baseUrl ?? undefined, timeoutMs: Math.max(1, deadline - Date.now() - 500), maxRateLimitWaitMs: 0 });
  try {
    return await client.project(given.projectSlug);
  } catch (err) {
    if (err instanceof ProviderRefusal && err.code === 'source_credential_invalid') throw new DomainError('source_credential_invalid', `CircleCI refuses this token: ${err.message}`, { field: 'ci.circleci.token' });
    if (err instanceof ProviderRefusal && err.code === 'repository_not_found') {
      throw new DomainError('repository_not_found', `CircleCI has no project ${given.projectSlug} this token can see (check the slug, gh/<org>/<repo>, and that the project is set up in CircleCI)`, { field: 'ci.circleci.projectSlug', projectSlug: given.projectSlug });
    }
    if (err instanceof ProviderRefusal) throw new DomainError('source_credential_invalid', `CircleCI refused the project check: ${err.message}`, { field: 'ci.circleci' });
    throw new DomainError('provider_unavailable', `CircleCI did not answer for ${given.projectSlug} at ${given.baseUrl ?? 'https://circleci.com/api/v2'}: ${(err as Error).message}`, { field: 'ci.circleci.baseUrl' });
  }
}
