/** Routing as a table: same input, same decision; first match wins; no rule or no match fails closed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HOSTILE_PATTERNS, HOSTILE_TITLE } from '../support/hostile.js';
import { compilePattern, decideRoute, rulesProblem, titleMatches, type RoutingInput, type RoutingRule } from '../../domain/routing.js';

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

test('routing: patterns run on RE2 (linear time); what RE2 cannot match in linear time is refused', () => {
  for (const p of HOSTILE_PATTERNS) assert.ok(compilePattern(p).ok, `${p} is evaluated, not refused`);
  for (const bad of ['(x)\\1', '(?=a)b', '(?<!a)b', '(', '(a{1000}){1000}', 'x'.repeat(201)]) {
    const c = compilePattern(bad);
    assert.ok(!c.ok, bad);
  }
  assert.match((compilePattern('(x)\\1') as { problem: string }).problem, /backreferences and lookaround are not supported/);
  assert.match((compilePattern('[\\s\\S]{999}x') as { problem: string }).problem, /too large once compiled/);
  for (const good of ['^\\[ui\\]', 'bug|crash', '(foo)+', 'a+b+', '^(foo|bar)?baz$', '[(+]+', '(?<name>x)', '\\p{L}+']) assert.ok(compilePattern(good).ok, good);
  // The program size comes from re2js's compiled form (pinned version): it must still be there.
  const sized = compilePattern('abc');
  assert.ok(sized.ok && sized.size > 0 && sized.size < 20);
});

test('routing: the title matched is the first 500 characters, case-insensitively', () => {
  assert.equal(titleMatches('^\\[UI\\]', '[ui] button'), true);
  assert.equal(titleMatches('tail$', `${'x'.repeat(600)}tail`), false, 'beyond 500 characters is not read');
  assert.equal(titleMatches('(', 'anything'), false, 'a stored pattern that does not compile matches nothing');
});

test('routing: the rules of a company together stay within a compiled-size budget', () => {
  const rule = (id: string, titlePattern: string) => ({ id, name: id, match: { titlePattern }, target: { agentId: A } });
  assert.equal(rulesProblem([rule('a', 'x'), rule('b', 'y|z')]), undefined);
  const big = Array.from({ length: 8 }, (_, i) => rule(`r${i}`, `[^x]{${900 + i}}y`));
  assert.match(rulesProblem(big) ?? '', /together are too large/);
  assert.match(rulesProblem([rule('bad', '(?=x)')]) ?? '', /rule "bad": titlePattern/);
});

test('routing: every hostile pattern against the hostile title is decided (in a child process, so a regression fails instead of hanging)', async () => {
  const rules = HOSTILE_PATTERNS.map((titlePattern, i) => ({ id: `p${i}`, name: `p${i}`, match: { titlePattern }, target: { agentId: A } }));
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./routing-worker.ts', import.meta.url))], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end(JSON.stringify(input({ title: HOSTILE_TITLE }, { rules })));
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise((resolve) => child.once('exit', (c, signal) => resolve(c ?? signal)));
  clearTimeout(timer);
  assert.equal(code, 0, 'routing decided (killed after 60 s otherwise: a pattern backtracks)');
  assert.deepEqual(JSON.parse(out), { kind: 'routed', rule: 'p2' }, 'decided: the first pattern that matches is `a*a*a*a*a*a*b`');
});

test('routing: a rule may match where the task came from (a Linear team\'s issues apart from a repository\'s)', () => {
  const byProvider = [{ id: 'linear', name: 'Linear work', match: { provider: 'linear' }, target: { agentId: C } }, ...rules];
  const fromLinear = decideRoute(input({ provider: 'linear', labels: ['bug', 'ui'] }, { rules: byProvider }));
  assert.equal(fromLinear.kind === 'routed' && fromLinear.agentId, C);
  const fromGitHub = decideRoute(input({ labels: ['bug', 'ui'] }, { rules: byProvider }));
  assert.equal(fromGitHub.kind === 'routed' && fromGitHub.agentId, A, 'a GitHub task skips the Linear rule');
});
