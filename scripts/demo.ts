/**
 * `npm run demo`: the whole product in one command. Starts the stack (as `npm start` does, or uses the
 * one already running) and a fake GitHub with a repository; connects it as a source with a webhook;
 * adds a routing rule and an agent woken in managed local mode (scripts/demo-agent.ts); then opens an
 * issue upstream and prints each stage of its one workflow, intake → ship, with the Web UI address to
 * watch it. The demo plays CI and the reviewer. `--exit` stops everything once the task has shipped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startFakeGitHub } from '../test/fakes/github/server.js';
import { adminKeyFile, runningStack } from '../runtime/local-stack.js';
import { ROOT } from './stack/temporal-cli.js';

const exitWhenDone = process.argv.includes('--exit');
const say = (line: string) => console.log(`[demo] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const api = process.env.SWITCHYARD_URL || runningStack().api || `http://127.0.0.1:${process.env.PORT || 3000}`;
// The running npm start's Web UI (it records where), else what the environment says.
const uiUrl = () => process.env.TEMPORAL_UI_URL || runningStack().ui || `http://127.0.0.1:${process.env.TEMPORAL_UI_PORT || Number(process.env.TEMPORAL_PORT || 7233) + 1000}`;

async function ready(): Promise<boolean> {
  return fetch(`${api}/readyz`).then((r) => r.ok).catch(() => false);
}

let stack: ChildProcess | undefined;
let stopping = false;
/** Removes what the demo connected, so a later npm start does not poll a fake GitHub that is gone. */
let cleanup: (() => Promise<void>) | undefined;
if (await ready()) {
  say(`using the stack already running at ${api}`);
} else {
  say('starting the stack (npm start)…');
  stack = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/start.ts')], { stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
  stack.once('exit', (code) => {
    if (!stopping) {
      console.error(`[demo] npm start exited (${code}); see above why`);
      process.exit(1);
    }
  });
  const deadline = Date.now() + 600_000;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error('the stack did not become ready in 10 minutes');
    await sleep(500);
  }
}
const fake = await startFakeGitHub(Number(process.env.FAKE_GITHUB_PORT ?? 0));
async function stop(code = 0): Promise<never> {
  stopping = true;
  await cleanup?.().catch((err) => console.error(`[demo] could not remove the demo's source: ${(err as Error).message}`));
  await fake.close();
  if (stack) {
    stack.kill('SIGINT');
    await new Promise((r) => stack!.once('exit', r));
  }
  process.exit(code);
}
process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));

try {
  const adminKey = process.env.SWITCHYARD_ADMIN_KEY || (existsSync(adminKeyFile()) ? readFileSync(adminKeyFile(), 'utf8').trim() : '');
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${api}${p}`, { method, headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${p} → ${res.status} ${JSON.stringify(json)}`);
    return json as any;
  };

  const owner = 'acme';
  const repo = `shop-${randomBytes(2).toString('hex')}`;
  await fake.fake.createRepo(owner, repo, { 'README.md': `# ${repo}\n`, 'src/checkout.txt': 'the checkout page\n' });
  say(`fake GitHub on ${fake.url} with ${owner}/${repo}`);
  const company = await call('POST', '/api/companies', { name: `Demo ${repo}`, issuePrefix: 'DEMO' });
  const agent = await call('POST', `/api/companies/${company.id}/agents`, { name: 'demo-agent', role: 'engineer' });
  await call('PUT', `/api/agents/${agent.agent.id}/wake-target`, {
    target: { type: 'process', command: process.execPath, args: ['--import', 'tsx', path.join(ROOT, 'scripts/demo-agent.ts'), fake.url, owner, repo], cwd: ROOT },
  });
  await call('PUT', `/api/companies/${company.id}/routing`, { rules: [{ id: 'bugs', name: 'Bugs go to the demo agent', match: { labelsAny: ['bug'] }, target: { agentId: agent.agent.id } }] });
  const secret = randomBytes(16).toString('hex');
  const source = await call('POST', `/api/companies/${company.id}/sources`, { provider: 'github', owner, repo, baseUrl: fake.url, credential: { token: `ghp_demo_${randomBytes(8).toString('hex')}` }, webhookSecret: secret, pollIntervalSeconds: 60 });
  fake.fake.hooks.subscribe(`${api}/api/providers/github/webhooks/${source.id}`, secret);
  cleanup = async () => {
    await call('DELETE', `/api/sources/${source.id}`);
    say(`removed the demo's source and its Schedule (the fake GitHub goes with the demo); the task stays`);
  };
  say(`source ${owner}/${repo} connected: webhooks to ${api}/api/providers/github/webhooks/${source.id}, polling Schedule ${source.schedule}`);
  say(`  Schedules: ${uiUrl()}/namespaces/default/schedules`);

  const issue = await fake.fake.openIssue(owner, repo, { title: 'Checkout button does nothing on mobile', body: 'Tap "Pay": nothing happens.', labels: ['bug'] });
  say(`opened ${fake.url}/${owner}/${repo}/issues/${issue.number} upstream`);

  const deadline = Date.now() + 300_000;
  let task: any;
  while (!task) {
    const list = await call('GET', `/api/companies/${company.id}/issues`);
    task = list[0];
    if (!task) await sleep(200);
    if (Date.now() > deadline) throw new Error('the issue never became a task');
  }
  say(`task ${task.identifier} is workflow issue/${task.id}`);
  say(`  watch it: ${uiUrl()}/namespaces/default/workflows/${encodeURIComponent(`issue/${task.id}`)}`);
  let last = '';
  let playedCi = '';
  let reviewed = false;
  for (;;) {
    const t = (await call('GET', `/api/tasks/${task.id}`)).data;
    const line = `${t.stage} · ${t.status}${t.assignee ? ` · ${t.assignee.name}` : ''}${t.prUrl ? ` · ${t.prUrl}` : ''}${t.ci ? ` · CI ${t.ci.overallStatus}` : ''}${t.review ? ` · review ${t.review.outcome}` : ''}`;
    if (line !== last) say(`stage → ${line}`);
    last = line;
    // The demo plays CI on each new head, then the reviewer.
    if (t.status === 'in_review' && t.headSha && playedCi !== t.headSha) {
      playedCi = t.headSha;
      await fake.fake.setCheckRun(owner, repo, { sha: t.headSha, name: 'ci/test', status: 'completed', conclusion: 'success' });
    }
    if (t.status === 'in_review' && t.ci?.overallStatus === 'passed' && !reviewed) {
      reviewed = true;
      await fake.fake.submitReview(owner, repo, t.prNumber, { user: 'maintainer', state: 'APPROVED', body: 'Looks good' });
    }
    if (t.status === 'done' && t.stage === 'shipped') {
      say(`shipped: ${t.shipped.mergeCommitUrl}`);
      // Closing the upstream issue is an effect the workflow carries out right after the ship.
      const upstream = fake.fake.repo(owner, repo).issues.get(issue.number)!;
      for (let i = 0; i < 50 && upstream.state !== 'closed'; i++) await sleep(200);
      say(`upstream issue ${fake.url}/${owner}/${repo}/issues/${issue.number} is ${upstream.state}; the task's comments: ${api}/api/issues/${task.id}/comments`);
      break;
    }
    if (Date.now() > deadline) throw new Error(`the task did not ship in 5 minutes (last: ${line})`);
    await sleep(200);
  }
  if (exitWhenDone) {
    await sleep(1_500); // the close upstream answers before the fake goes
    await stop(0);
  }
  say('the stack keeps running: browse the Web UI above; Ctrl-C stops everything');
} catch (err) {
  console.error(`[demo] ${(err as Error).message}`);
  await stop(1);
}
