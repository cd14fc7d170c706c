/** Webhook deliveries: signature checked with @octokit/webhooks, then turned into typed provider events. */
import { Webhooks } from '@octokit/webhooks';
import { candidateFromIssue } from './intake.js';
import { ProviderError, type TaskCandidate } from './types.js';

export type ProviderEvent =
  | { kind: 'issue'; action: string; candidate: TaskCandidate }
  | { kind: 'pull_request'; action: string; repo: string; prNumber: number; headSha: string; state: string; merged: boolean }
  | { kind: 'check_run'; action: string; repo: string; headSha: string; name: string; status: string; conclusion: string | null }
  | { kind: 'check_suite'; action: string; repo: string; headSha: string; status: string | null; conclusion: string | null }
  | { kind: 'status'; repo: string; sha: string; context: string; state: string }
  | { kind: 'review'; action: string; repo: string; prNumber: number; author: string | null; state: string; headSha: string }
  | { kind: 'review_comment'; action: string; repo: string; prNumber: number; author: string | null; path: string; line: number | null; body: string }
  | { kind: 'push'; repo: string; ref: string; before: string; after: string }
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
    let payload: any;
    try {
      payload = JSON.parse(rawBody);
    } catch {
      throw new ProviderError('bad_payload', 'The webhook body is not JSON', 400);
    }
    return toEvent(header('x-github-event') ?? '', payload);
  }
}

function toEvent(event: string, p: any): ProviderEvent {
  const repo: string = p.repository?.full_name ?? '';
  const [owner = '', name = ''] = repo.split('/');
  switch (event) {
    case 'issues':
      if (p.issue?.pull_request) return { kind: 'ignored', event };
      return { kind: 'issue', action: p.action, candidate: candidateFromIssue({ owner, repo: name }, p.issue) };
    case 'pull_request':
      return { kind: 'pull_request', action: p.action, repo, prNumber: p.pull_request.number, headSha: p.pull_request.head.sha, state: p.pull_request.state, merged: Boolean(p.pull_request.merged) };
    case 'check_run':
      return { kind: 'check_run', action: p.action, repo, headSha: p.check_run.head_sha, name: p.check_run.name, status: p.check_run.status, conclusion: p.check_run.conclusion ?? null };
    case 'check_suite':
      return { kind: 'check_suite', action: p.action, repo, headSha: p.check_suite.head_sha, status: p.check_suite.status ?? null, conclusion: p.check_suite.conclusion ?? null };
    case 'status':
      return { kind: 'status', repo, sha: p.sha, context: p.context, state: p.state };
    case 'pull_request_review':
      return { kind: 'review', action: p.action, repo, prNumber: p.pull_request.number, author: p.review.user?.login ?? null, state: String(p.review.state).toUpperCase(), headSha: p.pull_request.head.sha };
    case 'pull_request_review_comment':
      return { kind: 'review_comment', action: p.action, repo, prNumber: p.pull_request.number, author: p.comment.user?.login ?? null, path: p.comment.path, line: p.comment.line ?? null, body: p.comment.body };
    case 'push':
      return { kind: 'push', repo, ref: p.ref, before: p.before, after: p.after };
    default:
      return { kind: 'ignored', event };
  }
}
