/**
 * The safety net under the read model: compare recently changed issues (and every issue with a
 * recorded write failure, or whose workflow Temporal lists in another status) with their workflow,
 * and repair what differs. The write path makes differences impossible by construction; this is
 * what finds them anyway (a Reset in the Web UI, a server that lost its last commits, a write
 * Postgres refused) and says so.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ProjectionWrite } from '../domain/projection.js';
import { SA } from '../domain/search-attributes.js';
import { applyProjection } from '../db/projection.js';
import type { Pool } from '../db/pool.js';
import { logger } from '../runtime/logger.js';
import { queryTaskProjection } from '../runtime/task-projection.js';
import { workflowIdFor, type TaskProjection } from '../workflows/messages.js';
import type { Difference, ReconcileActivities, ReconcileOptions, ReconcileReport } from '../workflows/activity-types.js';

interface Row {
  id: string;
  version: number;
  status: string;
  fingerprint: string | null;
  workflow_status: string;
}

const CONCURRENCY = 4;

export async function reconcileIssues(pool: Pool, client: Client, opts: ReconcileOptions): Promise<ReconcileReport> {
  const rows = await candidates(pool, client, opts);
  const differences: Difference[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, rows.length) }, async () => {
      while (next < rows.length) {
        const row = rows[next++]!;
        const diff = await reconcileOne(pool, client, row).catch((err) => failed(row, err));
        if (diff) differences.push(diff);
      }
    }),
  );
  await retryRefusedWrites(pool);
  await sweepUnclaimedRevisions(pool);
  const { rows: open } = await pool.query(
    `SELECT issue_id AS "issueId", version, code, message FROM projection_failures WHERE resolved_at IS NULL ORDER BY created_at LIMIT 100`,
  );
  for (const d of differences) logger.warn(d, `reconciler: ${d.action} ${d.issueId}`);
  return { checked: rows.length, differences, openFailures: open };
}

/**
 * Document bodies stored for a PUT whose API process died before the workflow heard of it: never
 * published, named by no decision. A day is far past any request's deadline; a revision some decision
 * names (the issue's latest, or a refused write waiting for its retry) is kept whatever its age.
 */
async function sweepUnclaimedRevisions(pool: Pool): Promise<void> {
  const { rowCount } = await pool.query(
    `DELETE FROM document_revisions r WHERE r.revision_number IS NULL AND r.created_at < now() - interval '1 day'
       AND NOT EXISTS (SELECT 1 FROM issues i, jsonb_array_elements(coalesce(i.collab->'documents', '[]'::jsonb)) d
                       WHERE i.id = r.issue_id AND d->>'revisionId' = r.id::text)
       AND NOT EXISTS (SELECT 1 FROM projection_failures f WHERE f.resolved_at IS NULL AND f.issue_id = r.issue_id)`,
  );
  if (rowCount) logger.info({ removed: rowCount }, 'reconciler: removed document bodies no decision claimed');
}

/** Refused writes are tried again (their cause may be gone); one that lands is resolved. */
async function retryRefusedWrites(pool: Pool): Promise<void> {
  const { rows } = await pool.query<{ id: number; write: ProjectionWrite | null }>('SELECT id, write FROM projection_failures WHERE resolved_at IS NULL ORDER BY id LIMIT 100');
  for (const f of rows) {
    if (!f.write) continue;
    try {
      await applyProjection(pool, f.write);
      await pool.query('UPDATE projection_failures SET resolved_at = now() WHERE id = $1', [f.id]);
      logger.info({ issueId: f.write.issue.id, version: f.write.issue.version }, 'reconciler: a refused write landed on retry');
    } catch {
      // Still refused: it stays open and is reported.
    }
  }
}

async function candidates(pool: Pool, client: Client, opts: ReconcileOptions): Promise<Row[]> {
  const cols = 'id, version, status, fingerprint, workflow_status';
  if (opts.all) return (await pool.query<Row>(`SELECT ${cols} FROM issues ORDER BY updated_at DESC`)).rows;
  const { rows } = await pool.query<Row>(
    `SELECT ${cols} FROM issues
     WHERE updated_at > now() - make_interval(mins => $1)
        OR id IN (SELECT issue_id FROM projection_failures WHERE resolved_at IS NULL)`,
    [opts.sinceMinutes],
  );
  // Issues whose workflow Temporal shows in another status than the read model, however old the change.
  const seen = new Set(rows.map((r) => r.id));
  const listed = new Map<string, string>();
  try {
    for await (const wf of client.workflow.list({ query: `WorkflowType = "taskWorkflow" AND ExecutionStatus = "Running"` })) {
      const status = wf.typedSearchAttributes.get(SA.TaskStatus as never) as string | undefined;
      if (wf.workflowId.startsWith('issue/') && status) listed.set(wf.workflowId.slice('issue/'.length), status);
    }
  } catch (err) {
    logger.warn({ err }, 'reconciler: could not list workflows; comparing recent changes only');
  }
  const { rows: open } = await pool.query<Row>(`SELECT ${cols} FROM issues WHERE workflow_status = 'running' AND status NOT IN ('done', 'cancelled')`);
  for (const r of open) {
    if (seen.has(r.id)) continue;
    const listedStatus = listed.get(r.id);
    if (listedStatus === undefined || listedStatus !== r.status) rows.push(r);
  }
  return rows;
}

async function reconcileOne(pool: Pool, client: Client, row: Row): Promise<Difference | undefined> {
  const handle = client.workflow.getHandle(workflowIdFor(row.id));
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    return closedDiff(pool, row, 'terminated', undefined);
  }
  const workflowStatus = description.status.name.toLowerCase();
  const projection = await queryTaskProjection(client, row.id, description.runId);
  if (workflowStatus !== 'running') return closedDiff(pool, row, workflowStatus, projection);
  if (!projection) throw new Error('the workflow did not answer its projection query');
  const { state, fingerprint } = projection;
  if (state.version === row.version && fingerprint === row.fingerprint && row.workflow_status === 'running') return undefined;
  // The read model is never ahead of a running workflow: a row at a later version came from history
  // the workflow no longer has, and is replaced whatever its version.
  await applyProjection(pool, writeOf(projection, 'running', row.version > state.version));
  return { issueId: row.id, readModel: readModelOf(row), workflow: { version: state.version, status: state.status, workflowStatus }, action: 'repaired' };
}

async function closedDiff(pool: Pool, row: Row, workflowStatus: string, projection: TaskProjection | undefined): Promise<Difference | undefined> {
  const behind = projection && (projection.state.version !== row.version || projection.fingerprint !== row.fingerprint);
  if (row.workflow_status === workflowStatus && !behind) return undefined;
  if (projection && behind) await applyProjection(pool, writeOf(projection, workflowStatus as never, row.version > projection.state.version));
  await pool.query('UPDATE issues SET workflow_status = $2 WHERE id = $1', [row.id, workflowStatus]);
  return {
    issueId: row.id,
    readModel: readModelOf(row),
    workflow: { version: projection?.state.version ?? null, status: projection?.state.status ?? null, workflowStatus },
    action: 'marked_closed',
  };
}

function writeOf(p: TaskProjection, workflowStatus: ProjectionWrite['workflowStatus'], force: boolean): ProjectionWrite {
  return {
    issue: p.state,
    fingerprint: p.fingerprint,
    comments: p.pending.comments,
    activity: p.pending.activity,
    keep: p.keep,
    coversFrom: p.projectedVersion,
    workflowStatus,
    force,
  };
}

function readModelOf(row: Row) {
  return { version: row.version, status: row.status, workflowStatus: row.workflow_status };
}

function failed(row: Row, err: unknown): Difference {
  return { issueId: row.id, readModel: readModelOf(row), workflow: { version: null, status: null, workflowStatus: 'unknown' }, action: 'failed', error: String((err as Error)?.message ?? err) };
}

export function createReconcileActivities(pool: Pool, client: Client): ReconcileActivities {
  return { reconcileIssues: (opts) => reconcileIssues(pool, client, opts) };
}
