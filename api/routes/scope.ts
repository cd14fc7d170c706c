/** Loading an issue for a caller: another company's issue is 404, exactly like one that does not exist. */
import type { Request, Response } from 'express';
import { DomainError } from '../../domain/errors.js';
import { companyRulesOf } from '../../domain/company.js';
import { assertCompanyAccess, callerOf } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import type { Company } from '../read-model.js';
import { taskUnavailable } from '../task-gateway.js';

export async function scopedIssue({ reads }: ApiDeps, req: Request, res: Response) {
  const caller = callerOf(res);
  const found = await reads.issueWithCompany(String(req.params.issueId), caller.kind === 'agent' ? caller.agent.companyId : undefined);
  assertCompanyAccess(res, found.issue.companyId, 'Issue');
  return found;
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
