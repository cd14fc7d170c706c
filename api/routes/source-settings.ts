/**
 * How a source's body becomes its columns, where create and PATCH agree: the CI systems of a repository
 * (CircleCI's token and webhook secret sealed on the way in), the flaky policy, and Linear's state filter.
 */
import { DomainError } from '../../domain/errors.js';
import type { SourceRow } from '../../db/sources.js';
import type { SecretBox } from '../../runtime/secrets.js';
import { inspectProject } from '../../activities/circleci/index.js';

export interface CiBody {
  providers: Array<'github_actions' | 'circleci'>;
  circleci?: { projectSlug: string; token?: string; webhookSecret?: string | null; baseUrl?: string };
}

/**
 * The CI columns for `ci`, given what the source has now (`current`, absent on create): CircleCI needs
 * a project and a token, kept from before when a PATCH leaves them out.
 */
export function ciColumns(ci: CiBody, box: SecretBox, current?: SourceRow): Record<string, unknown> {
  const wantsCircle = ci.providers.includes('circleci');
  const token = ci.circleci?.token !== undefined ? box.seal(ci.circleci.token) : (current?.circleci_token_sealed ?? null);
  if (wantsCircle && (!ci.circleci?.projectSlug && !current?.circleci)) {
    throw new DomainError('validation_error', 'ci.providers names circleci: give ci.circleci.projectSlug (and a token)', { field: 'ci.circleci.projectSlug' });
  }
  if (wantsCircle && !token) throw new DomainError('validation_error', 'ci.providers names circleci: give ci.circleci.token (a CircleCI personal or project API token)', { field: 'ci.circleci.token' });
  const project = ci.circleci ? { projectSlug: ci.circleci.projectSlug, baseUrl: ci.circleci.baseUrl ?? null } : (current?.circleci ?? null);
  const hookSecret = ci.circleci?.webhookSecret === undefined ? (current?.circleci_webhook_secret_sealed ?? null) : ci.circleci.webhookSecret === null ? null : box.seal(ci.circleci.webhookSecret);
  return {
    ci_providers: ci.providers,
    circleci: project ? JSON.stringify(project) : null,
    circleci_token_sealed: token,
    circleci_webhook_secret_sealed: hookSecret,
  };
}

/**
 * CircleCI's settings tried before they are saved, when they name CircleCI and something it depends on
 * changed (the project, the token or the address): with the token given, or the one already sealed.
 */
export async function checkCircleCI(ci: CiBody | undefined, box: SecretBox, deadline: number, current?: SourceRow): Promise<void> {
  // Checked whenever given, even with CircleCI not (yet) among the providers: a later PATCH of providers alone would turn it on unchecked.
  if (!ci?.circleci) return;
  const c = ci.circleci;
  const token = c.token ?? (current?.circleci_token_sealed ? box.open(current.circleci_token_sealed, `the CircleCI token of source ${current.id}`) : undefined);
  if (!token) return; // ciColumns says it is missing
  const same = current?.circleci?.projectSlug === c.projectSlug && (current.circleci.baseUrl ?? null) === (c.baseUrl ?? null) && c.token === undefined;
  if (!same) await inspectProject({ token, projectSlug: c.projectSlug, baseUrl: c.baseUrl }, deadline);
}

/** The flaky policy with the defaults filled in (re-run once, for failures classified high). */
export function flakyColumn(given: { rerunOnce?: boolean; rerunAt?: 'high' | 'medium' } | undefined, current?: SourceRow): string {
  return JSON.stringify({ rerunOnce: given?.rerunOnce ?? current?.flaky?.rerunOnce ?? true, rerunAt: given?.rerunAt ?? current?.flaky?.rerunAt ?? 'high' });
}
