/**
 * The delivery half on the command line: sources and routing (operator), the agent's task loop in
 * AgentRail's terms (mine, start, submit, ci, review, ship, rollback), and agents' wake targets.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ApiClient } from './api-client.js';

const list = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean);
const pairs = (v: string, prev: string[] = []) => [...prev, v];
/** Writes need a key; a fresh one is made (and printed to stderr, so the same call can be retried) when none is given. */
export const keyOf = (given?: string) => {
  const key = given ?? `cli-${randomUUID()}`;
  if (!given) console.error(`Idempotency-Key: ${key} (pass --idempotency-key ${key} to retry this exact call)`);
  return key;
};

export function registerDeliveryCommands(program: Command, agent: () => ApiClient, operator: () => ApiClient): void {
  const sources = program.command('sources').description('connected repositories (operator)');
  sources
    .command('add <companyId>')
    .requiredOption('--owner <owner>')
    .requiredOption('--repo <repo>')
    .option('--token <token>', 'a GitHub token (or set GITHUB_TOKEN)', process.env.GITHUB_TOKEN)
    .option('--app-id <id>', 'GitHub App id (with --private-key-file and --installation-id)')
    .option('--private-key-file <path>')
    .option('--installation-id <id>', '', (v) => Number(v))
    .option('--base-url <url>', 'GitHub Enterprise API URL (or the fake GitHub)')
    .option('--webhook-secret <secret>', 'the secret your repository\'s webhook signs with')
    .option('--poll <seconds>', 'poll interval (min 15; 0: webhooks only)', (v) => Number(v))
    .option('--include <labels>', 'take in only issues with all of these labels', list)
    .option('--exclude <labels>', 'leave out issues with any of these labels', list)
    .option('--review-policy <policy>', 'require | never_require')
    .option('--default-branch <branch>')
    .action(async (companyId: string, o: Record<string, any>) => {
      const credential = o.appId ? { appId: o.appId, privateKey: readFileSync(o.privateKeyFile, 'utf8'), installationId: o.installationId } : { token: o.token };
      await operator().print('POST', `/api/companies/${companyId}/sources`, {
        provider: 'github', owner: o.owner, repo: o.repo, credential,
        ...(o.baseUrl ? { baseUrl: o.baseUrl } : {}),
        ...(o.webhookSecret ? { webhookSecret: o.webhookSecret } : {}),
        ...(o.poll !== undefined ? { pollIntervalSeconds: o.poll === 0 ? null : o.poll } : {}),
        ...(o.include || o.exclude ? { labels: { ...(o.include ? { include: o.include } : {}), ...(o.exclude ? { exclude: o.exclude } : {}) } } : {}),
        ...(o.reviewPolicy ? { reviewPolicy: o.reviewPolicy } : {}),
        ...(o.defaultBranch ? { defaultBranch: o.defaultBranch } : {}),
      });
    });
  sources.command('list <companyId>').action(async (companyId: string) => operator().print('GET', `/api/companies/${companyId}/sources`));
  sources.command('sync <sourceId>').description('poll now; prints what it found').action(async (id: string) => operator().print('POST', `/api/sources/${id}/sync`, {}));
  sources
    .command('pause <sourceId>')
    .option('--resume', 'unpause instead')
    .action(async (id: string, o: { resume?: boolean }) => operator().print('PATCH', `/api/sources/${id}`, { paused: !o.resume }));

  sources
    .command('add-linear <companyId>')
    .description('connect a Linear team, delivering to a GitHub repository already connected')
    .requiredOption('--team <key>', 'the Linear team key (ENG)')
    .requiredOption('--repository <repo>', 'owner/repo or the source id of the GitHub source the work goes to')
    .option('--api-key <key>', 'a Linear API key (or set LINEAR_API_KEY)', process.env.LINEAR_API_KEY)
    .option('--api-url <url>', 'another Linear GraphQL endpoint (the fake Linear)')
    .option('--webhook-secret <secret>', 'the signing secret of the team\'s Linear webhook')
    .option('--poll <seconds>', 'poll interval (min 15; 0: webhooks only)', (v) => Number(v))
    .option('--include <labels>', 'take in only issues with all of these labels', list)
    .option('--exclude <labels>', 'leave out issues with any of these labels', list)
    .option('--states <states>', 'take in only issues in these Linear states (names or types)', list)
    .option('--review-policy <policy>', 'require | never_require for this team\'s tasks (default: the repository\'s, copied when connected)')
    .action(async (companyId: string, o: Record<string, any>) => {
      const repository = /^[0-9a-f-]{36}$/i.test(o.repository) ? { sourceId: o.repository } : { owner: String(o.repository).split('/')[0], repo: String(o.repository).split('/')[1] };
      await operator().print('POST', `/api/companies/${companyId}/sources`, {
        provider: 'linear', teamKey: o.team, credential: { apiKey: o.apiKey }, repository,
        ...(o.apiUrl ? { apiUrl: o.apiUrl } : {}),
        ...(o.webhookSecret ? { webhookSecret: o.webhookSecret } : {}),
        ...(o.poll !== undefined ? { pollIntervalSeconds: o.poll === 0 ? null : o.poll } : {}),
        ...(o.include || o.exclude ? { labels: { ...(o.include ? { include: o.include } : {}), ...(o.exclude ? { exclude: o.exclude } : {}) } } : {}),
        ...(o.states ? { states: o.states } : {}),
        ...(o.reviewPolicy ? { reviewPolicy: o.reviewPolicy } : {}),
      });
    });
  sources
    .command('ci <sourceId>')
    .description('the CI systems a repository is judged by (combined: any red is red), and its flaky policy')
    .option('--providers <list>', 'github_actions, circleci or both', list)
    .option('--project-slug <slug>', 'CircleCI project slug (gh/<org>/<repo>)')
    .option('--circleci-token <token>', 'a CircleCI API token (or set CIRCLECI_TOKEN)', process.env.CIRCLECI_TOKEN)
    .option('--circleci-webhook-secret <secret>', 'the secret CircleCI\'s webhook signs with')
    .option('--circleci-base-url <url>', 'another CircleCI API v2 URL (the fake CircleCI)')
    .option('--rerun-at <confidence>', 're-run a failure once before waking the agent when it looks flaky at least this much: high | medium')
    .option('--no-rerun', 'never re-run a failure automatically')
    .action(async (id: string, o: Record<string, any>) => {
      // The API replaces `ci` as a whole: CircleCI's settings without --providers would be dropped without a word.
      if (!o.providers && (o.projectSlug || o.circleciWebhookSecret || o.circleciBaseUrl)) throw new Error('--project-slug and --circleci-* need --providers (github_actions,circleci or circleci): ci is set as a whole');
      if (o.providers?.includes('circleci') && !o.projectSlug && (o.circleciWebhookSecret || o.circleciBaseUrl)) throw new Error('--circleci-webhook-secret and --circleci-base-url need --project-slug');
      if (!o.providers && !o.rerunAt && o.rerun !== false) throw new Error('nothing to change: give --providers (and the CircleCI options), --rerun-at or --no-rerun');
      const circleci = o.projectSlug ? { projectSlug: o.projectSlug, ...(o.circleciToken ? { token: o.circleciToken } : {}), ...(o.circleciWebhookSecret ? { webhookSecret: o.circleciWebhookSecret } : {}), ...(o.circleciBaseUrl ? { baseUrl: o.circleciBaseUrl } : {}) } : undefined;
      await operator().print('PATCH', `/api/sources/${id}`, {
        ...(o.providers ? { ci: { providers: o.providers, ...(circleci ? { circleci } : {}) } } : {}),
        ...(o.rerunAt || o.rerun === false ? { flaky: { ...(o.rerunAt ? { rerunAt: o.rerunAt } : {}), ...(o.rerun === false ? { rerunOnce: false } : {}) } } : {}),
      });
    });

  const routing = program.command('routing').description('the company\'s routing rules (operator)');
  routing.command('show <companyId>').action(async (companyId: string) => operator().print('GET', `/api/companies/${companyId}/routing`));
  routing
    .command('set <companyId> <file>')
    .description('replace the rules with the JSON list (or {rules: [...]}) in <file> (- for stdin)')
    .action(async (companyId: string, file: string) => {
      const parsed = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'));
      await operator().print('PUT', `/api/companies/${companyId}/routing`, Array.isArray(parsed) ? { rules: parsed } : parsed);
    });

  const task = program.command('task').description('the agent\'s delivery loop (AgentRail\'s /api/tasks)');
  task.command('mine').option('--status <list>').action(async (o: { status?: string }) => agent().print('GET', `/api/tasks/mine${o.status ? `?status=${o.status}` : ''}`));
  task.command('show <taskId>').description('id or identifier (ACME-12)').action(async (id: string) => agent().print('GET', `/api/tasks/${id}`));
  task.command('start <taskId>').option('--idempotency-key <key>').action(async (id: string, o: { idempotencyKey?: string }) => agent().print('POST', `/api/tasks/${id}/start`, {}, keyOf(o.idempotencyKey)));
  task
    .command('submit <taskId>')
    .requiredOption('--summary <text>')
    .option('--head <branch>', 'the branch to open the PR from (adapter_managed)')
    .option('--base <branch>')
    .option('--title <title>')
    .option('--body <text>')
    .option('--artifact <type=url>', 'artifact mode: pull_request=…, commit=…, doc=… (repeatable)', pairs)
    .option('--check <name=status>', 'artifact mode: a reported check, e.g. unit-tests=passed (repeatable)', pairs)
    .option('--idempotency-key <key>')
    .action(async (id: string, o: Record<string, any>) => {
      const artifact = o.artifact || o.check;
      const split = (x: string) => [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)] as const;
      const body = artifact
        ? {
            summary: o.summary, mode: 'artifact',
            ...(o.artifact ? { artifacts: (o.artifact as string[]).map((a) => ({ type: split(a)[0], url: split(a)[1] })) } : {}),
            ...(o.check ? { checks: (o.check as string[]).map((c) => ({ name: split(c)[0], status: split(c)[1] })) } : {}),
          }
        : { summary: o.summary, pullRequest: { head: o.head, ...(o.base ? { base: o.base } : {}), ...(o.title ? { title: o.title } : {}), ...(o.body ? { body: o.body } : {}) } };
      await agent().print('POST', `/api/tasks/${id}/submit`, body, keyOf(o.idempotencyKey));
    });
  task.command('ci <taskId>').description('CI on the current head').action(async (id: string) => agent().print('GET', `/api/tasks/${id}/ci-status`));
  task.command('review <taskId>').description('the review decision and comments').action(async (id: string) => agent().print('GET', `/api/tasks/${id}/review-feedback`));
  task
    .command('ship <taskId>')
    .requiredOption('--sha <headSha>', 'the head SHA you read (40 hex): a moved head is never merged')
    .option('--method <method>', 'squash | merge | rebase')
    .option('--idempotency-key <key>')
    .action(async (id: string, o: { sha: string; method?: string; idempotencyKey?: string }) =>
      agent().print('POST', `/api/tasks/${id}/ship`, { expectedHeadSha: o.sha, ...(o.method ? { mergeMethod: o.method } : {}) }, keyOf(o.idempotencyKey)),
    );
  task
    .command('rollback <taskId>')
    .requiredOption('--reason <text>')
    .option('--idempotency-key <key>')
    .action(async (id: string, o: { reason: string; idempotencyKey?: string }) => agent().print('POST', `/api/tasks/${id}/rollback`, { reason: o.reason }, keyOf(o.idempotencyKey)));

  const agents = program.command('agents').description('agents (operator)');
  agents
    .command('wake-target <agentId>')
    .description('how an assignment wakes this agent: a signed HTTP POST, a local process, or nothing (it polls)')
    .option('--http <url>')
    .option('--secret <secret>', 'HMAC secret for --http (16+ characters)')
    .option('--command <command>', 'managed local mode: the command to spawn')
    .option('--arg <arg>', 'an argument for --command (repeatable)', pairs)
    .option('--cwd <dir>')
    .option('--none', 'remove the wake target')
    .action(async (agentId: string, o: Record<string, any>) => {
      const target = o.none ? null : o.http ? { type: 'http', url: o.http, secret: o.secret } : { type: 'process', command: o.command, ...(o.arg ? { args: o.arg } : {}), ...(o.cwd ? { cwd: o.cwd } : {}) };
      await operator().print('PUT', `/api/agents/${agentId}/wake-target`, { target });
    });
}
