/**
 * Linear's routes: its webhooks (`POST /api/providers/linear/webhooks/{sourceId}`: signature and
 * `webhookTimestamp` checked before anything is recorded, `Linear-Delivery` recorded once, issues to
 * intake, a person's comment to its task's thread), and AgentRail's two Linear task routes (a comment
 * on the task's Linear issue, a move to a workflow state), which go through the task's workflow.
 */
import { Router, type Request } from 'express';
import { admitCandidate, takesIn } from '../../activities/intake.js';
import { LinearWebhookError, parseLinearWebhook, verifyLinearWebhook, type LinearWebhookEvent } from '../../activities/linear/index.js';
import { DomainError } from '../../domain/errors.js';
import { cutText, storable } from '../../domain/text.js';
import { linearStatus } from '../../domain/linear.js';
import { linearIssueOf, type LinearWrite, type LinearWriteResult } from '../../domain/linear-sync.js';
import type { Actor } from '../../domain/task.js';
import { claimKeyOf, type SourceRow } from '../../db/sources.js';
import { uuidFromSeed } from '../../runtime/ids.js';
import { commentUpdate, linearWriteUpdate, type TaskResult } from '../../workflows/messages.js';
import { actorOf } from '../auth.js';
import { deadlineOf } from '../deadline.js';
import type { ApiDeps } from '../deps.js';
import { fromTemporal } from '../errors.js';
import { actionsFor } from '../present-task.js';
import { writeResult } from '../read-model-writer.js';
import { parse } from '../schemas.js';
import * as schema from '../schemas-delivery.js';
import { runIssueUpdate } from './issue-update.js';
import { rawDelivery, recordDelivery, signedSource } from './webhook-sources.js';

/** Linear's deliveries are small (an issue or a comment); more is not Linear. */
const MAX_DELIVERY = '1mb';

/** Before the JSON parser and auth: signed over the raw bytes with the source's secret instead of an API key. */
export function linearWebhooksRouter(deps: ApiDeps): Router {
  const router = Router();

  router.post('/api/providers/linear/webhooks/:sourceId', signedSource(deps, 'linear', 'webhook_secret_sealed'), rawDelivery('Linear', MAX_DELIVERY), async (req, res) => {
    const source = res.locals.source as SourceRow;
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let event: LinearWebhookEvent;
    try {
      verifyLinearWebhook({ secret: res.locals.webhookSecret as string, rawBody: raw, signature: req.header('linear-signature') });
      event = parseLinearWebhook(raw, req.header('linear-event'));
    } catch (err) {
      if (err instanceof LinearWebhookError) throw new DomainError(err.code, err.message, { reason: err.reason });
      throw err;
    }
    const deliveryId = req.header('linear-delivery');
    if (!deliveryId || deliveryId.length > 200) throw new DomainError('validation_error', 'Linear-Delivery is missing or too long', { header: 'Linear-Delivery' });
    const eventType = req.header('linear-event') ?? event.kind;
    await recordDelivery(deps, res, { source, deliveryId, event: eventType, action: event.kind === 'ignored' ? event.action : event.kind === 'issue' ? event.action : 'create' }, async () => {
      if (event.kind === 'ignored') return { status: 202, body: { deliveryId, eventType, ignored: `${event.type}/${event.action}` } };
      if (event.kind === 'comment') return { status: 200, body: { deliveryId, eventType, ...(await takeComment(deps, source, event, deadlineOf(res))) } };
      return { status: 202, body: { deliveryId, eventType, ...(await deps.tasks.withTemporal(deadlineOf(res), () => takeIssue(deps, source, event))) } };
    });
  });

  return router;
}

/** AgentRail's Linear task routes (its SDK's createLinearTaskComment, updateLinearTaskWorkflowState). */
export function linearTasksRouter(deps: ApiDeps): Router {
  const router = Router();
  const linearTaskRoute = (path: string, operation: string, write: (req: Request) => LinearWrite, status: number, data: (r: LinearWriteResult | undefined, req: Request) => Record<string, unknown>) =>
    router.post(`/api/providers/linear/tasks/:issueId/${path}`, async (req, res) => {
      const actor = actorOf(req, res);
      const key = req.header('idempotency-key');
      if (key !== undefined && (key.length < 8 || key.length > 128)) throw new DomainError('validation_error', 'Idempotency-Key must be 8-128 characters.', { header: 'Idempotency-Key' });
      const given = write(req);
      await runIssueUpdate(deps, req, res, {
        operation,
        action: 'sync_linear',
        keyRequired: true,
        waitsOnProvider: true,
        // AgentRail's SDK retries a 503 with the same key: after Linear's outage, that retry tries again.
        newAttemptAfterOutage: true,
        def: linearWriteUpdate,
        // Another agent's task is not_owner first (as on every route); then a task that is not Linear's is AgentRail's 404.
        prepare: async (found) => {
          linearIssueOf(found.issue);
        },
        command: () => ({ actor, write: given }),
        respond: ({ issue }, _found, result) => {
          const upstream = (result as TaskResult & { upstream?: LinearWriteResult }).upstream;
          const availableActions = ['get_task'];
          // syncedAt: when the write was committed to the task (in the workflow), so every answer for one key is the same.
          const body = { taskId: issue.id, linearIssueId: linearIssueOf(issue), ...data(upstream, req), success: true, syncedAt: issue.updatedAt, availableActions, taskAvailableActions: actionsFor(issue, actor, 'running') };
          return { status, body: { data: body, availableActions } };
        },
      });
    });

  linearTaskRoute('comments', 'linear.comment', (req) => ({ kind: 'comment', body: parse(schema.linearComment, req.body).body }), 201, (r) => ({
    commentId: r?.kind === 'comment' ? r.commentId : null,
    commentUrl: r?.kind === 'comment' ? r.commentUrl : null,
  }));

  linearTaskRoute('workflow-state', 'linear.workflow_state', (req) => ({ kind: 'state', stateId: parse(schema.linearWorkflowState, req.body).stateId }), 200, (r, req) => {
    const state = r?.kind === 'state' ? r : null;
    return { stateId: state?.stateId ?? String((req.body as { stateId?: string }).stateId ?? '').trim(), stateName: state?.stateName ?? null, agentRailStatus: linearStatus(state ? { name: state.stateName, type: state.stateType } : null) };
  });

  return router;
}

/** An issue created or changed in Linear: taken in (filters permitting) or followed, as a poll would. */
async function takeIssue(deps: ApiDeps, source: SourceRow, event: Extract<LinearWebhookEvent, { kind: 'issue' }>): Promise<Record<string, unknown>> {
  const c = event.issue;
  // Deleting an issue in Linear is not closing it: the task stays as it is (an operator decides).
  if (event.action === 'remove') return { ignored: 'issue_removed' };
  const known = await deps.pool.query('SELECT 1 FROM source_items WHERE source_key = $1', [claimKeyOf(source, c.number, c.key)]);
  if (!known.rowCount) {
    // Another team's issue (an org-wide webhook) is not ours. Linear may leave `team` out (its payload
    // type makes it optional) but always sends `teamId`; an issue naming neither cannot be told ours.
    if (event.teamKey && source.team_key && event.teamKey.toLowerCase() !== source.team_key.toLowerCase()) return { ignored: 'other_team' };
    if (event.teamId && source.team_id && event.teamId !== source.team_id) return { ignored: 'other_team' };
    if (!event.teamKey && !event.teamId) return { ignored: 'other_team' };
    if (!takesIn(source, c)) return { ignored: 'filtered_out' };
    if (source.paused) return { ignored: 'source_paused' };
  }
  return { intake: await admitCandidate(deps.pool, deps.tasks.client, deps.config, source, c) };
}

/**
 * A person's comment on a task's Linear issue, as a comment on the task by that Linear user (never by
 * an agent): it wakes the assignee like any other. Recorded once per comment id, whichever delivery
 * brings it; our own write-backs are recorded when made, so they never come back as a person's.
 */
async function takeComment(deps: ApiDeps, source: SourceRow, event: Extract<LinearWebhookEvent, { kind: 'comment' }>, deadline: number): Promise<Record<string, unknown>> {
  const item = await deps.pool.query<{ issue_id: string; source_id: string; upstream_user_id: string | null }>(
    'SELECT si.issue_id, si.source_id, s.upstream_user_id FROM source_items si JOIN sources s ON s.id = si.source_id WHERE si.source_key = $1',
    [claimKeyOf(source, 0, `linear:${event.issueId}`)],
  );
  const issueId = item.rows[0]?.issue_id;
  if (!issueId) return { commentId: event.commentId, ignored: 'task_not_found' };
  // The source that took the issue in owns its comments: two Linear sources of the company (org-wide
  // webhooks, or an issue moved to another team) delivering one comment record it once, and a comment
  // written with either source's key is Switchyard's write-back, not a person speaking.
  const owner = item.rows[0]!.source_id;
  const ownUsers = new Set([source.upstream_user_id, item.rows[0]!.upstream_user_id].filter((u): u is string => !!u));
  if (event.user?.id && ownUsers.has(event.user.id)) return { commentId: event.commentId, taskId: issueId, ignored: 'own_comment' };
  const fresh = await deps.pool.query('INSERT INTO upstream_comments (source_id, comment_id, issue_id) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING RETURNING 1', [owner, event.commentId, issueId]);
  if (!fresh.rowCount) return { commentId: event.commentId, taskId: issueId, ignored: 'duplicate_comment' };
  // A person's text as the task can hold it (a NUL or a lone surrogate becomes U+FFFD; a name is cut
  // on a character, never inside one): refusing it would lose the comment, as Linear redelivers it unchanged.
  const who = [...storable(event.user?.name ?? 'someone').replace(/[\u0000-\u001f\u007f]/g, ' ')].slice(0, 100).join('');
  const actor: Actor = { kind: 'system', user: `linear:${who}` };
  const body = cutText(storable(`${event.body}`), 60_000, '') || '(empty comment)';
  try {
    const found = await deps.reads.issueWithCompany(issueId);
    const result = await deps.tasks.update(issueId, commentUpdate, { actor, body, knownDescriptionVersion: found.issue.descriptionVersion }, { updateId: uuidFromSeed(`linear-comment:${owner}:${event.commentId}`), deadline });
    await writeResult(deps.pool, result, { known: found.issue, commentBody: body, deadline });
    return { commentId: event.commentId, taskId: issueId, recorded: true };
  } catch (err) {
    // Not on the task: forget it, so Linear's redelivery (or a replay of the delivery) is taken.
    await deps.pool.query('DELETE FROM upstream_comments WHERE source_id = $1 AND comment_id = $2', [owner, event.commentId]).catch(() => {});
    throw fromTemporal(err, issueId);
  }
}

