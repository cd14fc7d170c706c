/**
 * `npm run cli -- <command>`: the agent's and operator's command line over the REST API.
 * SWITCHYARD_URL (default http://127.0.0.1:3000), SWITCHYARD_API_KEY, SWITCHYARD_RUN_ID.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Command } from 'commander';
import { adminKeyFile, localApiUrl } from '../runtime/local-stack.js';
import { ApiClient } from './api-client.js';
import { registerCollabCommands } from './collab.js';
import { registerDeliveryCommands } from './delivery.js';
import { registerKeyCommands } from './keys.js';

const program = new Command('switchyard').description('Switchyard: agent task control plane');
// Usage errors (unknown command or option, a missing argument) exit 2 like ours, never commander's 1
// (1 is a refusal by the API); help and --version exit 0. Set before any command: subcommands inherit it.
program.exitOverride((err) => {
  process.exit(err.exitCode === 0 ? 0 : 2);
});
program
  .option('--url <url>', 'API base URL (default: SWITCHYARD_URL, else the running npm start\'s API)', localApiUrl())
  // Read from the environment when used, not as commander defaults: --help would print the key.
  .option('--key <key>', 'API key, agent or operator (default: SWITCHYARD_API_KEY)')
  .option('--run <runId>', 'run id sent as X-Run-Id (default: SWITCHYARD_RUN_ID)');

// `npm run cli -- … | head` closing the pipe early is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const opts = () => {
  const o = program.opts<{ url: string; key?: string; run?: string }>();
  return { url: o.url, key: o.key ?? process.env.SWITCHYARD_API_KEY, run: o.run ?? process.env.SWITCHYARD_RUN_ID };
};
const client = () => {
  const o = opts();
  if (!o.key) throw new Error('set SWITCHYARD_API_KEY or pass --key');
  return new ApiClient(o.url, o.key, o.run);
};
/** Operator commands: the given key, else the admin key a local `npm start` wrote. */
const operator = () => {
  const o = opts();
  const file = adminKeyFile();
  const key = o.key || (existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined);
  if (!key) throw new Error(`set SWITCHYARD_API_KEY, pass --key, or run npm start (it writes ${file})`);
  return new ApiClient(o.url, key, o.run);
};
const text = (inline?: string, file?: string) => (file ? readFileSync(file === '-' ? 0 : file, 'utf8') : inline);

program.command('me').description('the calling agent').action(async () => client().print('GET', '/api/agents/me'));

program
  .command('list <companyId>')
  .description('issues, priority then age')
  .option('--assignee <agentId>', 'an agent id, or "me"')
  .option('--status <list>', 'e.g. todo,in_progress')
  .action(async (companyId: string, o: { assignee?: string; status?: string }) => {
    const q = new URLSearchParams();
    if (o.assignee) q.set('assigneeAgentId', o.assignee);
    if (o.status) q.set('status', o.status);
    await client().print('GET', `/api/companies/${companyId}/issues?${q}`);
  });

program.command('show <issueId>').description('one issue with its availableActions').action(async (id: string) => client().print('GET', `/api/issues/${id}`));
program
  .command('comments <issueId>')
  .description('the thread, oldest first (--order desc: newest first, as the API answers by default)')
  .option('--order <order>', 'asc or desc', 'asc')
  .action(async (id: string, o: { order: string }) => client().print('GET', `/api/issues/${id}/comments?order=${encodeURIComponent(o.order)}`));
program.command('activity <issueId>').action(async (id: string) => client().print('GET', `/api/issues/${id}/activity`));

program
  .command('checkout <issueId>')
  .requiredOption('--agent <agentId>')
  .option('--expect <statuses>', 'expected statuses', 'todo,backlog,blocked,in_review')
  .option('--lease <seconds>', 'lease length', (v) => Number(v))
  .action(async (id: string, o: { agent: string; expect: string; lease?: number }) =>
    client().print('POST', `/api/issues/${id}/checkout`, { agentId: o.agent, expectedStatuses: o.expect.split(','), ...(o.lease ? { leaseSeconds: o.lease } : {}) }),
  );

program
  .command('update <issueId>')
  .option('--status <status>')
  .option('--comment <text>')
  .option('--comment-file <path>', 'read the comment from a file (- for stdin)')
  .option('--priority <priority>')
  .option('--assignee <agentId>')
  .option('--review-interaction <interactionId>', 'with --status in_review: the pending confirmation the review waits on')
  .action(async (id: string, o: { status?: string; comment?: string; commentFile?: string; priority?: string; assignee?: string; reviewInteraction?: string }) => {
    const body: Record<string, unknown> = {};
    if (o.reviewInteraction) body.reviewInteractionId = o.reviewInteraction;
    const comment = text(o.comment, o.commentFile);
    if (o.status) body.status = o.status;
    if (comment !== undefined) body.comment = comment;
    if (o.priority) body.priority = o.priority;
    if (o.assignee) body.assigneeAgentId = o.assignee;
    await client().print('PATCH', `/api/issues/${id}`, body);
  });

program
  .command('comment <issueId>')
  .option('--body <text>')
  .option('--file <path>')
  .option('--reopen', 'a done or cancelled issue goes back to todo')
  .action(async (id: string, o: { body?: string; file?: string; reopen?: boolean }) => client().print('POST', `/api/issues/${id}/comments`, { body: text(o.body, o.file) ?? '', ...(o.reopen ? { reopen: true } : {}) }));

program
  .command('close <issueId>')
  .description('atomic close-out: the closing comment and done together')
  .option('--comment <text>')
  .option('--comment-file <path>', 'e.g. closing.md (- for stdin)')
  .option('--idempotency-key <key>')
  .action(async (id: string, o: { comment?: string; commentFile?: string; idempotencyKey?: string }) =>
    client().print('POST', `/api/issues/${id}/close`, { comment: text(o.comment, o.commentFile) ?? '' }, o.idempotencyKey),
  );

program.command('release <issueId>').option('--comment <text>').action(async (id: string, o: { comment?: string }) => client().print('POST', `/api/issues/${id}/release`, o.comment ? { comment: o.comment } : {}));
program.command('heartbeat <issueId>').action(async (id: string) => client().print('POST', `/api/issues/${id}/heartbeat`, {}));

const admin = program.command('admin').description('operator commands (operator key: --key, SWITCHYARD_API_KEY, or .switchyard/admin-key)');
admin
  .command('restore <issueId>')
  .description('start a task whose workflow was terminated or cancelled in Temporal again, from its last state')
  .action(async (id: string) => operator().print('POST', `/api/issues/${id}/restore`, {}));

registerDeliveryCommands(program, client, operator);
registerCollabCommands(program, client, operator);
registerKeyCommands(program, operator);

try {
  await program.parseAsync();
} catch (err) {
  // Not reaching the API is like a 5xx (try again later); anything else is a usage error.
  const unreachable = (err as Error).message === 'fetch failed';
  console.error(unreachable ? `error: cannot reach the API at ${program.opts<{ url: string }>().url} (is npm start running? set SWITCHYARD_URL or --url)` : `error: ${(err as Error).message}`);
  process.exitCode = unreachable ? 3 : 2;
}
