/** Webhook deliveries: signature checked with @octokit/webhooks, then turned into typed provider events. */
import { Webhooks } from '@octokit/webhooks';
import { candidateFromIssue } from './intake.js';
import type { z } from 'zod';
import { eventPayloads, payloadProblem } from './payloads.js';
import { ProviderError, type TaskCandidate } from './types.js';

/** `repoId`: GitHub's numeric id of the payload's repository (null if the payload has none). */
export type ProviderEvent =
  | { kind: 'issue'; action: string; repoId: number | null; candidate: TaskCandidate }
  | { kind: 'pull_request'; action: string; repo: string; repoId: number | null; prNumber: number; headSha: string; state: string; merged: boolean }
  | { kind: 'check_run'; action: string; repo: string; repoId: number | null; headSha: string; name: string; status: string; conclusion: string | null }
  | { kind: 'check_suite'; action: string; repo: string; repoId: number | null; headSha: string; status: string | null; conclusion: string | null }
  | { kind: 'status'; repo: string; repoId: number | null; sha: string; context: string; state: string }
  | { kind: 'review'; action: string; repo: string; repoId: number | null; prNumber: number; author: string | null; state: string; headSha: string }
  | { kind: 'review_comment'; action: string; repo: string; repoId: number | null; prNumber: number; author: string | null; path: string; line: number | null; body: string }
  | { kind: 'push'; repo: string; repoId: number | null; ref: string; before: string; after: string }
  | { kind: 'ignored'; event: string };

export class WebhookVerifier {
  private readonly webhooks: Webhooks;

  constructor(secret: string) {
    this.webhooks = new Webhooks({ secret });
  }

  /** `rawBody` exactly as received: the signature covers the bytes, not a re-serialization. */
  async parse(headers: Record<string, string | string[] | undefined>, rawBody: string): Promise<ProviderEvent> {
    const header = (name: string) => {
      const v = headers[name] ?? headers[name.toLowerCase()];
      return Array.isArray(v) ? v[0] : v;
    };
    const signature = header('x-hub-signature-256');
    if (!signature) throw new ProviderError('signature_missing', 'X-Hub-Signature-256 is missing', 401);
    if (!(await this.webhooks.verify(rawBody, signature))) throw new ProviderError('signature_invalid', 'X-Hub-Signature-256 does not match the body', 401);
    let payload: unknown;
    try {
      payload = JSON.parse(rawBody);
    } catch {
      throw new ProviderError('bad_payload', 'The webhook body is not JSON', 400);
    }
    return toEvent(header('x-github-event') ?? '', payload);
  }
}

function toEvent(event: string, given: unknown): ProviderEvent {
  const schema = (eventPayloads as Record<string, z.ZodType>)[event];
  if (!schema) return { kind: 'ignored', event };
  const parsed = schema.safeParse(given);
  if (!parsed.success) {
    const { field, problem } = payloadProblem(parsed.error);
    throw new ProviderError('invalid_payload', `The ${event} payload's ${field} ${problem.toLowerCase().startsWith('must') ? problem : `is invalid: ${problem}`}`, 400);
  }
  const p = parsed.data as any;
  const repo: string = p.repository.full_name;
  const repoId: number | null = p.repository.id ?? null;
  const [owner = '', name = ''] = repo.split('/');
  switch (event) {
    case 'issues':
      if (p.issue.pull_request) return { kind: 'ignored', event };
      return { kind: 'issue', action: p.action, repoId, candidate: candidateFromIssue({ owner, repo: name }, p.issue) };
    case 'pull_request':
      return { kind: 'pull_request', action: p.action, repo, repoId, prNumber: p.pull_request.number, headSha: p.pull_request.head.sha, state: p.pull_request.state, merged: Boolean(p.pull_request.merged) };
    case 'check_run':
      return { kind: 'check_run', action: p.action, repo, repoId, headSha: p.check_run.head_sha, name: p.check_run.name, status: p.check_run.status, conclusion: p.check_run.conclusion ?? null };
    case 'check_suite':
      return { kind: 'check_suite', action: p.action, repo, repoId, headSha: p.check_suite.head_sha, status: p.check_suite.status ?? null, conclusion: p.check_suite.conclusion ?? null };
    case 'status':
      return { kind: 'status', repo, repoId, sha: p.sha, context: p.context, state: p.state };
    case 'pull_request_review':
      return { kind: 'review', action: p.action, repo, repoId, prNumber: p.pull_request.number, author: p.review.user?.login ?? null, state: String(p.review.state).toUpperCase(), headSha: p.pull_request.head.sha };
    case 'pull_request_review_comment':
      return { kind: 'review_comment', action: p.action, repo, repoId, prNumber: p.pull_request.number, author: p.comment.user?.login ?? null, path: p.comment.path, line: p.comment.line ?? null, body: p.comment.body };
    case 'push':
      return { kind: 'push', repo, repoId, ref: p.ref, before: p.before, after: p.after };
    default:
      return { kind: 'ignored', event };
  }
}
