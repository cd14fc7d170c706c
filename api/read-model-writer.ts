/**
 * Read-your-writes: once an Update returns, its decision is durable in Temporal, and the API writes
 * the read model from it before answering. The workflow's projection activity writes the same thing
 * again a moment later (harmless: versioned and idempotent), which is what makes the read model
 * converge when the API dies between the two. Nothing is ever written before Temporal has it.
 */
import { DomainError } from '../domain/errors.js';
import type { ProjectionWrite } from '../domain/projection.js';
import type { IssueState, NewComment } from '../domain/task.js';
import { applyProjection, isTransientDbError, recordRefusedWrite } from '../db/projection.js';
import { rowToState, type IssueRow } from '../db/issues-sql.js';
import type { Pool } from '../db/pool.js';
import { logger } from '../runtime/logger.js';
import type { LegacyTaskResult } from '../workflows/legacy/messages-v1.js';
import type { TaskResult } from '../workflows/messages.js';

export interface Written {
  /** The issue at the decision's version, description included. */
  issue: IssueState;
  /** The comment the update added, with the body the caller sent. */
  comment?: NewComment;
}

export interface WriteContext {
  /** The issue as this request read it before the update: its description stands in when unchanged. */
  known: IssueState;
  commentBody?: string;
  deadline: number;
}

const RETRY_MS = 100;

export async function writeResult(pool: Pool, result: TaskResult | LegacyTaskResult, ctx: WriteContext): Promise<Written> {
  // A run started before the projection redesign wrote the read model itself before answering.
  if (!('fingerprint' in result)) return { issue: result.issue, comment: result.comment };

  const comment = result.comment ? { ...result.comment, body: result.comment.body ?? ctx.commentBody ?? '' } : undefined;
  const description = 'description' in result.issue ? result.issue.description : ctx.known.descriptionVersion === result.issue.descriptionVersion ? ctx.known.description : undefined;
  if (description === undefined) {
    // Only a retry answered from an earlier run's memory, after the description changed, lands here:
    // the projection activity has the full state and writes it; wait for that.
    return { issue: await waitForVersion(pool, result.issue.id, result.issue.version, ctx.deadline), comment };
  }
  const issue: IssueState = { ...result.issue, description: description ?? null };
  const write: ProjectionWrite = {
    issue,
    fingerprint: result.fingerprint,
    comments: comment ? [comment] : [],
    activity: result.activity,
    keep: result.keep,
    workflowStatus: 'running',
  };
  await applyUntil(pool, write, ctx.deadline);
  return { issue, comment };
}

async function applyUntil(pool: Pool, write: ProjectionWrite, deadline: number): Promise<void> {
  for (;;) {
    try {
      await applyProjection(pool, write, { relaxedDurability: true });
      return;
    } catch (err) {
      const { id, version } = write.issue;
      if (!isTransientDbError(err)) {
        // Not the client's fault and not worth a retry: the change is made; the reconciler reports this.
        logger.error({ err, issueId: id, version }, 'Postgres refused a read-model write for good');
        await recordRefusedWrite(pool, write, err).catch(() => {});
        return;
      }
      if (Date.now() + RETRY_MS >= deadline) throw committedButNotVisible(id, version);
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
}

async function waitForVersion(pool: Pool, issueId: string, version: number, deadline: number): Promise<IssueState> {
  for (;;) {
    const { rows } = await pool.query<IssueRow>('SELECT * FROM issues WHERE id = $1', [issueId]).catch(() => ({ rows: [] as IssueRow[] }));
    if (rows[0] && rows[0].version >= version) return rowToState(rows[0]);
    if (Date.now() + RETRY_MS >= deadline) throw committedButNotVisible(issueId, version);
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}

function committedButNotVisible(issueId: string, version: number): DomainError {
  return new DomainError(
    'database_unavailable',
    'The change is committed, but the read model could not show it in time. Retrying with the same Idempotency-Key returns it; without a key, do not repeat the change.',
    { committed: true, issueId, version },
  );
}
