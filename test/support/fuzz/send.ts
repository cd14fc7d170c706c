/** Sending a built request over one keep-alive HTTP agent, timed, and reading its answer. */
import http from 'node:http';
import type { Sent } from './build.js';
import type { Timing } from './record.js';

export interface Answer { status: number; body: any; text: string; replayed: boolean }

/** A sender to the API at `url`; its time goes to `timing.send`. `close()` ends its sockets. */
export function createSender(url: string, timing: Timing): { send(req: Sent): Promise<Answer>; close(): void } {
  async function send(req: Sent): Promise<Answer> {
    const t0 = Date.now();
    try {
      return await sendOnce(req);
    } finally {
      timing.send += Date.now() - t0;
    }
  }
  // node:http rather than fetch: a third of the test process's time went to fetch's streams and abort signals.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const base = new URL(url);
  function sendOnce(req: Sent): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const r = http.request({ host: base.hostname, port: base.port, method: req.method, path: req.path, headers: req.headers, agent }, (res) => {
        // An event stream never ends by itself: its answer is its status and headers.
        if (String(res.headers['content-type']).startsWith('text/event-stream')) {
          res.destroy();
          return resolve({ status: res.statusCode ?? 0, body: undefined, text: '', replayed: false });
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, body, text, replayed: res.headers['idempotent-replayed'] === 'true' });
        });
      });
      r.setTimeout(60_000, () => r.destroy(new Error('no answer within 60 s')));
      r.on('error', reject);
      // Framed explicitly: node's client sends a DELETE's body with neither Content-Length nor chunking.
      if (req.body !== undefined) r.setHeader('content-length', Buffer.byteLength(req.body));
      r.end(req.body);
    });
  }

  return { send, close: () => agent.destroy() };
}
