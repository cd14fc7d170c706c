/**
 * `GET /api/task-events/stream`: AgentRail's SSE stream of task events, scoped to what the caller may
 * read (an agent: its company's tasks; the operator: every company). Resumes from `cursor` or
 * `Last-Event-ID` (the header wins): what came after it is replayed from the log, then the stream goes
 * live from the process's shared hub with no gap and no duplicate at the seam. A slow reader is never
 * buffered for: once its socket is full it drops to reading the log from where it is, so a stream
 * holds at most one page in memory.
 */
import { Router, type Request, type Response } from 'express';
import { DomainError } from '../../domain/errors.js';
import { TASK_EVENT_TYPES } from '../../domain/events.js';
import { resolveCursor, type EventFilter } from '../../db/task-events.js';
import { callerOf } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { EventHub } from '../events/hub.js';
import { EventStream } from '../events/stream.js';
import { KeyWatch } from '../events/key-watch.js';

const RETRY_MS = 5_000;

export interface StreamLimits {
  /** Open streams per API key on one API process. */
  perKey: number;
  /** Open streams on one API process. */
  total: number;
  retentionDays: number;
}

export function taskEventsRouter(deps: ApiDeps, hub = new EventHub(deps.pool), keys = new KeyWatch(deps.pool)): Router {
  const router = Router();
  const limits: StreamLimits = { perKey: deps.config.maxStreamsPerKey, total: deps.config.maxStreams, retentionDays: deps.config.eventRetentionDays };
  const open = new Map<string, number>();
  let total = 0;

  router.get('/api/task-events/stream', async (req, res) => {
    const caller = callerOf(res);
    // Counted per agent, all its keys together: an agent that mints keys does not multiply its streams.
    const keyId = caller.kind === 'agent' ? `agent:${caller.agent.id}` : 'operator';
    const held = open.get(keyId) ?? 0;
    const perKey = caller.kind === 'operator' ? limits.total : limits.perKey;
    if (held >= perKey || total >= limits.total) {
      throw new DomainError('rate_limited', 'Concurrent stream limit reached: close a stream, or retry later', { concurrentLimit: held >= perKey ? perKey : limits.total, retryAfterSeconds: 5, availableActions: ['retry'] });
    }
    // The slot is taken before anything is awaited: streams opening at once each see the others.
    open.set(keyId, held + 1);
    total++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const n = (open.get(keyId) ?? 1) - 1;
      if (n > 0) open.set(keyId, n);
      else open.delete(keyId);
      total--;
    };
    res.once('close', release);
    let filter: EventFilter;
    let position: number | null = null;
    try {
      filter = await filterOf(deps, req, res);
      const cursor = req.header('last-event-id')?.trim() || (typeof req.query.cursor === 'string' ? req.query.cursor.trim() : '');
      if (cursor) {
        position = await resolveCursor(deps.pool, cursor);
        if (position === null) {
          throw new DomainError('cursor_expired', 'The requested stream cursor is no longer available.', { replayWindowHours: limits.retentionDays * 24, availableActions: ['reconnect_without_cursor'] });
        }
      }
    } catch (err) {
      release();
      throw err;
    }
    const heartbeatSeconds = clampHeartbeat(req.query.heartbeatSeconds);
    const apiBase = `${deps.config.publicUrl?.replace(/\/+$/, '') ?? `${req.protocol}://${req.get('host')}`}/api`;
    const stream = new EventStream(deps.pool, res, filter, apiBase);
    let unsubscribe: (() => void) | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    // A key revoked, rotated past its grace or expired ends its streams.
    const unwatch = caller.kind === 'agent' ? keys.watch(caller.key.id, () => res.end()) : undefined;
    const close = () => {
      clearInterval(heartbeat);
      unsubscribe?.();
      unwatch?.();
      stream.closed = true;
    };
    res.once('close', close);
    try {
      unsubscribe = await hub.subscribe((row) => stream.live(row));
    } catch {
      throw new DomainError('database_unavailable', 'The event log cannot be read right now', { availableActions: ['retry'] });
    }
    if (stream.closed) return unsubscribe();

    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-agentrail-replay-window-hours': String(limits.retentionDays * 24),
      'x-agentrail-stream-heartbeat-seconds': String(heartbeatSeconds),
      'x-agentrail-resume-mode': position === null ? 'live' : 'replay_then_live',
    });
    res.socket?.setNoDelay(true);
    res.write(`retry: ${RETRY_MS}\n\n`);
    heartbeat = setInterval(() => {
      if (!res.writableNeedDrain) res.write(`: keepalive ${new Date().toISOString()}\n\n`);
    }, heartbeatSeconds * 1000);
    // Without a cursor it starts live, at the hub's position; with one it reads the log up to there first.
    stream.begin(position ?? hub.last, position !== null, hub);
  });

  return router;
}

/** AgentRail's clamp: not a number → 20, else 10–60; never a 400. */
function clampHeartbeat(raw: unknown): number {
  const n = Number.parseInt(String(raw ?? ''), 10);
  return Number.isNaN(n) ? 20 : Math.min(60, Math.max(10, n));
}

async function filterOf(deps: ApiDeps, req: Request, res: Response): Promise<EventFilter> {
  const caller = callerOf(res);
  const raw = typeof req.query.eventTypes === 'string' ? req.query.eventTypes : '';
  const types = raw.split(',').map((t) => t.trim()).filter(Boolean);
  const unknown = types.filter((t) => !(TASK_EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length) throw new DomainError('validation_error', `Unknown event type: ${unknown.slice(0, 5).join(', ')}`, { field: 'eventTypes', supportedEventTypes: TASK_EVENT_TYPES });
  const companyId = caller.kind === 'agent' ? caller.agent.companyId : null;
  // A run token sees its own task's events only.
  let issueId: string | null = caller.kind === 'agent' ? caller.key.taskId : null;
  const taskId = typeof req.query.taskId === 'string' ? req.query.taskId.trim() : '';
  if (taskId) {
    // A task the caller cannot read is not found, exactly like one that does not exist.
    const found = await deps.reads.issueWithCompany(taskId, companyId ?? undefined);
    if (companyId && found.issue.companyId !== companyId) throw new DomainError('not_found', 'Task not found', { taskId });
    if (issueId && issueId !== found.issue.id) throw new DomainError('not_found', 'Task not found', { taskId });
    issueId = found.issue.id;
  }
  return { types: types.length ? types : null, issueId, companyId };
}
