/** Request bodies of the delivery half: sources, routing, wake targets, and AgentRail's task routes. Strict like schemas.ts. */
import { z } from 'zod';
import { PRIORITIES, STATUSES } from '../domain/statuses.js';

const id = z.string().uuid();
const name = z.string().min(1).max(200).refine((s) => s.trim() !== '', 'must not be empty or only whitespace');
const ghName = z.string().regex(/^(?!\.+$)[A-Za-z0-9_.-]{1,100}$/, 'must be a GitHub owner or repository name');
const labelList = z.array(z.string().min(1).max(100)).max(50);
const httpUrl = z.string().max(2000).url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');
/** A server's address, never with credentials in it (they would be stored and shown as plain text). */
const serverUrl = httpUrl.refine((u) => {
  try {
    const url = new URL(u);
    return url.username === '' && url.password === '';
  } catch {
    return false;
  }
}, 'must not carry a user name or password: put credentials in `credential`');

const credential = z.union([
  // Sent as an HTTP header: visible ASCII only (a character outside it cannot be sent, and the client retried until the deadline).
  z.strictObject({ token: z.string().min(1).max(1000).regex(/^[\x21-\x7e]+$/, 'must be visible ASCII characters (a token as GitHub issues it)') }),
  z.strictObject({ appId: z.union([z.string().min(1).max(50), z.number().int().positive()]), privateKey: z.string().min(1).max(20_000), installationId: z.number().int().positive() }),
]);

const secret = z.string().min(8).max(500);
const visibleToken = (what: string) => z.string().min(1).max(1000).regex(/^[\x21-\x7e]+$/, `must be visible ASCII characters (a token as ${what} issues it)`);

/** CircleCI's project slug: `<vcs>/<org>/<repo>` (gh, bb, circleci). */
// No segment of dots only: `gh/../..` would climb out of /project/ in every CircleCI URL built from it.
const projectSlug = z.string().max(300).regex(/^(gh|github|bb|bitbucket|circleci)\/(?!\.+\/)[A-Za-z0-9_.-]{1,100}\/(?!\.+$)[A-Za-z0-9_.-]{1,100}$/, 'must be a CircleCI project slug such as gh/<org>/<repo>');

/** The CI systems a repository's heads are judged by (combined: any red is red), and CircleCI's project when it is one. */
const ci = z
  .strictObject({
    providers: z.array(z.enum(['github_actions', 'circleci'])).min(1).max(2).refine((p) => new Set(p).size === p.length, 'must not repeat a provider'),
    circleci: z.strictObject({ projectSlug, token: visibleToken('CircleCI').optional(), webhookSecret: secret.nullable().optional(), baseUrl: serverUrl.optional() }).optional(),
  });

/** Re-run a failure once before waking the agent when it is classified at least `rerunAt` (README "Flaky CI"). */
const flaky = z.strictObject({ rerunOnce: z.boolean().optional(), rerunAt: z.enum(['high', 'medium']).optional() });

const githubSource = z.strictObject({
  provider: z.literal('github'),
  owner: ghName,
  repo: ghName,
  baseUrl: serverUrl.optional(),
  credential,
  webhookSecret: secret.optional(),
  pollIntervalSeconds: z.number().int().min(15).max(86_400).nullable().optional(),
  labels: z.strictObject({ include: labelList.optional(), exclude: labelList.optional() }).optional(),
  reviewPolicy: z.enum(['require', 'never_require']).optional(),
  defaultBranch: z.string().min(1).max(255).optional(),
  ci: ci.optional(),
  flaky: flaky.optional(),
});

/** A Linear team whose issues become tasks delivered to a connected GitHub repository (a source of this company). */
const linearSource = z.strictObject({
  provider: z.literal('linear'),
  teamKey: z.string().regex(/^[A-Za-z0-9_-]{1,20}$/, 'must be a Linear team key such as ENG'),
  credential: z.strictObject({ apiKey: visibleToken('Linear') }),
  apiUrl: serverUrl.optional(),
  webhookSecret: secret.optional(),
  pollIntervalSeconds: z.number().int().min(15).max(86_400).nullable().optional(),
  labels: z.strictObject({ include: labelList.optional(), exclude: labelList.optional() }).optional(),
  states: z.array(z.string().min(1).max(100)).max(50).optional(),
  reviewPolicy: z.enum(['require', 'never_require']).optional(),
  repository: z.union([z.strictObject({ sourceId: id }), z.strictObject({ owner: ghName, repo: ghName })]),
});

export const createSource = z.discriminatedUnion('provider', [githubSource, linearSource]);

export const patchSource = z.strictObject({
  pollIntervalSeconds: z.number().int().min(15).max(86_400).nullable().optional(),
  labels: z.strictObject({ include: labelList.optional(), exclude: labelList.optional() }).optional(),
  reviewPolicy: z.enum(['require', 'never_require']).optional(),
  paused: z.boolean().optional(),
  credential: z.union([credential, z.strictObject({ apiKey: visibleToken('Linear') })]).optional(),
  webhookSecret: secret.nullable().optional(),
  defaultBranch: z.string().min(1).max(255).nullable().optional(),
  ci: ci.optional(),
  flaky: flaky.optional(),
  states: z.array(z.string().min(1).max(100)).max(50).optional(),
});

const ruleMatch = z.strictObject({
  /** Where the task came from: a GitHub repository's issues or a Linear team's. */
  provider: z.enum(['github', 'linear']).optional(),
  repo: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be owner/repo').optional(),
  labelsAny: labelList.optional(),
  labelsAll: labelList.optional(),
  titlePattern: z.string().min(1).max(200).optional(),
  priority: z.union([z.enum(PRIORITIES), z.array(z.enum(PRIORITIES)).min(1)]).optional(),
});

export const routingRule = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'must be 1-100 letters, digits or _.:-'),
  name,
  match: ruleMatch,
  target: z.union([z.strictObject({ agentId: id }), z.strictObject({ agentIds: z.array(id).min(1).max(100), strategy: z.enum(['round_robin', 'least_loaded']) })]),
  priority: z.enum(PRIORITIES).optional(),
});
export const putRouting = z.strictObject({ rules: z.array(routingRule).max(200) });

export const wakeTarget = z.union([
  z.strictObject({ type: z.literal('http'), url: serverUrl, secret: z.string().min(16).max(500) }),
  z.strictObject({
    type: z.literal('process'),
    command: z.string().min(1).max(1000),
    args: z.array(z.string().max(4000)).max(100).optional(),
    cwd: z.string().max(1000).optional(),
    /** Variables the agent gets beside the wake's own (sealed with the target, never shown back). */
    env: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name').refine((n) => !/^(SWITCHYARD|PAPERCLIP)_/.test(n), 'SWITCHYARD_* and PAPERCLIP_* are the wake\'s own'),
        z.string().max(8000),
      )
      .refine((e) => Object.keys(e).length <= 50, 'at most 50 variables')
      .optional(),
    /** The OS user the worker starts the agent as (the worker must run as root, or as that user). */
    user: z.string().regex(/^([a-z_][a-z0-9_.-]{0,31}|[0-9]{1,10})$/, 'must be a user name or uid').optional(),
  }),
]);
export const putWakeTarget = z.strictObject({ target: wakeTarget.nullable() });

// ---- AgentRail's `/api/tasks` (its field names, our strictness)

const sha = z.string().regex(/^[0-9a-fA-F]{7,40}$/, 'must be a commit SHA');
const artifact = z.strictObject({ type: z.enum(['pull_request', 'commit', 'doc', 'ci_run', 'other']), url: z.string().min(1).max(2000) });
const check = z.strictObject({ name: z.string().min(1).max(200), status: z.enum(['passed', 'failed', 'running', 'skipped', 'queued', 'cancelled']) });

export const submitTask = z.strictObject({
  summary: z.string().min(1).max(2000),
  mode: z.enum(['adapter_managed', 'artifact']).optional(),
  pullRequest: z
    .strictObject({
      title: z.string().min(1).max(256).optional(),
      body: z.string().max(65_536).optional(),
      head: z.string().min(1).max(255).optional(),
      base: z.string().min(1).max(255).optional(),
      draft: z.boolean().optional(),
      reviewers: z.array(z.string().max(100)).max(20).optional(),
      headSha: sha.optional(),
    })
    .optional(),
  artifacts: z.array(artifact).min(1).max(20).optional(),
  checks: z.array(check).max(50).optional(),
  notes: z.string().max(10_000).nullable().optional(),
});

export const shipTask = z.strictObject({
  expectedHeadSha: z.string().regex(/^[a-f0-9]{40}$/, 'must be the 40-character lowercase hex SHA of the head you read'),
  mergeMethod: z.enum(['squash', 'merge', 'rebase']).optional(),
  mode: z.enum(['merge_only', 'merge_and_deploy']).optional(),
  targetEnvironment: z.enum(['staging', 'production']).optional(),
});

export const rollbackTask = z.strictObject({ reason: z.string().min(1).max(2000) });
export const reportChecks = z.strictObject({ headSha: sha.optional(), checks: z.array(check).min(1).max(50) });
export const reviewTask = z.strictObject({ outcome: z.enum(['approved', 'changes_requested']), comments: z.array(z.string().min(1).max(10_000)).max(100).optional() });
export const blockTask = z.strictObject({
  reason: z.string().min(1).max(10_000),
  sourceRunId: z.string().max(200).optional(),
  sourceAgentId: z.string().max(200).optional(),
  actionRequired: z.string().max(10_000).optional(),
  resumeInstructions: z.string().max(10_000).optional(),
});
export const resolveBlocker = z.strictObject({ resolutionSummary: z.string().min(1).max(10_000) });
export const startTask = z.strictObject({}).optional();

export const listMine = z.strictObject({
  status: z.string().optional(),
  limit: z.string().optional(),
  cursor: z.string().max(100).optional(),
});
export const TASK_STATUSES = STATUSES;

/** AgentRail's Linear routes: a comment (1–10,000 characters, not only whitespace) and a workflow state id. */
export const linearComment = z.strictObject({ body: z.string().max(10_000).refine((s) => s.trim() !== '', 'must not be empty or only whitespace') });
export const linearWorkflowState = z.strictObject({ stateId: z.string().max(200).transform((s) => s.trim()).refine((s) => s !== '', 'must not be empty') });
