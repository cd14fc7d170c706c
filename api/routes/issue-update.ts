/**
 * The one path every change to a task takes: scope the issue, run under the request's
 * Idempotency-Key, send the workflow its Update, write the read model from the durable answer, reply.
 */
import type { Request, Response } from 'express';
import type { UpdateDefinition } from '@temporalio/common';
import { DomainError } from '../../domain/errors.js';
import type { Known, TaskResult } from '../../workflows/messages.js';
import { assertNotAnothers, type OfferedAction } from '../../domain/permissions.js';
import { actorOf } from '../auth.js';
import { deadlineOf } from '../deadline.js';
import { providerUnavailable } from '../errors.js';
import type { ApiDeps } from '../deps.js';
import { runIdempotent } from '../idempotency.js';
import { writeResult, type Written } from '../read-model-writer.js';
import { assertTaskRunning, scopedIssue } from './scope.js';

export type Found = Awaited<ReturnType<typeof scopedIssue>>;

export interface IssueUpdate<C> {
  operation: string;
  /**
   * The action of availableActions this route is: the workflow refuses it unless offered to the caller
   * (offered ⇔ accepted, domain/permissions.ts). A function when it depends on the request.
   */
  action: OfferedAction | null | ((found: Found) => OfferedAction | null);
  def: UpdateDefinition<TaskResult, [C & Known]>;
  command: (found: Found) => C;
  /** The body of the comment this update adds, if any (the answer leaves it out: the caller has it). */
  commentBody?: string;
  /** Checks that need the issue (and may read the database) before anything is sent. */
  prepare?: (found: Found) => Promise<void>;
  /** Runs once the request is known not to be a replay, just before the Update is sent (e.g. storing a body). */
  beforeSend?: (found: Found) => Promise<void>;
  /** Runs before each attempt at the issue's slot; may refuse from the read model. */
  precheck?: (found: Found) => () => Promise<void>;
  respond: (written: Written, found: Found, result: TaskResult) => { status: number; body: unknown } | Promise<{ status: number; body: unknown }>;
  /** Wraps the whole change (checks, Update, read-model write), e.g. in a lock or a claim the change needs. */
  around?: (found: Found, change: () => Promise<void>) => Promise<void>;
  /** Refuse a request without an Idempotency-Key (AgentRail's submit, ship and rollback). */
  keyRequired?: boolean;
  /** A provider outage the workflow gave up on lets the same key try again (api/idempotency.ts). */
  newAttemptAfterOutage?: boolean;
  /** The update waits on a provider: past the deadline, say so (503 provider_unavailable) rather than blame Temporal. */
  waitsOnProvider?: boolean;
}

export async function runIssueUpdate<C>(deps: ApiDeps, req: Request, res: Response, u: IssueUpdate<C>): Promise<void> {
  const found = await scopedIssue(deps, req, res);
  const deadline = deadlineOf(res);
  const change = () => runIdempotent(deps.pool, req, res, { companyId: found.company.id, operation: u.operation, keyRequired: u.keyRequired, newAttemptAfterOutage: u.newAttemptAfterOutage }, async ({ updateId }) => {
    // Inside: a retry with the key gets the stored answer, whatever the checks would say today.
    const action = typeof u.action === 'function' ? u.action(found) : u.action;
    // Another agent's task is refused as such before the route's own checks (the workflow decides the same).
    if (action) assertNotAnothers(found.issue, actorOf(req, res), action);
    await u.prepare?.(found);
    assertTaskRunning(found);
    await u.beforeSend?.(found);
    const cmd = { ...u.command(found), knownDescriptionVersion: found.issue.descriptionVersion, ...(action ? { offered: action } : {}) };
    let result: TaskResult;
    try {
      result = await deps.tasks.update(found.issue.id, u.def, cmd, { updateId, deadline, precheck: u.precheck?.(found), ...(u.waitsOnProvider ? { whenSlow: providerUnavailable } : {}) });
    } catch (err) {
      if (err instanceof DomainError && err.code === 'task_unavailable') await deps.reads.markWorkflowClosed(found.issue.id, String(err.details?.workflowStatus));
      throw err;
    }
    const written = await writeResult(deps.pool, result, { known: found.issue, commentBody: u.commentBody, deadline });
    return await u.respond(written, found, result);
  });
  await (u.around ? u.around(found, change) : change());
}
