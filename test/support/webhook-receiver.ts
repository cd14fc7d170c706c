/** A local webhook receiver for tests: records every request (raw body and headers) and answers as told. */
import http from 'node:http';
import { waitFor } from './wait.js';

export interface Received {
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: any;
}

/** A status to answer with, 'hang' to never answer, or a status to answer with later. */
export type Answer = number | 'hang' | Promise<number>;

export interface Receiver {
  url: string;
  received: Received[];
  /** Requests that have not been answered (hung ones). */
  open(): number;
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(answer: (r: Received, index: number) => Answer = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  let open = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const r = { headers: req.headers, raw, body };
      received.push(r);
      const a = answer(r, received.length - 1);
      if (a === 'hang') {
        open++;
        res.once('close', () => open--);
        return;
      }
      if (typeof a === 'number') res.writeHead(a, { 'content-type': 'application/json' }).end('{}');
      else void a.then((status) => res.writeHead(status, { 'content-type': 'application/json' }).end('{}'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`;
  return {
    url,
    received,
    open: () => open,
    waitFor: (n, timeoutMs = 30_000) => waitFor(`${n} deliveries at ${url}`, async () => received.length, (len) => len >= n, timeoutMs).then(() => received),
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
