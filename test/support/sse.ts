/**
 * A test's SSE reader for `/api/task-events/stream`, parsing exactly as AgentRail's SDK does (blocks
 * split on a blank LF line, the last `data: ` line of a block) and also keeping the raw text, ids and
 * comments, so tests can check the framing itself.
 */
export interface StreamedEvent {
  id: string;
  type: string;
  sequence: number;
  taskVersion: number;
  occurredAt: string;
  traceId: string | null;
  data: Record<string, any>;
}

export interface OpenStream {
  status: number;
  headers: Headers;
  /** The JSON body of a refusal. */
  error?: any;
  events: StreamedEvent[];
  /** Every block as sent (including `retry:` and keep-alive comments). */
  raw: string[];
  /** Resolves once `n` events have arrived (rejects after `ms`). */
  waitFor(n: number, ms?: number): Promise<StreamedEvent[]>;
  close(): void;
  closed: Promise<void>;
}

export async function openStream(baseUrl: string, key: string, query: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<OpenStream> {
  const abort = new AbortController();
  const qs = new URLSearchParams(query).toString();
  const res = await fetch(`${baseUrl}/api/task-events/stream${qs ? `?${qs}` : ''}`, {
    headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const events: StreamedEvent[] = [];
  const raw: string[] = [];
  const waiters = new Set<() => void>();
  if (!res.ok) {
    return { status: res.status, headers: res.headers, error: await res.json(), events, raw, waitFor: () => Promise.reject(new Error(`stream refused: ${res.status}`)), close() {}, closed: Promise.resolve() };
  }
  const closed = (async () => {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        const blocks = buffer.split('\n\n');
        buffer = blocks.pop()!;
        for (const block of blocks) {
          raw.push(block);
          let data: string | undefined;
          for (const line of block.split('\n')) if (line.startsWith('data: ')) data = line.slice(6);
          if (data) events.push(JSON.parse(data));
        }
        for (const w of [...waiters]) w();
      }
    } catch {
      // aborted
    }
  })();
  return {
    status: res.status,
    headers: res.headers,
    events,
    raw,
    closed,
    close: () => abort.abort(),
    waitFor(n, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (events.length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(events);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`only ${events.length} of ${n} events within ${ms} ms: ${events.map((e) => e.type).join(', ')}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
  };
}
