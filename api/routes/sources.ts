/**
 * Sources (operator): connected repositories. Credentials and webhook secrets are sealed on the way in
 * and never come out; each polled source has its Temporal Schedule `intake/<id>`, kept in step here
 * (and by the worker at start, if Temporal was down when a source changed).
 */
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type pg from 'pg';
import { DomainError } from '../../domain/errors.js';
import { getSource, listSources, presentSource, type SourceRow } from '../../db/sources.js';
import { inTransaction } from '../../db/transaction.js';
import { INTAKE_WORKFLOW_TYPE, deleteIntakeSchedule, intakeScheduleId, syncIntakeSchedule } from '../../runtime/intake-schedules.js';
import { secretBox } from '../../runtime/secrets.js';
import { asCredential, inspectRepository } from '../../activities/providers/registry.js';
import { createGitHubSource, createLinearSource } from './source-create.js';
import { inspectTeam } from '../../activities/linear/index.js';
import { checkCircleCI, ciColumns, flakyColumn } from './source-settings.js';
import type { IntakeReport } from '../../workflows/activity-types.js';
import { requireOperator } from '../auth.js';
import { deadlineOf } from '../deadline.js';
import type { ApiDeps } from '../deps.js';
import { fromTemporal, workflowFailure } from '../errors.js';
import { runIdempotent } from '../idempotency.js';
import { uuidFromSeed } from '../../runtime/ids.js';
import { isUuid } from '../read-model.js';
import { parse } from '../schemas.js';
import * as schema from '../schemas-delivery.js';

/** How long before its deadline a sync that is still polling answers 202 (running). */
const SYNC_ANSWER_MARGIN_MS = 1_000;

export function sourcesRouter(deps: ApiDeps): Router {
  const { pool, reads, config } = deps;
  const router = Router();
  const box = () => secretBox(config.secretKey);

  /** The source, for an operator (sources are operator-only; another company's is 404 like a missing one). */
  const scoped = async (sourceId: string, companyId?: string): Promise<SourceRow> => {
    if (!isUuid(sourceId)) throw new DomainError('not_found', 'Source not found', { sourceId });
    const source = await getSource(pool, sourceId);
    if (companyId && source.company_id !== companyId) throw new DomainError('not_found', 'Source not found', { sourceId });
    return source;
  };

  /** Brings the source's Schedule in line; if Temporal is down the change stands and the worker catches up at its next start. */
  const schedule = async (source: SourceRow, deadline: number) => {
    try {
      await deps.tasks.withTemporal(deadline, () => syncIntakeSchedule(deps.tasks.client, config, source));
    } catch (err) {
      throw fromTemporal(err);
    }
  };

  router.post('/api/companies/:companyId/sources', async (req, res) => {
    requireOperator(res);
    const company = await reads.company(req.params.companyId);
    const body = parse(schema.createSource, req.body);
    await runIdempotent(pool, req, res, { companyId: company.id, operation: 'source.create' }, async ({ seed }) => {
      const id = seed ? uuidFromSeed(seed) : randomUUID();
      const creation = {
        pool, box: box(), companyId: company.id, id, deadline: deadlineOf(res),
        // The row commits only with its Schedule: a Schedule Temporal did not confirm leaves no source behind.
        schedule: (_db: unknown, source: SourceRow) =>
          schedule(source, deadlineOf(res)).catch(async (err) => {
            await deps.tasks.withTemporal(Date.now() + 2_000, () => deleteIntakeSchedule(deps.tasks.client, id)).catch(() => {});
            throw err;
          }),
      };
      if (body.provider === 'linear') await createLinearSource(creation, body);
      else await createGitHubSource(creation, body);
      return { status: 201, body: presentSource(await getSource(pool, id)) };
    });
  });

  router.get('/api/companies/:companyId/sources', async (req, res) => {
    requireOperator(res);
    const company = await reads.company(req.params.companyId);
    res.json((await listSources(pool, company.id)).map(presentSource));
  });

  for (const path of ['/api/sources/:sourceId', '/api/companies/:companyId/sources/:sourceId']) {
    router.get(path, async (req, res) => {
      requireOperator(res);
      res.json(presentSource(await scoped(String(req.params.sourceId), req.params.companyId as string | undefined)));
    });

    router.patch(path, async (req, res) => {
      requireOperator(res);
      const source = await scoped(String(req.params.sourceId), req.params.companyId as string | undefined);
      const body = parse(schema.patchSource, req.body);
      if (Object.keys(body).length === 0) throw new DomainError('validation_error', 'Nothing to change: send at least one field');
      await runIdempotent(pool, req, res, { companyId: source.company_id, operation: 'source.update' }, async () => {
        let viewerId: string | null | undefined;
        // A new credential must work for this repository (or team) before it replaces the old one.
        if (body.credential && source.provider === 'linear') {
          if (!('apiKey' in body.credential)) throw new DomainError('validation_error', 'A Linear source takes credential {apiKey}', { field: 'credential' });
          viewerId = (await inspectTeam({ apiKey: body.credential.apiKey, apiUrl: source.base_url ?? undefined, teamKey: source.team_key! }, deadlineOf(res))).viewerId;
        } else if (body.credential) {
          if ('apiKey' in body.credential) throw new DomainError('validation_error', 'A GitHub source takes credential {token} or {appId, privateKey, installationId}', { field: 'credential' });
          const repo = await inspectRepository({ owner: source.owner, repo: source.repo, baseUrl: source.base_url, credential: asCredential(body.credential) }, deadlineOf(res));
          if (source.repo_id && String(repo.id) !== String(source.repo_id)) {
            throw new DomainError('repository_not_found', `${source.owner}/${source.repo} is another repository for this credential (id ${repo.id}, the source's is ${source.repo_id})`, { owner: source.owner, repo: source.repo });
          }
        }
        const forOther = source.provider === 'linear' ? (['ci', 'flaky', 'defaultBranch'] as const).find((k) => body[k] !== undefined) : body.states !== undefined ? 'states' : undefined;
        if (forOther) throw new DomainError('validation_error', `${forOther} is not a setting of a ${source.provider} source`, { field: forOther });
        await checkCircleCI(body.ci, box(), deadlineOf(res), source);
        const sealed = body.credential || body.webhookSecret ? box() : undefined;
        const sets: string[] = [];
        const values: unknown[] = [source.id];
        const set = (column: string, value: unknown) => {
          values.push(value);
          sets.push(`${column} = $${values.length}`);
        };
        if (body.pollIntervalSeconds !== undefined) set('poll_interval_seconds', body.pollIntervalSeconds);
        if (body.labels !== undefined) set('labels', JSON.stringify(body.labels));
        if (body.reviewPolicy !== undefined) set('review_policy', body.reviewPolicy);
        if (body.paused !== undefined) set('paused', body.paused);
        if (body.defaultBranch !== undefined) set('default_branch', body.defaultBranch);
        if (body.credential) {
          set('credential_kind', 'appId' in body.credential ? 'app' : 'token');
          set('credential_sealed', sealed!.seal(JSON.stringify(body.credential)));
        }
        if (body.webhookSecret !== undefined) set('webhook_secret_sealed', body.webhookSecret === null ? null : sealed!.seal(body.webhookSecret));
        if (body.ci) for (const [column, value] of Object.entries(ciColumns(body.ci, box(), source))) set(column, value);
        if (body.flaky) set('flaky', flakyColumn(body.flaky, source));
        if (body.states) set('states', JSON.stringify(body.states));
        if (viewerId !== undefined) set('upstream_user_id', viewerId);
        // Under the source's row lock, as DELETE takes it: a PATCH racing a delete either lands first or finds it gone (404).
        const updated = await inTransaction(pool, async (db) => {
          if (!(await db.query('SELECT 1 FROM sources WHERE id = $1 AND deleted_at IS NULL FOR UPDATE', [source.id])).rowCount) {
            throw new DomainError('not_found', 'Source not found', { sourceId: source.id });
          }
          await db.query(`UPDATE sources SET ${sets.join(', ')}, updated_at = now() WHERE id = $1`, values);
          const changed = await getSource(db, source.id);
          await schedule(changed, deadlineOf(res));
          return changed;
        });
        return { status: 200, body: presentSource(updated) };
      });
    });

    /** Stops intake (the Schedule goes); the source's tasks stay, with their history. */
    router.delete(path, async (req, res) => {
      requireOperator(res);
      const source = await scoped(String(req.params.sourceId), req.params.companyId as string | undefined);
      // Its open tasks still need its credential to submit, ship and follow their issues: they would be
      // stranded. Counted under the source's row lock from its claims (a delivery claimed but not yet in
      // the read model counts), so a delivery racing the delete either is counted or finds the source gone.
      await inTransaction(pool, async (db) => {
        await db.query('SELECT 1 FROM sources WHERE id = $1 FOR UPDATE', [source.id]);
        await dropAbandonedClaims(db, source.id, deadlineOf(res));
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM (
             SELECT si.issue_id FROM source_items si LEFT JOIN issues i ON i.id = si.issue_id
              WHERE si.source_id = $1::uuid AND (i.id IS NULL OR i.status NOT IN ('done', 'cancelled'))
             UNION
             SELECT id FROM issues WHERE (lifecycle->'source'->>'sourceId' = $1::text OR lifecycle->'source'->>'deliverySourceId' = $1::text) AND status NOT IN ('done', 'cancelled')) open`,
          [source.id],
        );
        // A Linear source delivering to this repository would be left with nowhere to deliver.
        const feeding = await db.query<{ id: string }>('SELECT id FROM sources WHERE delivery_source_id = $1 AND deleted_at IS NULL LIMIT 1', [source.id]);
        if (feeding.rows[0]) {
          throw new DomainError('source_in_use', `Linear source ${feeding.rows[0].id} delivers its tasks to this repository: delete it (or point it elsewhere) first`, { sourceId: source.id, linearSourceId: feeding.rows[0].id });
        }
        if (rows[0]!.n > 0) {
          throw new DomainError('source_in_use', `${rows[0]!.n} open task(s) still deliver through this source: close or cancel them first; to stop taking new issues in, pause it (PATCH {"paused": true})`, { sourceId: source.id, openTasks: rows[0]!.n });
        }
        try {
          await deps.tasks.withTemporal(deadlineOf(res), () => deleteIntakeSchedule(deps.tasks.client, source.id));
        } catch (err) {
          throw fromTemporal(err);
        }
        await db.query('UPDATE sources SET deleted_at = now(), updated_at = now() WHERE id = $1', [source.id]);
      });
      res.status(200).json({ ...presentSource(source), deleted: true, schedule: null });
    });
  }

  /**
   * A claim with no task row, older than any delivery still on its way, whose workflow Temporal does
   * not know: its start was lost (the process died between claim and start, and the issue never came
   * again). It would keep the source "in use" for ever; it is dropped instead.
   */
  const dropAbandonedClaims = async (db: pg.PoolClient, sourceId: string, deadline: number) => {
    const { rows } = await db.query<{ issue_id: string }>(
      `SELECT si.issue_id FROM source_items si LEFT JOIN issues i ON i.id = si.issue_id
        WHERE si.source_id = $1 AND i.id IS NULL AND si.created_at < now() - interval '10 minutes' LIMIT 100`,
      [sourceId],
    );
    for (const { issue_id: issueId } of rows) {
      if ((await deps.tasks.closedStatus(issueId, deadline)) === undefined) await db.query('DELETE FROM source_items WHERE issue_id = $1', [issueId]);
    }
  };

  /** One poll now, as the Schedule would run it; answers what it found. */
  router.post('/api/sources/:sourceId/sync', async (req, res) => {
    requireOperator(res);
    const source = await scoped(String(req.params.sourceId));
    if (source.paused) throw new DomainError('status_conflict', 'The source is paused: unpause it to poll', { sourceId: source.id });
    const deadline = deadlineOf(res);
    const workflowId = `intake-sync/${source.id}/${randomUUID()}`;
    let report: IntakeReport | undefined;
    try {
      const handle = await deps.tasks.withTemporal(deadline, () =>
        deps.tasks.client.workflow.start(INTAKE_WORKFLOW_TYPE, {
          workflowId,
          taskQueue: config.taskQueue,
          args: [{ sourceId: source.id }],
          staticSummary: `Intake sync of ${source.owner}/${source.repo} (POST /sync)`,
        }),
      );
      // A poll of a large repository (or a slow provider) may outlast the request: it goes on in Temporal,
      // and the caller hears that it is running instead of a 503 that invites a second poll.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stillRunning = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now() - SYNC_ANSWER_MARGIN_MS));
      });
      report = await Promise.race([handle.result() as Promise<IntakeReport>, stillRunning]).finally(() => clearTimeout(timer));
    } catch (err) {
      throw workflowFailure(err);
    }
    if (!report) {
      res.status(202).json({ status: 'running', workflowId, schedule: source.poll_interval_seconds ? intakeScheduleId(source.id) : null });
      return;
    }
    res.json({ ...report, schedule: source.poll_interval_seconds ? intakeScheduleId(source.id) : null });
  });

  return router;
}
