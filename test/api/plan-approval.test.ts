/**
 * Issue 8 §2–§4 end to end: seed 000's plan-approval procedure and delegation, run as a scripted
 * manager agent following Paperclip's heartbeat, with an operator (the board) accepting the plan;
 * then documents' revision rules and the confirmation rules one by one.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { seedCompany, type SeededAgent } from '../support/seed.js';
import { startStack, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.stop());

const wakesOf = (agent: SeededAgent, taskId: string) =>
  agent.http.get('/api/agents/me/wakeups').then((r) => (r.body.data as Array<{ reason: string; taskId: string; details: any }>).filter((w) => w.taskId === taskId));
const TAKE = ['todo', 'backlog', 'blocked', 'in_review'];

test('seed 000: plan, confirmation, review, the board accepts, delegation, children close, the parent is woken once', async () => {
  const { companyId, agents } = await seedCompany(stack, 3);
  const [manager, dev1, dev2] = agents as [SeededAgent, SeededAgent, SeededAgent];
  const epic = (await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'Implement caching layer', assigneeAgentId: manager.id })).body;

  // Heartbeat: inbox → checkout → context.
  const inbox = (await manager.http.get('/api/agents/me/inbox-lite')).body;
  assert.deepEqual(inbox.map((i: any) => i.id), [epic.id]);
  assert.equal((await manager.http.post(`/api/issues/${epic.id}/checkout`, { agentId: manager.id, expectedStatuses: TAKE })).status, 200);
  assert.equal((await manager.http.get(`/api/issues/${epic.id}/heartbeat-context`)).body.planReviewContext, null);

  // The plan document, then its latest revision.
  const put = await manager.http.put(`/api/issues/${epic.id}/documents/plan`, { format: 'markdown', title: 'Plan', body: '# Plan\n\n1. Cache module\n2. Benchmark', baseRevisionId: null });
  assert.equal(put.status, 201, JSON.stringify(put.body));
  assert.equal(put.body.latestRevisionNumber, 1);
  const doc = (await manager.http.get(`/api/issues/${epic.id}/documents/plan`)).body;
  assert.equal(doc.latestRevisionId, put.body.latestRevisionId);
  assert.match(doc.body, /Cache module/);

  // A confirmation targeting that revision, with the procedure's key.
  const ask = {
    kind: 'request_confirmation',
    idempotencyKey: `confirmation:${epic.id}:plan:${doc.latestRevisionId}`,
    continuationPolicy: 'wake_assignee',
    payload: { version: 1, prompt: 'Approve the plan?', target: { type: 'issue_document', issueId: epic.id, documentId: doc.id, key: 'plan', revisionId: doc.latestRevisionId, revisionNumber: 1 } },
  };
  const created = await manager.http.post(`/api/issues/${epic.id}/interactions`, ask);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.status, 'pending');
  const again = await manager.http.post(`/api/issues/${epic.id}/interactions`, ask);
  assert.equal(again.status, 201, 'an idempotent replay is 201 too');
  assert.equal(again.body.id, created.body.id);
  const reused = await manager.http.post(`/api/issues/${epic.id}/interactions`, { ...ask, payload: { ...ask.payload, prompt: 'Something else?' } });
  assert.equal(reused.status, 409);

  const review = await manager.http.patch(`/api/issues/${epic.id}`, { status: 'in_review', comment: 'Plan ready for review.', reviewInteractionId: created.body.id });
  assert.equal(review.status, 200, JSON.stringify(review.body));
  assert.equal(review.body.status, 'in_review');

  // Not approved yet: no subtasks, and no `delegate` on offer.
  const early = await manager.http.post(`/api/issues/${epic.id}/children`, { title: 'Write the cache module', assigneeAgentId: dev1.id });
  assert.equal(early.status, 409);
  assert.equal(early.body.code, 'plan_not_approved');
  assert.ok(!(await manager.http.get(`/api/issues/${epic.id}`)).body.availableActions.includes('delegate'));
  assert.equal((await manager.http.post(`/api/issues/${epic.id}/interactions/${created.body.id}/accept`, {})).status, 403, 'the board decides, not the asker');

  // The board accepts: the issue goes back to the manager as todo, woken with the outcome.
  const accepted = await stack.admin.post(`/api/issues/${epic.id}/interactions/${created.body.id}/accept`, {});
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
  assert.equal(accepted.body.status, 'accepted');
  assert.deepEqual(accepted.body.result, { version: 1, outcome: 'accepted' });
  const back = (await manager.http.get(`/api/issues/${epic.id}`)).body;
  assert.equal(back.status, 'todo');
  assert.equal(back.assigneeAgentId, manager.id);
  const wake = await waitFor('the continuation wake', () => wakesOf(manager, epic.id), (w) => w.some((x) => x.reason === 'interaction_resolved'));
  assert.equal(wake.find((x) => x.reason === 'interaction_resolved')!.details.interactionStatus, 'accepted');
  assert.equal((await stack.admin.post(`/api/issues/${epic.id}/interactions/${created.body.id}/reject`, { reason: 'late' })).status, 409, 'one resolution only');

  // Delegate: checkout again, two children, and `delegate` offered.
  const out = await manager.http.post(`/api/issues/${epic.id}/checkout`, { agentId: manager.id, expectedStatuses: TAKE });
  assert.equal(out.status, 200);
  assert.ok(out.body.availableActions.includes('delegate'), JSON.stringify(out.body.availableActions));
  const c1 = await manager.http.post(`/api/issues/${epic.id}/children`, { title: 'Write the cache module', assigneeAgentId: dev1.id, status: 'todo' });
  assert.equal(c1.status, 201, JSON.stringify(c1.body));
  const c2 = await manager.http.post(`/api/companies/${companyId}/issues`, { title: 'Benchmark the cache', parentId: epic.id, assigneeAgentId: dev2.id, blockedByIssueIds: [c1.body.id] });
  assert.equal(c2.status, 201, JSON.stringify(c2.body));
  // Same title and parent again by an agent: Paperclip's duplicate guard answers the first.
  const twin = await manager.http.post(`/api/issues/${epic.id}/children`, { title: 'Write the cache module' });
  assert.equal(twin.status, 200);
  assert.equal(twin.body.deduplicationReason, 'recent_open_title');
  assert.equal(twin.body.id, c1.body.id);
  await manager.http.patch(`/api/issues/${epic.id}`, { status: 'blocked', comment: 'Waiting on the children.', blockedByIssueIds: [c1.body.id, c2.body.id] });

  // dev2 cannot start before its blocker is done.
  const blocked = await dev2.http.post(`/api/issues/${c2.body.id}/checkout`, { agentId: dev2.id, expectedStatuses: TAKE });
  assert.equal(blocked.status, 422);
  assert.equal(blocked.body.code, 'unresolved_blockers');
  assert.deepEqual(blocked.body.details.unresolvedBlockerIssueIds, [c1.body.id]);
  assert.equal((await dev2.http.get('/api/agents/me/inbox-lite')).body[0].dependencyReady, false);

  // dev1 finishes: dev2 is woken (blockers resolved) and can start.
  await dev1.http.post(`/api/issues/${c1.body.id}/checkout`, { agentId: dev1.id, expectedStatuses: TAKE });
  assert.equal((await dev1.http.post(`/api/issues/${c1.body.id}/close`, { comment: 'Deliverable: commit 4f2a9c1e\nResult: module. Verified: tests.' })).status, 200);
  await waitFor('dev2 woken', () => wakesOf(dev2, c2.body.id), (w) => w.some((x) => x.reason === 'issue_blockers_resolved'));
  const started = await waitFor('dev2 can start', () => dev2.http.post(`/api/issues/${c2.body.id}/checkout`, { agentId: dev2.id, expectedStatuses: TAKE }), (r) => r.status === 200);
  assert.equal(started.body.status, 'in_progress');
  assert.deepEqual((await waitFor('no parent wake yet', () => wakesOf(manager, epic.id), () => true)).filter((w) => w.reason === 'issue_children_completed'), []);
  assert.equal((await dev2.http.post(`/api/issues/${c2.body.id}/close`, { comment: 'Deliverable: commit 5a3b9d0f\nResult: 3x faster. Verified: bench.' })).status, 200);

  // Both children closed: the manager is woken once, with both reasons (children and its own blockers).
  await waitFor('children completed', () => wakesOf(manager, epic.id), (w) => w.some((x) => x.reason === 'issue_children_completed' || x.reason === 'issue_blockers_resolved'));
  const log = (await stack.admin.get(`/api/issues/${epic.id}/activity`)).body;
  const actions = (log.data ?? log).map((e: any) => e.action);
  await waitFor('the parent logs it', async () => ((await stack.admin.get(`/api/issues/${epic.id}/activity`)).body), (l: any) => (l.data ?? l).some((e: any) => e.action === 'issue.children_completed'));
  assert.ok(actions.length > 0);
  const final = (await stack.admin.get(`/api/issues/${epic.id}/activity`)).body;
  assert.equal((final.data ?? final).filter((e: any) => e.action === 'issue.children_completed').length, 1, 'exactly once');
  const wakeLog = (final.data ?? final).filter((e: any) => e.action === 'agent.wake_requested').map((e: any) => e.details.reason);
  assert.ok(wakeLog.includes('interaction_resolved') && wakeLog.includes('issue_children_completed'), `every wake is in the log: ${wakeLog}`);
});

test('documents: create, update on the latest base only, revisions newest first, bad keys, isolation', async () => {
  const { companyId, agents } = await seedCompany(stack, 2);
  const [a, b] = agents as [SeededAgent, SeededAgent];
  const issue = (await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'Doc me', assigneeAgentId: a.id })).body;
  const url = `/api/issues/${issue.id}/documents`;
  assert.equal((await a.http.put(`${url}/Plan`, { format: 'markdown', body: 'x' })).status, 400, 'key must be lower case');
  assert.equal((await a.http.put(`${url}/${'k'.repeat(65)}`, { format: 'markdown', body: 'x' })).status, 400);
  assert.equal((await a.http.put(`${url}/notes`, { format: 'html', body: 'x' })).status, 400);
  assert.equal((await a.http.put(`${url}/notes`, { format: 'markdown', body: 'x'.repeat(512 * 1024 + 1) })).status, 400);
  assert.equal((await a.http.put(`${url}/notes`, { format: 'markdown', body: 'x', baseRevisionId: '00000000-0000-4000-8000-000000000000' })).status, 409, 'a base on create');

  const v1 = await a.http.put(`${url}/notes`, { format: 'markdown', body: 'one', title: 'Notes' });
  assert.equal(v1.status, 201);
  const noBase = await a.http.put(`${url}/notes`, { format: 'markdown', body: 'two' });
  assert.equal(noBase.status, 409);
  assert.equal(noBase.body.code, 'revision_conflict');
  assert.equal(noBase.body.details.currentRevisionId, v1.body.latestRevisionId);

  // Twenty writers on the same base: exactly one wins, the rest are told the current revision.
  const racers = await Promise.all(Array.from({ length: 20 }, (_, i) => a.http.put(`${url}/notes`, { format: 'markdown', body: `two by ${i}`, baseRevisionId: v1.body.latestRevisionId, changeSummary: `try ${i}` })));
  const won = racers.filter((r) => r.status === 200);
  assert.equal(won.length, 1, racers.map((r) => r.status).join());
  assert.ok(racers.filter((r) => r.status === 409).every((r) => r.body.details.currentRevisionId === won[0]!.body.latestRevisionId));
  assert.equal(won[0]!.body.latestRevisionNumber, 2);
  assert.equal(won[0]!.body.title, 'Notes', 'the title carries over');

  const revisions = (await a.http.get(`${url}/notes/revisions`)).body;
  assert.deepEqual(revisions.map((r: any) => r.revisionNumber), [2, 1]);
  assert.equal(revisions[0].body, won[0]!.body.body);
  const { rows } = await stack.pool.query('SELECT count(*) FILTER (WHERE revision_number IS NOT NULL)::int AS published, count(*)::int AS n FROM document_revisions WHERE issue_id = $1', [issue.id]);
  assert.equal(rows[0].published, 2, 'refused bodies are never published');
  // A racer answered 503 at its deadline (a loaded machine) may still have been the workflow's to decide: its copy stays unpublished, the others are gone.
  const unanswered = racers.filter((r) => r.status >= 500).length;
  assert.ok(rows[0].n <= 2 + unanswered, `refused bodies are not kept (${rows[0].n} rows, ${unanswered} racers answered 5xx)`);
  assert.deepEqual((await b.http.get(url)).body.map((d: any) => d.key), ['notes']);
  assert.equal((await a.http.get(`${url}/missing`)).status, 404);

  // The owner's rules: while a checks it out, b may not write.
  await a.http.post(`/api/issues/${issue.id}/checkout`, { agentId: a.id, expectedStatuses: TAKE });
  assert.equal((await b.http.put(`${url}/other`, { format: 'markdown', body: 'mine now' })).status, 409);
  const other = await seedCompany(stack, 1);
  assert.equal((await other.agents[0]!.http.get(url)).status, 404);
  assert.equal((await other.agents[0]!.http.put(`${url}/x`, { format: 'markdown', body: 'y' })).status, 404);
});

test('confirmations: one winner of 20, a required reason, stale targets, superseded by a comment or a newer request, continuation policies', async () => {
  const { companyId, agents } = await seedCompany(stack, 2, { enforcePlanApproval: false });
  const [a, b] = agents as [SeededAgent, SeededAgent];
  const issue = (await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'Decide', assigneeAgentId: a.id })).body;
  const url = `/api/issues/${issue.id}/interactions`;
  const ask = (extra: Record<string, unknown> = {}, payload: Record<string, unknown> = {}) =>
    a.http.post(url, { kind: 'request_confirmation', ...extra, payload: { version: 1, prompt: 'OK?', ...payload } });

  // 20 concurrent accepts and rejects: one wins, the rest are 409 already_resolved.
  const first = (await ask({ continuationPolicy: 'none' })).body;
  const race = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? stack.admin.post(`${url}/${first.id}/accept`, {}) : stack.admin.post(`${url}/${first.id}/reject`, { reason: `no ${i}` }))));
  assert.equal(race.filter((r) => r.status === 200).length, 1, race.map((r) => r.status).join());
  assert.ok(race.filter((r) => r.status !== 200).every((r) => r.status === 409 && r.body.code === 'already_resolved'));
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual((await wakesOf(a, issue.id)).filter((w) => w.reason === 'interaction_resolved'), [], 'continuation none: no wake');

  // A reason is required: 422, still pending; then rejected with it, and the wake carries it.
  const strict = (await ask({ continuationPolicy: 'wake_assignee' }, { rejectRequiresReason: true })).body;
  const noReason = await stack.admin.post(`${url}/${strict.id}/reject`, {});
  assert.equal(noReason.status, 422);
  assert.equal(noReason.body.code, 'reason_required');
  assert.equal((await a.http.get(`${url}/${strict.id}`)).body.status, 'pending');
  const rejected = await stack.admin.post(`${url}/${strict.id}/reject`, { reason: 'Split it in two first' });
  assert.equal(rejected.body.status, 'rejected');
  const wake = await waitFor('the reject wake', () => wakesOf(a, issue.id), (w) => w.some((x) => x.reason === 'interaction_resolved'));
  assert.equal(wake.find((x) => x.reason === 'interaction_resolved')!.details.reason, 'Split it in two first');

  // wake_assignee_on_accept: a reject wakes nobody.
  const onAccept = (await ask({ continuationPolicy: 'wake_assignee_on_accept' })).body;
  await stack.admin.post(`${url}/${onAccept.id}/reject`, { reason: 'no' });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await wakesOf(a, issue.id)).filter((w) => w.reason === 'interaction_resolved').length, 1);

  // A newer request by the same agent expires the older one; a human comment expires what is pending.
  const older = (await ask()).body;
  const newer = (await ask({}, { prompt: 'Newer?' })).body;
  assert.equal((await a.http.get(`${url}/${older.id}`)).body.result.outcome, 'superseded_by_newer_request');
  await stack.admin.post(`/api/issues/${issue.id}/comments`, { body: 'Let us talk here instead.' });
  const superseded = (await a.http.get(`${url}/${newer.id}`)).body;
  assert.equal(superseded.status, 'expired');
  assert.equal(superseded.result.outcome, 'superseded_by_comment');
  assert.ok(superseded.result.commentId);
  assert.equal((await stack.admin.post(`${url}/${newer.id}/accept`, {})).status, 409);

  // A target that is not the current revision is refused; a new revision expires the confirmation.
  const doc = (await a.http.put(`/api/issues/${issue.id}/documents/plan`, { format: 'markdown', body: 'v1' })).body;
  assert.equal((await ask({}, { target: { type: 'issue_document', key: 'plan', revisionId: '00000000-0000-4000-8000-000000000000' } })).status, 422);
  const onPlan = (await ask({}, { target: { type: 'issue_document', key: 'plan', revisionId: doc.latestRevisionId } })).body;
  await a.http.put(`/api/issues/${issue.id}/documents/plan`, { format: 'markdown', body: 'v2', baseRevisionId: doc.latestRevisionId });
  const stale = (await a.http.get(`${url}/${onPlan.id}`)).body;
  assert.equal(stale.status, 'expired');
  assert.equal(stale.result.outcome, 'stale_target');

  // Withdraw by its creator; b (not creator, not assignee) may not; closing expires the rest.
  const mine = (await ask()).body;
  assert.equal((await b.http.post(`${url}/${mine.id}/withdraw`, {})).status, 403);
  assert.equal((await a.http.post(`${url}/${mine.id}/withdraw`, { reason: 'moot' })).body.status, 'cancelled');
  const last = (await ask()).body;
  await stack.admin.patch(`/api/issues/${issue.id}`, { status: 'cancelled' });
  assert.equal((await a.http.get(`${url}/${last.id}`)).body.result.outcome, 'issue_closed');
  assert.equal((await ask()).status, 409, 'a closed issue takes no new confirmations');

  const list = (await a.http.get(url)).body;
  assert.deepEqual(list.map((i: any) => i.id).slice(0, 2), [first.id, strict.id], 'oldest first');
  const other = await seedCompany(stack, 1);
  assert.equal((await other.agents[0]!.http.get(url)).status, 404);
  assert.equal((await other.agents[0]!.http.post(`${url}/${last.id}/accept`, {})).status, 404);
});

test('idempotent creates under concurrent retries: one issue and one 201, one interaction', async () => {
  const { companyId, agents } = await seedCompany(stack, 1);
  const a = agents[0]!;
  const issues = await Promise.all(Array.from({ length: 20 }, () => a.http.post(`/api/companies/${companyId}/issues`, { title: 'Once', idempotencyKey: 'create-once', allowDuplicate: true })));
  assert.equal(new Set(issues.map((r) => r.body.id)).size, 1);
  assert.equal(issues.filter((r) => r.status === 201).length, 1, issues.map((r) => r.status).join());
  assert.ok(issues.filter((r) => r.status === 200).every((r) => r.body.deduplicated === true));
  const mismatch = await a.http.post(`/api/companies/${companyId}/issues`, { title: 'Once', idempotencyKey: 'k1' }, { 'Idempotency-Key': 'k2' });
  assert.equal(mismatch.status, 400);

  const id = issues[0]!.body.id;
  const body = { kind: 'request_confirmation', idempotencyKey: 'ask-once', payload: { version: 1, prompt: 'Once?' } };
  const asks = await Promise.all(Array.from({ length: 20 }, () => a.http.post(`/api/issues/${id}/interactions`, body)));
  assert.ok(asks.every((r) => r.status === 201), asks.map((r) => r.status).join());
  assert.equal(new Set(asks.map((r) => r.body.id)).size, 1);
  assert.equal((await a.http.get(`/api/issues/${id}/interactions`)).body.length, 1);
});

test('the plan gate: withdrawn, superseded or outdated approval keeps it shut; a replay of a create that passed still answers', async () => {
  const { companyId, agents } = await seedCompany(stack, 1);
  const m = agents[0] as SeededAgent;
  const epic = (await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'Gated', assigneeAgentId: m.id })).body;
  const child = (key?: string) => m.http.post(`/api/issues/${epic.id}/children`, { title: 'sub', allowDuplicate: true, ...(key ? { idempotencyKey: key } : {}) });
  assert.equal((await child()).status, 201, 'no plan, no gate');
  const put = (base?: string) => m.http.put(`/api/issues/${epic.id}/documents/plan`, { format: 'markdown', body: `plan ${base ?? 1}`, ...(base ? { baseRevisionId: base } : {}) }).then((r) => r.body);
  const ask = (rev: string, prompt = 'OK?') => m.http.post(`/api/issues/${epic.id}/interactions`, { kind: 'request_confirmation', payload: { version: 1, prompt, target: { type: 'issue_document', key: 'plan', revisionId: rev } } }).then((r) => r.body);
  const v1 = await put();
  assert.equal((await child()).body.code, 'plan_not_approved', 'a plan nobody accepted');
  const q1 = await ask(v1.latestRevisionId);
  await m.http.post(`/api/issues/${epic.id}/interactions/${q1.id}/withdraw`, {});
  assert.equal((await child()).body.code, 'plan_not_approved', 'withdrawn');
  await ask(v1.latestRevisionId);
  await ask(v1.latestRevisionId, 'Newer?');
  assert.equal((await child()).body.code, 'plan_not_approved', 'superseded');
  const q3 = (await m.http.get(`/api/issues/${epic.id}/interactions`)).body.at(-1);
  assert.equal((await stack.admin.post(`/api/issues/${epic.id}/interactions/${q3.id}/accept`, {})).status, 200);
  const passed = await child('gate-key');
  assert.equal(passed.status, 201);
  await put(v1.latestRevisionId);
  assert.equal((await child()).body.code, 'plan_not_approved', 'a newer revision needs a fresh approval');
  const replay = await child('gate-key');
  assert.equal(replay.status, 200, JSON.stringify(replay.body));
  assert.equal(replay.body.id, passed.body.id);
  assert.equal(replay.body.deduplicated, true);
});

test('document bodies: the full 512 KiB and escaped text fit; retries and refusals leave no stored body behind', async () => {
  const { companyId, agents } = await seedCompany(stack, 1);
  const a = agents[0] as SeededAgent;
  const issue = (await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'Big docs', assigneeAgentId: a.id })).body;
  const url = `/api/issues/${issue.id}/documents`;
  assert.equal((await a.http.put(`${url}/big`, { format: 'markdown', body: 'x'.repeat(512 * 1024) })).status, 201);
  const escaped = JSON.stringify({ format: 'markdown', body: '\u00e9'.repeat(100 * 1024) }).replace(/\u00e9/g, '\\u00e9');
  const accented = await a.http.request('PUT', `${url}/accents`, escaped);
  assert.equal(accented.status, 201, JSON.stringify(accented.body).slice(0, 300));
  assert.equal(accented.body.body.length, 100 * 1024);

  const same = await Promise.all(Array.from({ length: 20 }, (_, i) => a.http.put(`${url}/keyed`, { format: 'markdown', body: `v${i}` }, { 'Idempotency-Key': 'one-put' })));
  assert.equal(same.filter((r) => r.status === 201).length, 1, same.map((r) => r.status).join());
  assert.equal((await a.http.put(`${url}/badkey`, { format: 'markdown', body: 'x' }, { 'Idempotency-Key': 'k'.repeat(256) })).status, 400);
  const { rows } = await stack.pool.query('SELECT count(*)::int AS n FROM document_revisions WHERE issue_id = $1 AND revision_number IS NULL', [issue.id]);
  assert.equal(rows[0].n, 0, 'no unpublished body left');
});

test('no takeover, no self-approval: a stranger cannot ask on a held issue or move it by its own question; a plan is the board\'s to accept; a retried accept replays', async () => {
  const { companyId, agents } = await seedCompany(stack, 2);
  const [mgr, dev] = agents as [SeededAgent, SeededAgent];
  const issue = (await stack.admin.post(`/api/companies/${companyId}/issues`, { title: 'Mine', assigneeAgentId: mgr.id })).body;
  const url = `/api/issues/${issue.id}/interactions`;
  await mgr.http.post(`/api/issues/${issue.id}/checkout`, { agentId: mgr.id, expectedStatuses: TAKE });
  const stranger = await dev.http.post(url, { kind: 'request_confirmation', resolverPolicy: 'anyone', payload: { version: 1, prompt: 'Mine now?' } });
  assert.equal(stranger.status, 409);
  assert.equal(stranger.body.code, 'not_owner');

  // Plan confirmations are answered by the board, whatever policy the request names.
  const doc = (await mgr.http.put(`/api/issues/${issue.id}/documents/plan`, { format: 'markdown', body: '# plan' })).body;
  const mine = (await mgr.http.post(url, { kind: 'request_confirmation', resolverPolicy: 'anyone', payload: { version: 1, prompt: 'Approve?', target: { type: 'issue_document', key: 'plan', revisionId: doc.latestRevisionId } } })).body;
  assert.equal(mine.effectiveResolverPolicy, 'human_only');
  assert.equal((await mgr.http.post(`${url}/${mine.id}/accept`, {})).status, 403);
  await mgr.http.patch(`/api/issues/${issue.id}`, { status: 'in_review', comment: 'Plan ready.', reviewInteractionId: mine.id });

  // In review the assignee still holds it (issue 13 §3): dev may not ask on it either.
  const side = await dev.http.post(url, { kind: 'request_confirmation', payload: { version: 1, prompt: 'Side question?' } });
  assert.equal(side.status, 409);
  assert.equal(side.body.code, 'not_owner');
  const still = (await stack.admin.get(`/api/issues/${issue.id}`)).body;
  assert.deepEqual([still.status, still.assigneeAgentId], ['in_review', mgr.id]);
  assert.equal((await mgr.http.get(`${url}/${mine.id}`)).body.status, 'pending');

  // The board accepts, with an Idempotency-Key: a retry gets the same answer, not 409.
  const key = { 'Idempotency-Key': 'accept-once' };
  const first = await stack.admin.post(`${url}/${mine.id}/accept`, {}, key);
  const retry = await stack.admin.post(`${url}/${mine.id}/accept`, {}, key);
  assert.deepEqual([first.status, retry.status], [200, 200]);
  assert.equal(retry.headers.get('idempotent-replayed'), 'true');
  assert.equal((await stack.admin.get(`/api/issues/${issue.id}`)).body.status, 'todo');
  assert.equal((await mgr.http.post(`/api/companies/${companyId}/issues`, { title: 'x', goalId: '' })).status, 400);
});
