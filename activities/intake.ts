/**
 * Intake: an upstream issue becomes exactly one task. The source key is claimed once in Postgres
 * (source_items), the task id and identifier follow from it, and the task workflow is signalled with
 * start under a workflow id derived from that task id: a poll, a webhook, a second poll, all at once,
 * end in one task. A task whose workflow an operator closed is not started again (restore it instead).
 */
import { eventsOf } from '../domain/events.js';
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { createdEntry } from '../domain/creation.js';
import type { UpstreamIssue } from '../domain/delivery.js';
import { intakeIssue } from '../domain/intake.js';
import { linearPriority } from '../domain/linear.js';
import { storable } from '../domain/text.js';
import { searchAttributeValues } from '../domain/search-attributes.js';
import { systemActor } from '../domain/task.js';
import type { Pool } from '../db/pool.js';
import { inTransaction } from '../db/transaction.js';
import { identifierFor } from '../db/identifiers.js';
import { adoptRepositoryId, claimKeyOf, getSource, type SourceRow } from '../db/sources.js';
import type { Config } from '../runtime/config.js';
import { uuidFromSeed } from '../runtime/ids.js';
import type { SecretBox } from '../runtime/secrets.js';
import type { IntakeActivities, IntakeReport } from '../workflows/activity-types.js';
import { TASK_WORKFLOW_TYPE, upstreamSignal, workflowIdFor, type TaskWorkflowInput } from '../workflows/messages.js';
import { atBoundary } from './boundary.js';
import type { Candidate } from './providers/ports.js';
import { DomainError } from '../domain/errors.js';
import { intakeFor } from './providers/registry.js';
import { passesLabels, type GitHubAdapter } from './providers/github.js';

export interface Admitted {
  key: string;
  issueId: string;
  identifier: string;
  created: boolean;
}

/**
 * The task id for an upstream issue: claimed once under the source's claim key (db/sources.ts), and
 * every later arrival — concurrent ones included — finds the same one. `ON CONFLICT … DO UPDATE` waits
 * for a racing insert and returns its row, which a plain `DO NOTHING` + re-read in one statement cannot
 * see. The source row is share-locked so a first poll moving its keys to the repository id, or a
 * delete counting the source's open tasks, is not raced.
 */
async function claim(pool: Pool, source: SourceRow, c: Candidate): Promise<{ issueId: string; identifier: string; claimed: boolean }> {
  const fresh = randomUUID();
  const row = await inTransaction(pool, async (client) => {
    const current = (await client.query<SourceRow & { deleted_at: string | null }>('SELECT * FROM sources WHERE id = $1 FOR SHARE', [source.id])).rows[0];
    // Deleted while this delivery was on its way (the delete holds the row while it counts open tasks): nothing is claimed.
    if (!current || current.deleted_at) throw new DomainError('not_found', 'Source not found (it was deleted)', { sourceId: source.id });
    const { rows } = await client.query<{ issue_id: string; inserted: boolean }>(
      `INSERT INTO source_items (source_key, company_id, source_id, issue_id) VALUES ($1,$2,$3,$4)
       ON CONFLICT (source_key) DO UPDATE SET source_key = EXCLUDED.source_key
       RETURNING issue_id, (xmax = 0) AS inserted`,
      [claimKeyOf(current, c.number, c.key), source.company_id, source.id, fresh],
    );
    return rows[0]!;
  });
  return { issueId: row.issue_id, identifier: await identifierFor(pool, source.company_id, row.issue_id), claimed: row.inserted };
}

/** The most of an upstream body a task keeps (the API's own description limit). */
const MAX_BODY_BYTES = 64 * 1024;

/** Upstream text as the API would have accepted it: storable, title within 500 characters, body within 64 KiB. */
function tidy(c: Candidate): Candidate {
  // Cut before it is made storable: a cut inside a surrogate pair leaves a lone half, which storable replaces.
  const clean = storable({ ...c, title: c.title.slice(0, 500) });
  const body = clean.body;
  const bytes = body === null ? 0 : Buffer.byteLength(body, 'utf8');
  return {
    ...clean,
    title: clean.title,
    body: body === null || bytes <= MAX_BODY_BYTES ? body : `${Buffer.from(body, 'utf8').subarray(0, MAX_BODY_BYTES - 200).toString('utf8').replace(/\uFFFD+$/, '')}\n\n…(cut: the upstream issue's body is ${bytes} bytes; read it at ${clean.url})`,
  };
}

export async function admitCandidate(pool: Pool, client: Client, config: Config, source: SourceRow, given: Candidate): Promise<Admitted> {
  const c = tidy(given);
  const { issueId, identifier, claimed } = await claim(pool, source, c);
  const linear = source.provider === 'linear';
  const state = intakeIssue(
    {
      id: issueId,
      companyId: source.company_id,
      identifier,
      title: c.title.slice(0, 500) || (c.identifier ?? `${source.owner}/${source.repo}#${c.number}`),
      body: c.body,
      priority: linear ? linearPriority(c.priority ?? null) : null,
      source: {
        sourceId: source.id, provider: source.provider, key: c.key, owner: source.owner, repo: source.repo, number: c.number, url: c.url,
        labels: c.labels, state: c.state, reviewPolicy: source.review_policy, defaultBranch: source.default_branch, updatedAt: c.updatedAt,
        ...(linear ? { deliverySourceId: source.delivery_source_id!, ...(c.identifier ? { identifier: c.identifier } : {}), ...(c.workflowState ? { workflowState: c.workflowState } : {}), trackerPriority: linearPriority(c.priority ?? null) } : {}),
      },
    },
    Date.now(),
  );
  const created = createdEntry(state, systemActor('intake'), uuidFromSeed(`${issueId}:created`));
  created.details = { ...created.details, sourceKey: c.key, url: c.url };
  const input: TaskWorkflowInput = {
    state,
    keep: [created.id],
    pending: { comments: [], activity: [created], events: eventsOf(null, { issue: state, comments: [], activity: [created] }), rowDirty: true, descriptionDirty: true, projectedVersion: 0 },
    continueAsNewAfterEvents: config.continueAsNewAfterEvents,
  };
  const upstream: UpstreamIssue = {
    title: state.title, body: c.body, labels: c.labels, state: c.state, url: c.url, updatedAt: c.updatedAt, ...(c.workflowState ? { workflowState: c.workflowState } : {}),
    // Linear's priority, followed when it changes there (GitHub has none).
    ...(linear ? { trackerPriority: linearPriority(c.priority ?? null), ...(c.identifier ? { identifier: c.identifier } : {}) } : {}),
  };
  try {
    await client.workflow.signalWithStart(TASK_WORKFLOW_TYPE, {
      workflowId: workflowIdFor(issueId),
      taskQueue: config.taskQueue,
      args: [input],
      signal: upstreamSignal,
      signalArgs: [upstream],
      // A task an operator terminated or cancelled is never silently started again from scratch.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: searchAttributeValues(state).flatMap(({ key, value }) => (value === null ? [] : [{ key, value }])),
      staticSummary: `${identifier}: ${state.title}`.slice(0, 200),
      staticDetails: `Switchyard task ${identifier} from ${c.url}`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return { key: c.key, issueId, identifier, created: claimed };
}

/**
 * Whether a source takes a new issue in: open, its label filters, and for Linear its state filter
 * (names or types, any case; none: every state). An issue already taken in follows its upstream whatever they say.
 */
export function takesIn(source: SourceRow, c: Pick<Candidate, 'labels' | 'workflowState' | 'state'>): boolean {
  // An issue already closed (Linear: completed or canceled) is no work: a first poll of a busy team or repository does not make a task of every old one.
  if (c.state === 'closed') return false;
  if (!passesLabels(c.labels, source.labels)) return false;
  if (source.provider !== 'linear' || !source.states?.length || !c.workflowState) return true;
  const wanted = source.states.map((x) => x.toLowerCase());
  return wanted.includes(c.workflowState.name.toLowerCase()) || wanted.includes(c.workflowState.type.toLowerCase());
}

/** The candidates already taken in: their tasks follow their issues whatever the filters say (as on the webhook path). */
async function knownKeys(pool: Pool, source: SourceRow, candidates: Candidate[]): Promise<Set<string>> {
  if (candidates.length === 0) return new Set();
  const keys = candidates.map((c) => claimKeyOf(source, c.number, c.key));
  const { rows } = await pool.query<{ source_key: string }>('SELECT source_key FROM source_items WHERE source_key = ANY($1)', [keys]);
  const have = new Set(rows.map((r) => r.source_key));
  return new Set(candidates.filter((c) => have.has(claimKeyOf(source, c.number, c.key))).map((c) => c.key));
}

export function createIntakeActivities(pool: Pool, client: Client, box: () => SecretBox, config: Config): IntakeActivities {
  return atBoundary<IntakeActivities>({
    async pollSource(sourceId): Promise<IntakeReport> {
      const source = await getSource(pool, sourceId).catch(() => undefined);
      if (!source) return { sourceId, skipped: 'deleted', found: 0, admitted: [], filteredOut: 0, cursor: null };
      if (source.paused) return { sourceId, skipped: 'paused', found: 0, admitted: [], filteredOut: 0, cursor: source.cursor };
      const intake = intakeFor(source, box(), { spaceWrites: config.githubSpaceWrites });
      try {
        // A source from before repository ids were kept learns its id once, and its keys move with it.
        if (source.provider === 'github' && !source.repo_id) {
          await adoptRepositoryId(pool, source.id, (await (intake as GitHubAdapter).repository()).id);
          Object.assign(source, await getSource(pool, source.id));
        }
        const { candidates, cursor } = await intake.listChangedSince(source.cursor);
        const known = await knownKeys(pool, source, candidates);
        const wanted = candidates.filter((c) => known.has(c.key) || takesIn(source, c));
        const admitted: Admitted[] = [];
        for (const c of wanted) admitted.push(await admitCandidate(pool, client, config, source, c));
        await pool.query('UPDATE sources SET cursor = $2, last_poll_at = now(), last_poll_error = NULL WHERE id = $1', [source.id, cursor]);
        return { sourceId, found: candidates.length, admitted, filteredOut: candidates.length - wanted.length, cursor };
      } catch (err) {
        await pool.query('UPDATE sources SET last_poll_at = now(), last_poll_error = $2 WHERE id = $1', [source.id, String((err as Error).message).slice(0, 500)]);
        throw err;
      }
    },
  });
}
