/** The task event stream: AgentRail's framing, scoping, filters and resume, against the real stack. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../support/stack.js';
import { ALL_TAKEABLE, createIssue, seedCompany } from '../support/seed.js';
import { openStream } from '../support/sse.js';
import { waitFor } from '../support/wait.js';

describe('GET /api/task-events/stream', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('streams a checkout as task.updated in AgentRail framing, scoped to the agent\'s company', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const other = await seedCompany(stack, 1);
    const [agent] = agents;
    const mine = await openStream(stack.url, agent!.key, { eventTypes: 'task.updated' });
    assert.equal(mine.status, 200);
    assert.equal(mine.headers.get('content-type'), 'text/event-stream');
    assert.equal(mine.headers.get('x-agentrail-resume-mode'), 'live');
    assert.equal(mine.headers.get('x-agentrail-stream-heartbeat-seconds'), '20');
    const theirs = await openStream(stack.url, other.agents[0]!.key);

    const issue = await createIssue(stack, companyId, { status: 'todo', assigneeAgentId: agent!.id });
    const res = await agent!.http.post(`/api/issues/${issue.id}/checkout`, { agentId: agent!.id, expectedStatuses: ALL_TAKEABLE });
    assert.equal(res.status, 200);
    const events = await mine.waitFor(2);
    const started = events.find((e) => e.data.status === 'in_progress')!;
    assert.ok(started, JSON.stringify(events));
    assert.equal(started.type, 'task.updated');
    assert.equal(started.data.taskId, issue.id);
    assert.equal(started.data.previousStatus, 'todo');
    assert.deepEqual(started.data.actor, { id: agent!.id, role: 'agent' });
    assert.ok(started.data.changedFields.includes('status'));
    assert.ok(started.data.availableActions.includes('submit'), JSON.stringify(started.data.availableActions));
    assert.equal(started.data.links.task, `${stack.url}/api/tasks/${issue.id}`);
    assert.ok(started.sequence > events[0]!.sequence);
    assert.equal(started.taskVersion, res.body.version);
    // Framing: retry first, then id/event/data, LF only.
    assert.match(mine.raw[0]!, /^retry: \d+$/);
    const frame = mine.raw.find((b) => b.includes(started.id))!;
    assert.deepEqual(frame.split('\n').map((l) => l.split(':')[0]), ['id', 'event', 'data']);
    assert.ok(!frame.includes('\r'));
    // Another company's agent saw none of it.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(theirs.events.filter((e) => e.data.taskId === issue.id).length, 0);
    mine.close();
    theirs.close();
  });

  it('resumes from Last-Event-ID with nothing missed or doubled, and refuses an unknown cursor with 410', async () => {
    const { companyId, agents } = await seedCompany(stack, 1);
    const [agent] = agents;
    const first = await openStream(stack.url, stack.adminKey);
    const issue = await createIssue(stack, companyId, { status: 'todo', assigneeAgentId: agent!.id });
    await first.waitFor(1);
    const cursor = first.events[0]!;
    first.close();
    const res = await agent!.http.post(`/api/issues/${issue.id}/checkout`, { agentId: agent!.id, expectedStatuses: ALL_TAKEABLE });
    assert.equal(res.status, 200);
    const comment = await agent!.http.post(`/api/issues/${issue.id}/comments`, { body: 'line one\nline two\r\n"quoted" \u2028 end' });
    assert.equal(comment.status, 201);
    // Wait until the log has both, then resume from the first event: both come back, once each.
    await waitFor('three events of the task in the log', async () => (await stack.pool.query('SELECT count(*)::int AS n FROM task_events WHERE issue_id = $1', [issue.id])).rows[0].n, (n) => n >= 3);
    const resumed = await openStream(stack.url, stack.adminKey, { cursor: 'ignored-because-header-wins' }, { 'last-event-id': cursor.id });
    assert.equal(resumed.status, 200);
    assert.equal(resumed.headers.get('x-agentrail-resume-mode'), 'replay_then_live');
    await resumed.waitFor(2);
    const seqs = resumed.events.map((e) => e.sequence);
    assert.ok(seqs.every((s) => s > cursor.sequence));
    assert.equal(new Set(seqs).size, seqs.length);
    assert.deepEqual([...seqs].sort((a, b) => a - b), seqs);
    const commented = await resumed.waitFor(2).then((es) => es.find((e) => e.type === 'task.comment.created'));
    assert.equal(commented?.data.comment.bodyPreview, 'line one\nline two\r\n"quoted" \u2028 end');
    // Live after the replay: a new event arrives once.
    const before = resumed.events.length;
    await agent!.http.post(`/api/issues/${issue.id}/comments`, { body: 'after the seam' });
    await resumed.waitFor(before + 1);
    assert.equal(resumed.events.filter((e) => e.data.comment?.bodyPreview === 'after the seam').length, 1);
    resumed.close();

    for (const bad of ['evt_unknown', '999999999999', 'garbage']) {
      const gone = await openStream(stack.url, stack.adminKey, { cursor: bad });
      assert.equal(gone.status, 410);
      assert.equal(gone.error.error.code, 'cursor_expired');
      assert.deepEqual(gone.error.error.details.availableActions, ['reconnect_without_cursor']);
    }
  });
});
