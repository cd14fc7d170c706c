/** Loading an issue for a caller: another company's issue is 404, exactly like one that does not exist. */
import type { Request, Response } from 'express';
import { DomainError } from '../../domain/errors.js';
import { companyRulesOf } from '../../domain/company.js';
import { assertCompanyAccess, callerOf } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import type { Company } from '../read-model.js';
import { taskUnavailable } from '../task-gateway.js';

/**
 * Every route that loads a task for a caller loads it here: another company's task, and for a key
 * scoped to one task (a run token) every other task, is 404 exactly like one that does not exist.
 */
export async function scopedIssue({ reads }: ApiDeps, req: Request, res: Response) {
  const caller = callerOf(res);
  const given = String(req.params.issueId);
  const found = await reads.issueWithCompany(given, caller.kind === 'agent' ? caller.agent.companyId : undefined);
  assertCompanyAccess(res, found.issue.companyId, 'Issue');
  if (!visibleToCaller(res, found.issue.id)) throw new DomainError('not_found', 'Issue not found', { issueId: given });
  return found;
}

/** Whether a task may be shown to this caller's key (lists leave the others out). */
export function visibleToCaller(res: Response, issueId: string): boolean {
  const caller = callerOf(res);
  return caller.kind !== 'agent' || !caller.key.taskId || caller.key.taskId === issueId;
}

/** A task whose workflow an operator closed in Temporal takes no changes: say so without asking Temporal. */
export function assertTaskRunning(found: { issue: { id: string }; workflowStatus: string }): void {
  if (found.workflowStatus !== 'running') throw taskUnavailable(found.issue.id, found.workflowStatus as never);
}

/** The company's rules with their defaults (domain/company.ts). */
export const companyRules = (company: Company) => companyRulesOf(company.settings);

export async function assertAssignable({ reads }: ApiDeps, agentId: string | null | undefined, companyId: string): Promise<void> {
  if (agentId && !(await reads.agentInCompany(agentId, companyId))) {
    throw new DomainError('invalid_assignee', 'The assignee is not an agent of this company', { assigneeAgentId: agentId });
  }
}
