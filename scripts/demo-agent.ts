/**
 * The demo's scripted agent, run in managed local mode: the worker spawns it for each wake with
 * SWITCHYARD_URL, SWITCHYARD_API_KEY (a run token), SWITCHYARD_TASK_ID and SWITCHYARD_WAKE_REASON.
 * It "writes code" by pushing a commit to the fake GitHub (argv: fake URL, owner, repo), then speaks
 * AgentRail's task API: start, submit, and ship when woken ready_to_ship.
 */
const [fakeUrl, owner, repo] = process.argv.slice(2);
const api = process.env.SWITCHYARD_URL!;
const taskId = process.env.SWITCHYARD_TASK_ID!;
const reason = process.env.SWITCHYARD_WAKE_REASON!;
const auth = { authorization: `Bearer ${process.env.SWITCHYARD_API_KEY}` };
const say = (line: string) => console.error(`[demo-agent] ${line}`);

async function call(method: string, path: string, body?: unknown, key?: string): Promise<any> {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}), ...(key ? { 'idempotency-key': key } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const task = (await call('GET', `/api/tasks/${taskId}`)).data;
say(`woken (${reason}) for ${task.identifier}: ${task.availableActions.join(', ')}`);
const branch = `switchyard/${task.identifier.toLowerCase()}`;

if (reason === 'issue_assigned' || reason === 'ci_failed' || reason === 'changes_requested') {
  if (task.availableActions.includes('start')) await call('POST', `/api/tasks/${taskId}/start`, {}, `start-${taskId}`);
  // A Linear task: say so on the Linear issue, through AgentRail's Linear route (its SDK's createLinearTaskComment).
  if (reason === 'issue_assigned' && task.source?.provider === 'linear') {
    await call('POST', `/api/providers/linear/tasks/${taskId}/comments`, { body: `On it: ${task.title}` }, `linear-comment-${taskId}`);
  }
  const pushed = await fetch(`${fakeUrl}/_fake/repos/${owner}/${repo}/commits`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ branch, files: { 'src/fix.txt': `fixed ${task.identifier} (${reason})\n` }, message: `Fix ${task.identifier}` }),
  });
  const { sha } = (await pushed.json()) as { sha: string };
  const submitted = await call('POST', `/api/tasks/${taskId}/submit`, { summary: `Fixed: ${task.title}`, pullRequest: { head: branch, title: `${task.identifier}: ${task.title}` } }, `submit-${taskId}-${sha}`);
  say(`submitted ${submitted.data.prUrl} at ${sha.slice(0, 8)} (${submitted.data.action})`);
} else if (reason === 'ready_to_ship' && task.availableActions.includes('ship')) {
  const shipped = await call('POST', `/api/tasks/${taskId}/ship`, { expectedHeadSha: task.headSha }, `ship-${taskId}-${task.headSha}`);
  say(`shipped: merge commit ${shipped.data.mergeCommitSha}`);
}
