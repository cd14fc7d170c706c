/** Issue 14 §2: Linear's states and priorities in ours (AgentRail's table). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linearPriority, linearStatus, upstreamOpenClosed } from '../../domain/linear.js';

test('Linear state → status: "block" in the name wins, then the type; anything else is todo', () => {
  const table: Array<[{ name?: string | null; type?: string | null } | null, string]> = [
    [{ name: 'Blocked', type: 'started' }, 'blocked'],
    [{ name: 'BLOCKED by vendor', type: 'unstarted' }, 'blocked'],
    [{ name: 'Unblocking', type: 'completed' }, 'blocked'],
    [{ name: 'In Progress', type: 'started' }, 'in_progress'],
    [{ name: 'In Review', type: 'started' }, 'in_progress'],
    [{ name: 'Done', type: 'completed' }, 'done'],
    [{ name: 'Canceled', type: 'canceled' }, 'cancelled'],
    [{ name: 'Duplicate', type: 'canceled' }, 'cancelled'],
    [{ name: 'Triage', type: 'triage' }, 'todo'],
    [{ name: 'Backlog', type: 'backlog' }, 'todo'],
    [{ name: 'Todo', type: 'unstarted' }, 'todo'],
    [{ name: 'Something', type: 'brand-new-type' }, 'todo'],
    [{ name: null, type: null }, 'todo'],
    [{}, 'todo'],
    [null, 'todo'],
  ];
  for (const [state, status] of table) assert.equal(linearStatus(state), status, JSON.stringify(state));
});

test('Linear priority: 1 critical, 2 high, 3 medium, 4 low; 0, absent or out of range: none', () => {
  assert.equal(linearPriority(1), 'critical');
  assert.equal(linearPriority(2), 'high');
  assert.equal(linearPriority(3), 'medium');
  assert.equal(linearPriority(4), 'low');
  for (const n of [0, 5, -1, 2.5, Number.NaN, null, undefined]) assert.equal(linearPriority(n), null, String(n));
});

test('open/closed: completed and canceled are closed, every other type (or none) is open', () => {
  assert.equal(upstreamOpenClosed('completed'), 'closed');
  assert.equal(upstreamOpenClosed('canceled'), 'closed');
  for (const t of ['triage', 'backlog', 'unstarted', 'started', 'cancelled', '', null, undefined]) assert.equal(upstreamOpenClosed(t), 'open', String(t));
});
