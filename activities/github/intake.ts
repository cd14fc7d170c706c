/** Intake: issues of a repository updated since a cursor, as task candidates (pull requests left out). */
import type { GitHub } from './client.js';
import { issuePayload } from './payloads.js';
import type { RepoRef, TaskCandidate } from './types.js';

type GitHubIssue = Awaited<ReturnType<GitHub['rest']['issues']['get']>>['data'];

export function candidateFromIssue(ref: RepoRef, issue: Pick<GitHubIssue, 'number' | 'html_url' | 'title' | 'body' | 'labels' | 'assignees' | 'user' | 'state' | 'updated_at'>): TaskCandidate {
  return {
    id: `github:${ref.owner}/${ref.repo}#${issue.number}`,
    source: {
      provider: 'github',
      repo: `${ref.owner}/${ref.repo}`,
      number: issue.number,
      url: issue.html_url,
      title: issue.title,
      body: issue.body ?? null,
      labels: issue.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? ''))).filter(Boolean),
      assignees: (issue.assignees ?? []).map((a) => a.login),
      author: issue.user?.login ?? null,
      state: issue.state === 'closed' ? 'closed' : 'open',
      updatedAt: issue.updated_at,
    },
  };
}

/** Every page, oldest update first; `cursor` is what to pass as `since` next time. */
export async function listIssuesSince(gh: GitHub, ref: RepoRef, since?: string): Promise<{ candidates: TaskCandidate[]; cursor: string | undefined }> {
  const issues = await gh.paginate(gh.rest.issues.listForRepo, {
    owner: ref.owner,
    repo: ref.repo,
    state: 'all',
    sort: 'updated',
    direction: 'asc',
    per_page: 100,
    ...(since ? { since } : {}),
  });
  // What a webhook would refuse (a number or title of the wrong type) is left out of a poll too.
  const candidates = issues.filter((i) => !i.pull_request && issuePayload.safeParse(i).success).map((i) => candidateFromIssue(ref, i));
  const cursor = issues.reduce<string | undefined>((max, i) => (!max || i.updated_at > max ? i.updated_at : max), since);
  return { candidates, cursor };
}
