/** A task as AgentRail's clients read it (TaskSummary, TaskDetail, ci-status, review-feedback). */
import { taskActions } from '../domain/delivery-actions.js';
import { overallOf } from '../domain/delivery.js';
import type { CheckView } from '../domain/lifecycle.js';
import type { WorkflowStatus } from '../domain/projection.js';
import type { Actor, IssueState } from '../domain/task.js';

export function actionsFor(s: IssueState, actor: Actor, workflowStatus: WorkflowStatus): string[] {
  return workflowStatus === 'running' ? taskActions(s, actor) : [];
}

function blockerOf(s: IssueState) {
  return s.status === 'blocked' ? { kind: 'awaiting_user', sourceRunId: null, sourceAgentId: s.assigneeAgentId, reason: 'See the latest comment on the task', actionRequired: null, resumeInstructions: null, createdAt: s.updatedAt } : null;
}

export function taskSummary(s: IssueState, actor: Actor, workflowStatus: WorkflowStatus) {
  return {
    id: s.id,
    identifier: s.identifier ?? s.id,
    title: s.title,
    status: s.status,
    priority: s.priority,
    dueAt: null,
    updatedAt: s.updatedAt,
    availableActions: actionsFor(s, actor, workflowStatus),
    blocker: blockerOf(s),
  };
}

export function taskDetail(s: IssueState, actor: Actor, workflowStatus: WorkflowStatus, assigneeName: string | null) {
  const l = s.lifecycle;
  const r = l?.routing ?? null;
  const d = l?.delivery ?? null;
  return {
    ...taskSummary(s, actor, workflowStatus),
    description: s.description,
    stage: l?.stage ?? null,
    assignee: s.assigneeAgentId ? { id: s.assigneeAgentId, name: assigneeName ?? s.assigneeAgentId } : null,
    assigneeAgentId: s.assigneeAgentId,
    triageQueueId: null,
    acceptanceCriteria: [],
    links: { issue: l?.source?.url ?? null },
    context: { project: null, goal: s.goalId },
    source: l?.source ? { provider: l.source.provider, key: l.source.key, url: l.source.url } : null,
    assignmentSource: r?.assignmentSource ?? null,
    routingDecisionId: r?.decisionId ?? null,
    routingReason: r?.reason
      ? { summary: r.reason.summary, matchedRules: r.reason.matchedRules.map((m) => ({ ...m, confidence: 1 })), classifier: null, conflictReasons: [], strategy: r.reason.strategy, candidates: r.reason.candidates }
      : null,
    routingConfidence: r?.assignmentSource === 'deterministic_rule' ? 1 : null,
    routingState: r?.state ?? null,
    submissionId: d?.submissionId ?? null,
    prUrl: d?.prUrl ?? null,
    prNumber: d?.prNumber ?? null,
    branch: d?.head ?? null,
    baseBranch: d?.base ?? null,
    headSha: d?.headSha ?? null,
    ci: d ? { provider: d.mode === 'artifact' ? 'reported' : ciProviderOf(d.ci.checks), providers: [...new Set(d.ci.checks.map((c) => c.provider ?? 'github_actions'))], overallStatus: d.ci.overallStatus, blocking: d.ci.overallStatus === 'failed', summary: ciCounts(d.ci.checks), headline: ciHeadline(d), updatedAt: d.ci.updatedAt } : null,
    review: d ? { outcome: d.review.outcome, headSha: d.review.headSha } : null,
    shipped: d?.ship ?? null,
    rollback: d?.rollback ?? null,
    workflowStatus,
  };
}

/** Which CI judged the head: GitHub's checks (`github`, as before CircleCI), `circleci`, or both (`combined`). */
function ciProviderOf(checks: CheckView[]): string {
  const circle = checks.some((c) => c.provider === 'circleci');
  const github = checks.some((c) => c.provider !== 'circleci');
  return circle && github ? 'combined' : circle ? 'circleci' : 'github';
}

function ciCounts(checks: Array<{ status: string }>) {
  const count = (status: string) => checks.filter((c) => c.status === status).length;
  return { total: checks.length, passed: count('passed'), failed: count('failed'), running: count('running'), queued: count('queued'), cancelled: count('cancelled'), skipped: count('skipped') };
}

function ciHeadline(d: NonNullable<NonNullable<IssueState['lifecycle']>['delivery']>): string {
  const c = d.ci;
  if (c.overallStatus === 'failed') return `Failing: ${c.failureSummaries.map((f) => f.checkName).join(', ')}`;
  if (c.overallStatus === 'passed') return `All ${c.checks.length} check(s) passed`;
  return c.checks.length ? `${c.checks.filter((x) => x.status === 'running' || x.status === 'queued').length} check(s) still running` : 'Waiting for checks to start';
}

/** Checks grouped by CI system and workflow, with their counts (AgentRail's `workflows`). */
function ciWorkflows(checks: CheckView[]) {
  const groups = new Map<string, CheckView[]>();
  for (const c of checks) {
    const key = `${c.provider ?? ''}\u0000${c.workflow ?? c.name}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups.values()].map((group) => ({
    name: group[0]!.workflow ?? group[0]!.name, provider: group[0]!.provider ?? null, path: null, status: overallOf(group), ...ciCounts(group), url: group[0]!.url,
  }));
}

export function ciStatus(s: IssueState, actor: Actor, workflowStatus: WorkflowStatus) {
  const d = s.lifecycle?.delivery ?? null;
  const checks = d?.ci.checks ?? [];
  return {
    taskId: s.id,
    submissionId: d?.submissionId ?? null,
    headSha: d?.headSha ?? null,
    overallStatus: d?.ci.overallStatus ?? 'queued',
    summary: ciCounts(checks),
    workflows: ciWorkflows(checks),
    checks: checks.map((c) => ({ name: c.name, workflow: c.workflow, provider: c.provider ?? null, status: c.status, url: c.url, durationSeconds: c.durationSeconds, failureCount: c.status === 'failed' ? 1 : 0, ...(c.attempt ? { attempt: c.attempt } : {}) })),
    failureSummaries: (d?.ci.failureSummaries ?? []).map((f) => ({
      checkName: f.checkName, workflow: checks.find((c) => c.name === f.checkName)?.workflow ?? null, testName: f.testName ?? null, file: f.file ?? null, line: f.line ?? null, message: f.message,
    })),
    flakyHints: d?.ci.flakyHints ?? [],
    automaticRerun: d?.autoRerun ?? null,
    updatedAt: d?.ci.updatedAt ?? s.updatedAt,
    availableActions: actionsFor(s, actor, workflowStatus),
  };
}

export function reviewFeedback(s: IssueState, actor: Actor, workflowStatus: WorkflowStatus) {
  const d = s.lifecycle?.delivery ?? null;
  const r = d?.review;
  return {
    taskId: s.id,
    submissionId: d?.submissionId ?? null,
    latestDecision: {
      outcome: r?.outcome ?? 'pending',
      reviewer: r?.reviewer ?? null,
      createdAt: r?.createdAt ?? null,
      headSha: r?.headSha ?? d?.headSha ?? null,
      summary: r ? `Review ${r.outcome.replace('_', ' ')}` : 'Nothing submitted yet',
    },
    comments: (r?.comments ?? []).map((c) => ({ ...c, severity: r?.outcome === 'changes_requested' ? 'must_fix' : 'note' })),
    availableActions: actionsFor(s, actor, workflowStatus),
  };
}
