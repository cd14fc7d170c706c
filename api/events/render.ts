/** A logged event as AgentRail's clients read it: the envelope, with the task's links under this API. */
import type { EventRow } from '../../db/task-events.js';

export interface EventEnvelope {
  id: string;
  type: string;
  occurredAt: string;
  sequence: number;
  taskVersion: number;
  traceId: string | null;
  data: Record<string, unknown>;
}

/** `apiBase`: this API's address with `/api` (links are where an AgentRail client with that baseUrl reads the task). */
export function envelopeOf(row: EventRow, apiBase: string): EventEnvelope {
  const task = `${apiBase}/tasks/${row.issueId}`;
  return {
    id: row.id,
    type: row.type,
    occurredAt: row.occurredAt,
    sequence: row.sequence,
    taskVersion: row.taskVersion,
    traceId: row.traceId,
    data: { ...row.data, links: { task, reviewFeedback: `${task}/review-feedback`, ciStatus: `${task}/ci-status`, shipOperation: null } },
  };
}

/** One SSE frame: `id:`, `event:`, and the envelope on one `data: ` line (JSON never holds a raw LF or CR). */
export function sseFrame(env: EventEnvelope): string {
  return `id: ${env.id}\nevent: ${env.type}\ndata: ${JSON.stringify(env)}\n\n`;
}
