/** Routing as a table: same input, same decision; first match wins; no rule or no match fails closed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideRoute, safePattern, type RoutingInput, type RoutingRule } from '../../domain/routing.js';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const C = '00000000-0000-4000-8000-00000000000c';

const rules: RoutingRule[] = [
  { id: 'sec', name: 'Security first', match: { labelsAny: ['security'] }, target: { agentId: C }, priority: 'critical' },
  { id: 'ui', name: 'UI bugs', match: { repo: 'Acme/Web', labelsAll: ['bug', 'ui'] }, target: { agentIds: [A, B], strategy: 'round_robin' } },
  { id: 'api', name: 'API by title', match: { titlePattern: '^\\[api\\]' }, target: { agentIds: [A, B], strategy: 'least_loaded' } },
  { id: 'hi', name: 'High priority', match: { priority: ['high', 'critical'] }, target: { agentId: B } },
];

const input = (task: Partial<RoutingInput['task']>, over: Partial<RoutingInput> = {}): RoutingInput => ({
  task: { provider: 'github', repo: 'acme/web', labels: [], title: 'Something', priority: 'medium', ...task },
  rules,
  openTasks: {},
  assignedByRule: {},
  decisionId: 'rdec_1',
  now: '2026-11-30T00:00:00.000Z',
  ...over,
});

const cases: Array<[string, RoutingInput, string | null, string | null]> = [
  ['first match wins (security before UI)', input({ labels: ['bug', 'ui', 'Security'] }), C, 'sec'],
  ['labelsAll needs every label', input({ labels: ['bug'] }), null, null],
  ['repo is case-insensitive; round robin starts at the first', input({ labels: ['ui', 'bug'] }), A, 'ui'],
  ['round robin takes turns by the rule\'s count', input({ labels: ['ui', 'bug'] }, { assignedByRule: { ui: 3 } }), B, 'ui'],
  ['least loaded picks the fewest open tasks', input({ title: '[API] timeouts' }, { openTasks: { [A]: 4, [B]: 1 } }), B, 'api'],
  ['least loaded ties go to the earlier candidate', input({ title: '[api] x' }, { openTasks: { [A]: 2, [B]: 2 } }), A, 'api'],
  ['priority match', input({ priority: 'high' }), B, 'hi'],
  ['no match fails closed', input({ title: 'docs' }), null, null],
  ['no rules fail closed', input({ labels: ['security'] }, { rules: [] }), null, null],
];

for (const [name, given, agent, rule] of cases) {
  test(`routing: ${name}`, () => {
    const a = decideRoute(given);
    const b = decideRoute(given);
    assert.deepEqual(a, b, 'same input, same decision');
    if (agent === null) {
      assert.equal(a.kind, 'unroutable');
      assert.equal(a.record.state, 'unroutable');
      assert.match(a.record.reason!.summary, given.rules.length ? /None of the/ : /No routing rules/);
      return;
    }
    assert.equal(a.kind, 'routed');
    if (a.kind !== 'routed') return;
    assert.equal(a.agentId, agent);
    assert.deepEqual(a.record.reason!.matchedRules.map((r) => r.id), [rule]);
    assert.equal(a.record.assignmentSource, 'deterministic_rule');
  });
}

test('routing: a rule can set the priority', () => {
  const d = decideRoute(input({ labels: ['security'] }));
  assert.equal(d.kind === 'routed' && d.priority, 'critical');
});

test('routing: patterns that can backtrack catastrophically are refused, and match nothing if stored', () => {
  for (const bad of ['(a+)+$', '(a|a)*', '(.*x){3}', '(x)\\1', '((ab)*)+']) assert.equal(safePattern(bad), undefined, bad);
  for (const good of ['^\\[ui\\]', 'bug|crash', '(foo)+', 'a+b+', '^(foo|bar)?baz$', '[(+]+']) assert.ok(safePattern(good), good);
  const hostile = input({ title: `${'a'.repeat(40)}!` }, { rules: [{ id: 'redos', name: 'x', match: { titlePattern: '(a+)+$' }, target: { agentId: A } }] });
  const started = Date.now();
  assert.equal(decideRoute(hostile).kind, 'unroutable');
  assert.ok(Date.now() - started < 100, 'no catastrophic backtracking');
});
