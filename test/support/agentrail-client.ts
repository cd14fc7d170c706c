/**
 * A small AgentRail client written from the reference (agentrail-events-keys-linear-ci.md §7 and
 * agentrail-api.md), for the contract tests when AgentRail's own SDK is not named by AGENTRAIL_SDK:
 * the same methods, the same requests (Bearer key, Accept JSON, a body only when there is one, its
 * Idempotency-Keys), the same retries (429 and 5xx, three attempts, Retry-After honoured up to 30 s),
 * the same SSE parsing and webhook verification. Not AgentRail's code.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export class ClientError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, any>,
    readonly retryAfterSeconds: number | null,
  ) {
    super(message);
  }

  get availableActions(): string[] {
    return Array.isArray(this.details.availableActions) ? this.details.availableActions : [];
  }
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

export class ReferenceClient {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  constructor(opts: { baseUrl: string; apiKey: string; retry?: { initialDelayMs?: number; maxDelayMs?: number } }) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.apiKey = opts.apiKey;
    this.delay = opts.retry?.initialDelayMs ?? 500;
    this.maxDelay = opts.retry?.maxDelayMs ?? 5000;
  }
  private readonly delay: number;
  private readonly maxDelay: number;

  private async request<T>(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    for (let attempt = 1; ; attempt++) {
      const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      if (res.ok) return (await res.json()) as T;
      const parsed = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string; details?: Record<string, unknown> } };
      const retryAfter = res.headers.get('retry-after');
      const err = new ClientError(res.status, parsed.error?.code ?? 'unknown', parsed.error?.message ?? res.statusText, parsed.error?.details ?? {}, retryAfter ? Number(retryAfter) : null);
      if (attempt >= 3 || !RETRYABLE.has(res.status)) throw err;
      const wait = err.retryAfterSeconds !== null ? Math.min(30, err.retryAfterSeconds) * 1000 : Math.min(this.maxDelay, this.delay * 2 ** (attempt - 1));
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  createApiKey(req: unknown, idempotencyKey: string) { return this.request<any>('POST', '/agent-api-keys', req, idempotencyKey); }
  rotateApiKey(keyId: string, req?: unknown, idempotencyKey?: string) { return this.request<any>('POST', `/agent-api-keys/${encodeURIComponent(keyId)}/rotate`, req, idempotencyKey); }
  getApiKeyUsage(keyId: string) { return this.request<any>('GET', `/agent-api-keys/${encodeURIComponent(keyId)}/usage`); }
  listMyTasks(o: { status?: string; limit?: number; cursor?: string } = {}) {
    const q = new URLSearchParams();
    if (o.status) q.set('status', o.status);
    if (o.limit !== undefined) q.set('limit', String(o.limit));
    if (o.cursor) q.set('cursor', o.cursor);
    return this.request<any>('GET', `/tasks/mine${q.size ? `?${q}` : ''}`);
  }
  getTask(id: string) { return this.request<any>('GET', `/tasks/${encodeURIComponent(id)}`); }
  submitTask(id: string, req: unknown, key: string) { return this.request<any>('POST', `/tasks/${encodeURIComponent(id)}/submit`, req, key); }
  createLinearTaskComment(id: string, req: unknown, key: string) { return this.request<any>('POST', `/providers/linear/tasks/${encodeURIComponent(id)}/comments`, req, key); }
  updateLinearTaskWorkflowState(id: string, req: unknown, key: string) { return this.request<any>('POST', `/providers/linear/tasks/${encodeURIComponent(id)}/workflow-state`, req, key); }
  getTaskCiStatus(id: string) { return this.request<any>('GET', `/tasks/${encodeURIComponent(id)}/ci-status`); }
  getTaskReviewFeedback(id: string) { return this.request<any>('GET', `/tasks/${encodeURIComponent(id)}/review-feedback`); }
  shipTask(id: string, req: unknown, key: string) { return this.request<any>('POST', `/tasks/${encodeURIComponent(id)}/ship`, req, key); }
  listEventSubscriptions() { return this.request<any>('GET', '/event-subscriptions'); }
  getEventSubscription(id: string) { return this.request<any>('GET', `/event-subscriptions/${encodeURIComponent(id)}`); }
  createEventSubscription(req: unknown, key: string) { return this.request<any>('POST', '/event-subscriptions', req, key); }
  deactivateEventSubscription(id: string) { return this.request<any>('DELETE', `/event-subscriptions/${encodeURIComponent(id)}`); }
  listWebhookSubscriptions() { return this.listEventSubscriptions(); }
  getWebhookSubscription(id: string) { return this.getEventSubscription(id); }
  createWebhookSubscription(req: unknown, key: string) { return this.createEventSubscription(req, key); }
  deactivateWebhookSubscription(id: string) { return this.deactivateEventSubscription(id); }

  /** Reads the stream as the reference says the SDK does: LF blocks, the last `data: ` line of each; never reconnects. */
  async *streamEvents(o: { eventTypes?: string[]; taskId?: string; cursor?: string; heartbeatSeconds?: number; signal?: AbortSignal } = {}): AsyncGenerator<any> {
    const q = new URLSearchParams();
    if (o.eventTypes?.length) q.set('eventTypes', o.eventTypes.join(','));
    if (o.taskId) q.set('taskId', o.taskId);
    if (o.cursor) q.set('cursor', o.cursor);
    if (o.heartbeatSeconds != null) q.set('heartbeatSeconds', String(o.heartbeatSeconds));
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, accept: 'text/event-stream' };
    if (o.cursor) headers['last-event-id'] = o.cursor;
    const res = await fetch(`${this.baseUrl}/task-events/stream${q.size ? `?${q}` : ''}`, { headers, signal: o.signal });
    if (!res.ok) {
      const parsed = (await res.json()) as { error: { code: string; message: string; details: Record<string, unknown> } };
      throw new ClientError(res.status, parsed.error.code, parsed.error.message, parsed.error.details, null);
    }
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        const blocks = buffer.split('\n\n');
        buffer = blocks.pop()!;
        for (const block of blocks) {
          let data: string | undefined;
          for (const line of block.split('\n')) if (line.startsWith('data: ')) data = line.slice(6);
          if (data) yield JSON.parse(data);
        }
      }
    } finally {
      reader.releaseLock();
    }
  }
}

/** `sha256=` + lowercase hex HMAC-SHA256(secret, raw body), compared whole and in constant time. */
export function verifyWebhookSignature(rawBody: string | Buffer, secret: string, signature: string): boolean {
  const expected = `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
  const a = Buffer.from(expected);
  const b = Buffer.from(signature);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function parseWebhookEvent(rawBody: string | Buffer, secret: string, headers: Record<string, string>): any {
  if (!verifyWebhookSignature(rawBody, secret, headers['x-agentrail-signature'] ?? '')) throw new Error('Invalid webhook signature');
  return JSON.parse(rawBody.toString());
}
