/**
 * One webhook POST: a fresh connection to an address checked as it is connected to (unless private
 * targets are allowed), a hard timeout over the whole exchange, and no redirect followed. The answer's
 * body is never read: its status is all a delivery needs.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { hostOf, isPublicAddress, publicOnlyLookup, TargetRefused } from '../runtime/public-address.js';

export type PostResult =
  | { kind: 'answered'; status: number }
  /** The target is (or resolved to) a non-public address: never connected to. */
  | { kind: 'refused'; error: string }
  /** No answer: a timeout, a refused connection, a TLS or DNS failure. */
  | { kind: 'no_answer'; error: string };

export interface PostOptions {
  timeoutMs: number;
  allowPrivate: boolean;
}

export function postWebhook(url: string, headers: Record<string, string>, body: string, opts: PostOptions): Promise<PostResult> {
  const target = new URL(url);
  const host = hostOf(target);
  if (!opts.allowPrivate && isIP(host) && !isPublicAddress(host)) {
    return Promise.resolve({ kind: 'refused', error: `${host} is not a public address (SWITCHYARD_ALLOW_PRIVATE_TARGETS is off)` });
  }
  const send = target.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = send(target, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      // A new connection per attempt: every one is made to an address checked just now.
      agent: false,
      ...(opts.allowPrivate ? {} : { lookup: publicOnlyLookup }),
    });
    // Covers connecting, sending and waiting for the status line: a receiver that hangs costs one timeout.
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${opts.timeoutMs / 1000} s`));
    }, opts.timeoutMs);
    req.once('response', (res) => {
      done({ kind: 'answered', status: res.statusCode ?? 0 });
      res.destroy();
    });
    req.once('error', (err) => {
      if (err instanceof TargetRefused || (err as { cause?: unknown }).cause instanceof TargetRefused) return done({ kind: 'refused', error: err.message });
      done({ kind: 'no_answer', error: err.message || String(err) });
    });
    req.end(body);
  });
}
