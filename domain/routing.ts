/**
 * Routing: an ordered rule list, first match assigns. A pure function of its input (the task, the
 * rules, each candidate's open-task count and each rule's past assignments), so the same input always
 * gives the same decision and the workflow can record it. No rule, or no match: fail closed.
 */
import { RE2JS } from 're2js';
import type { RoutingRecord } from './lifecycle.js';
import type { Priority } from './statuses.js';

export interface RuleMatch {
  provider?: string;
  /** `owner/repo`, compared case-insensitively. */
  repo?: string;
  labelsAny?: string[];
  labelsAll?: string[];
  /** An RE2 regular expression tested against the title (its first 500 characters), case-insensitively. */
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
  if (m.titlePattern && !titleMatches(m.titlePattern, task.title)) return false;
  if (m.priority && !(Array.isArray(m.priority) ? m.priority : [m.priority]).includes(task.priority)) return false;
  return true;
}

/** The most of a title a pattern is matched against (titles are cut at 500 characters on the way in). */
export const MAX_TITLE_MATCHED = 500;
export const MAX_PATTERN_LENGTH = 200;
/**
 * A pattern's compiled size, in RE2 instructions. Matching costs at most size × title length, so with
 * these bounds one rule costs a few milliseconds and every rule of a company together well under the
 * workflow's deadlock timeout (2 s), whatever a title says.
 */
export const MAX_PATTERN_PROGRAM = 1_000;
export const MAX_RULES_PROGRAM = 5_000;

export type CompiledPattern = { ok: true; re: RE2JS; size: number } | { ok: false; problem: string };

/**
 * A title pattern compiled by RE2 (re2js, pure JavaScript): matching takes time linear in the title,
 * whatever the pattern, so no title can hang the workflow that routes it. RE2 refuses what it cannot
 * match in linear time (backreferences, lookaround); the size bound keeps each match cheap.
 */
export function compilePattern(pattern: string): CompiledPattern {
  if (pattern.length > MAX_PATTERN_LENGTH) return { ok: false, problem: `is over ${MAX_PATTERN_LENGTH} characters` };
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
  } catch (err) {
    return { ok: false, problem: `is not an RE2 regular expression (${(err as Error).message}); backreferences and lookaround are not supported` };
  }
  const size = programSize(re);
  if (size > MAX_PATTERN_PROGRAM) return { ok: false, problem: `is too large once compiled (${size} instructions, at most ${MAX_PATTERN_PROGRAM}): use fewer or smaller repetitions` };
  return { ok: true, re, size };
}

/** RE2's program size (re2js keeps it on the compiled expression; pinned, and checked by a unit test). */
function programSize(re: RE2JS): number {
  return (re as unknown as { re2Input: { prog: { numInst(): number } } }).re2Input.prog.numInst();
}

/** Whether a title matches, as a rule evaluates it; a pattern that does not compile matches nothing. */
export function titleMatches(pattern: string, title: string): boolean {
  const compiled = compilePattern(pattern);
  return compiled.ok && compiled.re.matcher(title.slice(0, MAX_TITLE_MATCHED)).find();
}

/** Why a company's rules cannot be saved as they are (their patterns' sizes together), or undefined. */
export function rulesProblem(rules: RoutingRule[]): string | undefined {
  let total = 0;
  for (const rule of rules) {
    if (!rule.match.titlePattern) continue;
    const compiled = compilePattern(rule.match.titlePattern);
    if (!compiled.ok) return `rule "${rule.id}": titlePattern ${compiled.problem}`;
    total += compiled.size;
  }
  if (total > MAX_RULES_PROGRAM) return `the title patterns together are too large once compiled (${total} instructions, at most ${MAX_RULES_PROGRAM})`;
  return undefined;
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
