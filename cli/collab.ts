/**
 * Seed 000's collaboration on the command line (issue 8): the heartbeat reads, subtasks and blockers,
 * documents, confirmations, goals. Operators answer confirmations with their own key.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ApiClient } from './api-client.js';

const list = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean);
const bodyText = (inline?: string, file?: string) => (file ? readFileSync(file === '-' ? 0 : file, 'utf8') : inline);

interface IssueOpts { title: string; description?: string; assignee?: string; status?: string; priority?: string; goal?: string; blockedBy?: string[]; key?: string }
const issueBody = (o: IssueOpts) => ({
  title: o.title,
  ...(o.description ? { description: o.description } : {}),
  ...(o.assignee ? { assigneeAgentId: o.assignee } : {}),
  ...(o.status ? { status: o.status } : {}),
  ...(o.priority ? { priority: o.priority } : {}),
  ...(o.goal ? { goalId: o.goal } : {}),
  ...(o.blockedBy ? { blockedByIssueIds: o.blockedBy } : {}),
  ...(o.key ? { idempotencyKey: o.key } : {}),
});
const issueOptions = (c: Command) =>
  c.requiredOption('--title <title>').option('--description <text>').option('--assignee <agentId>').option('--status <status>', 'backlog or todo')
    .option('--priority <priority>').option('--goal <goalId>').option('--blocked-by <ids>', 'comma-separated issue ids', list).option('--key <idempotencyKey>');

export function registerCollabCommands(program: Command, agent: () => ApiClient, operator: () => ApiClient): void {
  program.command('inbox').description('the calling agent\'s todo, in_progress and blocked issues').action(() => agent().print('GET', '/api/agents/me/inbox-lite'));
  program
    .command('context <issueId>')
    .description('the issue, its ancestors, goal, blockers, comment cursor and plan review (one heartbeat read)')
    .option('--wake-comment <commentId>')
    .action((id: string, o: { wakeComment?: string }) => agent().print('GET', `/api/issues/${id}/heartbeat-context${o.wakeComment ? `?wakeCommentId=${o.wakeComment}` : ''}`));

  issueOptions(program.command('create <companyId>').description('a new issue (--parent: a subtask)').option('--parent <issueId>'))
    .action((companyId: string, o: IssueOpts & { parent?: string }) => agent().print('POST', `/api/companies/${companyId}/issues`, { ...issueBody(o), ...(o.parent ? { parentId: o.parent } : {}) }));
  issueOptions(program.command('child <parentId>').description('a subtask (409 plan_not_approved while the parent\'s plan waits)'))
    .action((parentId: string, o: IssueOpts) => agent().print('POST', `/api/issues/${parentId}/children`, issueBody(o)));
  program
    .command('block <issueId>')
    .description('set the issues this one waits on (replaces the set), or --clear it')
    .option('--on <ids>', 'comma-separated issue ids', list)
    .option('--clear', 'wait on nothing')
    .option('--comment <text>')
    .action((id: string, o: { on?: string[]; clear?: boolean; comment?: string }) => {
      if (o.clear === Boolean(o.on?.length)) throw new Error('give --on <ids> (at least one) or --clear');
      return agent().print('PATCH', `/api/issues/${id}`, { blockedByIssueIds: o.clear ? [] : o.on, ...(o.comment ? { comment: o.comment } : {}) });
    });

  const doc = program.command('doc').description('issue documents with revisions');
  doc.command('list <issueId>').action((id: string) => agent().print('GET', `/api/issues/${id}/documents`));
  doc.command('get <issueId> <key>').action((id: string, key: string) => agent().print('GET', `/api/issues/${id}/documents/${key}`));
  doc.command('revisions <issueId> <key>').action((id: string, key: string) => agent().print('GET', `/api/issues/${id}/documents/${key}/revisions`));
  doc
    .command('put <issueId> <key>')
    .description('create (no --base) or update on the latest revision (--base latest reads it first)')
    .option('--body <markdown>')
    .option('--file <path>', 'the body from a file (- for stdin)')
    .option('--title <title>')
    .option('--summary <changeSummary>')
    .option('--base <revisionId>', 'the latestRevisionId you read, or "latest"')
    .action(async (id: string, key: string, o: { body?: string; file?: string; title?: string; summary?: string; base?: string }) => {
      const body = bodyText(o.body, o.file);
      if (body === undefined) throw new Error('give --body or --file');
      let base = o.base;
      if (base === 'latest') base = ((await agent().call('GET', `/api/issues/${id}/documents/${key}`)).body as { latestRevisionId?: string } | null)?.latestRevisionId;
      await agent().print('PUT', `/api/issues/${id}/documents/${key}`, { format: 'markdown', body, ...(o.title ? { title: o.title } : {}), ...(o.summary ? { changeSummary: o.summary } : {}), baseRevisionId: base ?? null });
    });

  const ask = program.command('interaction').description('confirmations: ask (an agent), answer (an operator), withdraw');
  ask.command('list <issueId>').action((id: string) => agent().print('GET', `/api/issues/${id}/interactions`));
  ask
    .command('ask <issueId>')
    .description('request a confirmation; --plan targets the plan document\'s latest revision with seed 000\'s key')
    .requiredOption('--prompt <text>')
    .option('--plan', 'target the latest revision of the issue\'s plan document')
    .option('--continuation <policy>', 'none, wake_assignee or wake_assignee_on_accept', 'wake_assignee')
    .option('--reason-required', 'a reject must give a reason')
    .option('--key <idempotencyKey>')
    .action(async (id: string, o: { prompt: string; plan?: boolean; continuation: string; reasonRequired?: boolean; key?: string }) => {
      let target: Record<string, unknown> | undefined;
      let key = o.key;
      if (o.plan) {
        const plan = (await agent().call('GET', `/api/issues/${id}/documents/plan`)).body as { id: string; issueId: string; latestRevisionId: string; latestRevisionNumber: number } | null;
        if (!plan?.latestRevisionId) throw new Error('the issue has no plan document yet: doc put <issueId> plan --file plan.md');
        target = { type: 'issue_document', issueId: plan.issueId, documentId: plan.id, key: 'plan', revisionId: plan.latestRevisionId, revisionNumber: plan.latestRevisionNumber };
        key ??= `confirmation:${plan.issueId}:plan:${plan.latestRevisionId}`;
      }
      await agent().print('POST', `/api/issues/${id}/interactions`, {
        kind: 'request_confirmation', continuationPolicy: o.continuation, ...(key ? { idempotencyKey: key } : {}),
        payload: { version: 1, prompt: o.prompt, ...(o.reasonRequired ? { rejectRequiresReason: true } : {}), ...(target ? { target } : {}) },
      });
    });
  ask.command('accept <issueId> <interactionId>').description('operator').action((id: string, iid: string) => operator().print('POST', `/api/issues/${id}/interactions/${iid}/accept`, {}));
  ask
    .command('reject <issueId> <interactionId>')
    .description('operator')
    .option('--reason <text>')
    .action((id: string, iid: string, o: { reason?: string }) => operator().print('POST', `/api/issues/${id}/interactions/${iid}/reject`, o.reason ? { reason: o.reason } : {}));
  ask
    .command('withdraw <issueId> <interactionId>')
    .option('--reason <text>')
    .action((id: string, iid: string, o: { reason?: string }) => agent().print('POST', `/api/issues/${id}/interactions/${iid}/withdraw`, o.reason ? { reason: o.reason } : {}));

  const goals = program.command('goals').description('what issues serve');
  goals.command('list <companyId>').action((companyId: string) => agent().print('GET', `/api/companies/${companyId}/goals`));
  goals
    .command('add <companyId>')
    .requiredOption('--title <title>')
    .option('--level <level>', 'company, team, agent or task', 'task')
    .option('--parent <goalId>')
    .action((companyId: string, o: { title: string; level: string; parent?: string }) => agent().print('POST', `/api/companies/${companyId}/goals`, { title: o.title, level: o.level, ...(o.parent ? { parentId: o.parent } : {}) }));
}
