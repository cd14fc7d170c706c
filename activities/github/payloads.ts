/**
 * What Switchyard reads of a GitHub webhook payload, checked before it is used (issue 13 §4): a signed
 * payload is GitHub's, but a field of the wrong type must be a 400 `invalid_payload`, never a 500 or a
 * task numbered "abc". Only the fields used are checked; everything else GitHub sends passes.
 */
import { z } from 'zod';
import { storableString } from '../providers/payload-text.js';

/** Issue and PR numbers: what GitHub issues (positive, and within Postgres' integer). */
const number = z.number().int().positive().max(2_147_483_647);
const sha = z.string().regex(/^[0-9a-f]{40}$/i, 'must be a 40-character commit SHA');
const text = (max: number) => z.string().max(max);
const login = z.object({ login: text(200) }).nullish();
/** The event's action, recorded with the delivery: a NUL or a lone surrogate is not GitHub's (400, never a 500 from Postgres). */
const action = storableString().max(100);

export const repositoryPayload = z.object({ id: z.number().int().positive().nullish(), full_name: z.string().regex(/^[^/\s]{1,100}\/[^/\s]{1,100}$/, 'must be owner/repo') });

/** Labels come as objects (webhooks, REST) or names; at most GitHub's 100 per issue are kept. */
const labels = z.array(z.union([z.string().max(256), z.object({ name: text(256).nullish() }).loose()])).transform((ls) => ls.slice(0, 100));

export const issuePayload = z.object({
  number,
  html_url: text(2000),
  title: text(65_536),
  body: z.string().nullish(),
  labels: labels.optional().default([]),
  assignees: z.array(z.object({ login: text(200) }).loose()).nullish(),
  user: login,
  state: z.enum(['open', 'closed']),
  updated_at: text(100),
  pull_request: z.unknown().optional(),
}).loose();

const pull = z.object({ number, head: z.object({ sha }).loose(), state: text(50), merged: z.boolean().nullish() }).loose();

export const eventPayloads = {
  issues: z.object({ action, issue: issuePayload, repository: repositoryPayload }).loose(),
  pull_request: z.object({ action, pull_request: pull, repository: repositoryPayload }).loose(),
  check_run: z.object({ action, check_run: z.object({ head_sha: sha, name: text(500), status: text(50), conclusion: text(50).nullish() }).loose(), repository: repositoryPayload }).loose(),
  check_suite: z.object({ action, check_suite: z.object({ head_sha: sha, status: text(50).nullish(), conclusion: text(50).nullish() }).loose(), repository: repositoryPayload }).loose(),
  status: z.object({ sha, context: text(500), state: text(50), repository: repositoryPayload }).loose(),
  pull_request_review: z.object({ action, pull_request: pull, review: z.object({ state: text(50), user: login }).loose(), repository: repositoryPayload }).loose(),
  pull_request_review_comment: z.object({ action, pull_request: pull, comment: z.object({ path: text(4096), line: z.number().int().nullish(), body: z.string(), user: login }).loose(), repository: repositoryPayload }).loose(),
  push: z.object({ ref: text(1000), before: sha, after: sha, repository: repositoryPayload }).loose(),
} as const;

/** The first problem, as `field: problem` (the 400's message names the field). */
export function payloadProblem(error: z.ZodError): { field: string; problem: string } {
  const issue = error.issues[0]!;
  return { field: issue.path.join('.') || '(payload)', problem: issue.message };
}
