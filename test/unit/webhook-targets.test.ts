/** Webhook targets (SSRF): which addresses are public, and a POST that never connects to a private one. */
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { postWebhook } from '../../activities/webhook-post.js';
import { filterKey, verdictOf } from '../../domain/event-subscriptions.js';
import { isPublicAddress } from '../../runtime/public-address.js';

test('non-public IPv4 and IPv6 addresses, including IPv4 inside IPv6, are refused', () => {
  const refused = ['127.0.0.1', '127.8.9.10', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.0.1', '169.254.169.254', '0.0.0.0', '100.64.0.1', '224.0.0.1', '255.255.255.255',
    '::', '::1', 'fe80::1', 'fe80::1%eth0', 'fd12:3456::1', 'fc00::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254',
    '::127.0.0.1', '64:ff9b::127.0.0.1', '64:ff9b::a00:1', '2002:7f00:1::1', '2001:db8::1', 'localhost', 'not an address'];
  for (const a of refused) assert.equal(isPublicAddress(a), false, a);
  const allowed = ['8.8.8.8', '93.184.215.14', '172.32.0.1', '1.1.1.1', '2606:4700:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8', '64:ff9b::808:808'];
  for (const a of allowed) assert.equal(isPublicAddress(a), true, a);
});

test('a delivery never connects to a private address unless allowed, whether the URL names it or resolves to it', async () => {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits++;
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    for (const url of [`http://127.0.0.1:${port}/`, `http://localhost:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`]) {
      const r = await postWebhook(url, {}, '{}', { timeoutMs: 2_000, allowPrivate: false });
      assert.equal(r.kind, 'refused', `${url}: ${JSON.stringify(r)}`);
    }
    assert.equal(hits, 0);
    assert.deepEqual(await postWebhook(`http://127.0.0.1:${port}/`, {}, '{}', { timeoutMs: 2_000, allowPrivate: true }), { kind: 'answered', status: 204 });
    assert.equal(hits, 1);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('a redirect is an answer (3xx: that event failed), never followed; a silent receiver costs one timeout', async () => {
  const server = http.createServer((req, res) => {
    if (req.url === '/hang') return;
    res.writeHead(307, { location: 'http://169.254.169.254/' }).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    assert.deepEqual(await postWebhook(`http://127.0.0.1:${port}/`, {}, '{}', { timeoutMs: 2_000, allowPrivate: true }), { kind: 'answered', status: 307 });
    assert.equal(verdictOf(307), 'failed');
    const hung = await postWebhook(`http://127.0.0.1:${port}/hang`, {}, '{}', { timeoutMs: 300, allowPrivate: true });
    assert.equal(hung.kind, 'no_answer');
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('what each answer means, and one filter key for one endpoint and filter set', () => {
  assert.deepEqual([200, 204, 299, 301, 400, 404, 409, 410, 429, 500, 503].map(verdictOf), ['delivered', 'delivered', 'delivered', 'failed', 'failed', 'failed', 'failed', 'gone', 'failed', 'retry', 'retry']);
  const a = filterKey('https://x.example/h', { eventTypes: ['task.updated', 'task.shipped'], taskIds: ['b', 'a'], taskScope: null });
  assert.equal(a, filterKey('https://x.example/h', { eventTypes: ['task.shipped', 'task.updated', 'task.shipped'], taskIds: ['a', 'b'], taskScope: null }));
  assert.notEqual(a, filterKey('https://x.example/h', { eventTypes: ['task.shipped', 'task.updated'], taskIds: ['a', 'b'], taskScope: 'a' }));
});
