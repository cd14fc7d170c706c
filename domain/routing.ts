/**
 * Routing: an ordered rule list, first match assigns. A pure function of its input (the task, the
 * rules, each candidate's open-task count and each rule's past assignments), so the same input always
 * gives the same decision and the workflow can record it. No rule, or no match: fail closed.
 */
import type { RoutingRecord } from './lifecycle.js';
import type { Priority } from './statuses.js';

export interface RuleMatch {
  provider?: string;
  /** `owner/repo`, compared case-insensitively. */
  repo?: string;
  labelsAny?: string[];
  labelsAll?: string[];
  /** A regular expression tested against the title, case-insensitively. */
  titlePattern?: string;
  priority?: Priority[] | Priority;
}

export type RuleTarget = { agentId: string } | { agentIds: string[]; strategy: 'round_robin' | 'least_loaded' };

export interface RoutingRule {
  id: string;
  name: string;
  match: RuleMatch;
  target: RuleTarget;
  /** Sets the task's priority when this rule assigns it. */
  priority?: Priority;
}

export interface RoutedTask {
  provider: string | null;
  repo: string | null;
  labels: string[];
  title: string;
  priority: Priority;
}

export interface RoutingInput {
  task: RoutedTask;
  rules: RoutingRule[];
  /** Open (not done, not cancelled) tasks per agent, for least_loaded. */
  openTasks: Record<string, number>;
  /** How many tasks each rule has assigned so far, for round_robin. */
  assignedByRule: Record<string, number>;
  decisionId: string;
  now: string;
}

export type RoutingDecision =
  | { kind: 'routed'; agentId: string; priority: Priority | null; record: RoutingRecord }
  | { kind: 'unroutable'; record: RoutingRecord };

const lower = (xs: string[]) => xs.map((x) => x.toLowerCase());

export function ruleMatches(rule: RoutingRule, task: RoutedTask): boolean {
  const m = rule.match;
  const labels = lower(task.labels);
  if (m.provider && m.provider !== task.provider) return false;
  if (m.repo && m.repo.toLowerCase() !== (task.repo ?? '').toLowerCase()) return false;
  if (m.labelsAny?.length && !lower(m.labelsAny).some((l) => labels.includes(l))) return false;
  if (m.labelsAll?.length && !lower(m.labelsAll).every((l) => labels.includes(l))) return false;
  if (m.titlePattern && !safePattern(m.titlePattern)?.test(task.title)) return false;
  if (m.priority && !(Array.isArray(m.priority) ? m.priority : [m.priority]).includes(task.priority)) return false;
  return true;
}

/**
 * A title pattern, if it compiles and cannot backtrack catastrophically; otherwise undefined (the rule
 * matches nothing). Checked when rules are saved and again when they are used, because a pattern like
 * `(a+)+$` against a hostile title would hang the workflow that evaluates it.
 */
export function safePattern(pattern: string): RegExp | undefined {
  if (pattern.length > 200 || !linearEnough(pattern)) return undefined;
  try {
    return new RegExp(pattern, 'i');
  } catch {
    return undefined;
  }
}

/**
 * Star height at most 1: no quantified group that itself contains a quantifier or an alternation
 * (`(a+)+`, `(a|a)*`, `(.*x){3}`), and no backreferences. Those are the shapes that backtrack
 * exponentially; everything else runs in time proportional to the (500-character) title.
 */
function linearEnough(pattern: string): boolean {
  const groups: Array<{ risky: boolean }> = [];
  let closed: { risky: boolean } | undefined;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      if (/[1-9k]/.test(pattern[i + 1] ?? '')) return false;
      i++;
      closed = undefined;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    const quantifier = c === '*' || c === '+' || c === '{';
    if (quantifier || c === '?') {
      if (closed?.risky && c !== '?') return false;
      if (quantifier) for (const g of groups) g.risky = true;
      closed = undefined;
      continue;
    }
    closed = undefined;
    if (c === '[') inClass = true;
    else if (c === '(') groups.push({ risky: false });
    else if (c === '|') for (const g of groups) g.risky = true;
    else if (c === ')') closed = groups.pop();
  }
  return true;
}

export function decideRoute(input: RoutingInput): RoutingDecision {
  const rule = input.rules.find((r) => ruleMatches(r, input.task));
  if (!rule) {
    const summary = input.rules.length === 0
      ? 'No routing rules are configured for this company: the task waits in backlog until a rule or an operator assigns it'
      : `None of the ${input.rules.length} routing rule(s) matches this task: it waits in backlog until a rule or an operator assigns it`;
    return {
      kind: 'unroutable',
      record: { state: 'unroutable', decisionId: input.decisionId, assignmentSource: null, reason: { summary, matchedRules: [], strategy: null, candidates: [] }, decidedAt: input.now },
    };
  }
  const { agentId, strategy, candidates } = pickAgent(rule, input);
  return {
    kind: 'routed',
    agentId,
    priority: rule.priority ?? null,
    record: {
      state: 'routed',
      decisionId: input.decisionId,
      assignmentSource: 'deterministic_rule',
      reason: { summary: `Rule "${rule.name}" matched; assigned to ${agentId}${strategy === 'single' ? '' : ` (${strategy})`}`, matchedRules: [{ id: rule.id, name: rule.name }], strategy, candidates },
      decidedAt: input.now,
    },
  };
}

function pickAgent(rule: RoutingRule, input: RoutingInput): { agentId: string; strategy: 'single' | 'round_robin' | 'least_loaded'; candidates: string[] } {
  if ('agentId' in rule.target) return { agentId: rule.target.agentId, strategy: 'single', candidates: [rule.target.agentId] };
  const candidates = rule.target.agentIds;
  if (rule.target.strategy === 'round_robin') {
    const n = input.assignedByRule[rule.id] ?? 0;
    return { agentId: candidates[n % candidates.length]!, strategy: 'round_robin', candidates };
  }
  // least_loaded: fewest open tasks; ties go to the earlier candidate in the rule.
  let best = candidates[0]!;
  for (const c of candidates) if ((input.openTasks[c] ?? 0) < (input.openTasks[best] ?? 0)) best = c;
  return { agentId: best, strategy: 'least_loaded', candidates };
}
