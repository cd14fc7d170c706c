/**
 * `npm run bench -- events`: the task event stream against its floor in the same run.
 *   decision → event: a comment through the REST API, then the time from its 201 to the event on an
 *   open stream (the stream's own cost), and from the request to the event; the floor is the request
 *   itself (the decision made durable and answered).
 *   fan-out: 500 open streams, the API process's RSS before and after opening them, and the time from a
 *   decision's 201 to its event on every stream.
 *   delivery: event subscriptions to a local receiver (one, then ten): deliveries per second from a burst
 *   of decisions, against the rate the decisions themselves were made; and the rate a backlog (decisions
 *   queued behind an event waiting for its retry) drains at, which the decisions do not cap.
 * Figures, never assertions.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { openStream } from '../test/support/sse.js';
import { deploy } from './processes.js';
import { printTable, round, summarize } from './stats.js';

const DECISIONS = Number(process.env.BENCH_EVENT_DECISIONS ?? 200);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 500);
const FANOUT_DECISIONS = Number(process.env.BENCH_FANOUT_DECISIONS ?? 20);
const BURST = Number(process.env.BENCH_DELIVERY_BURST ?? 200);
/** Decisions queued behind a retried event (made within its 10 s backoff). */
const BACKLOG = Number(process.env.BENCH_DELIVERY_BACKLOG ?? 100);
const log = (line: string) => console.error(`[bench] ${line}`);
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

export async function benchEvents(): Promise<Record<string, number>> {
  const stack = await deploy({ SWITCHYARD_MAX_STREAMS: String(STREAMS + 100), SWITCHYARD_ALLOW_PRIVATE_TARGETS: 'true' });
  try {
    const company = (await stack.admin.post('/api/companies', { name: 'bench' })).body;
    const issue = (await stack.admin.post(`/api/companies/${company.id}/issues`, { title: 'bench', status: 'todo' })).body;

    log(`${DECISIONS} comments, each followed to its event on one open stream`);
    const stream = await openStream(stack.url, stack.adminKey, { eventTypes: 'task.comment.created', taskId: issue.id });
    const request: number[] = [];
    const afterAnswer: number[] = [];
    const total: number[] = [];
    for (let i = 0; i < DECISIONS + 10; i++) {
      const sent = performance.now();
      const res = await stack.admin.post(`/api/issues/${issue.id}/comments`, { body: `c${i}` });
      const answered = performance.now();
      if (res.status !== 201) throw new Error(`comment answered ${res.status}`);
      await stream.waitFor(i + 1, 30_000);
      const arrived = performance.now();
      if (i < 10) continue; // warm-up
      request.push(answered - sent);
      afterAnswer.push(arrived - answered);
      total.push(arrived - sent);
    }
    stream.close();

    log(`opening ${STREAMS} streams`);
    const rssBefore = rssMb(stack.apiPid);
    const streams = await Promise.all(Array.from({ length: STREAMS }, () => openStream(stack.url, stack.adminKey, { eventTypes: 'task.comment.created', taskId: issue.id })));
    if (streams.some((s) => s.status !== 200)) throw new Error('a stream was refused');
    await new Promise((r) => setTimeout(r, 1000));
    const rssOpen = rssMb(stack.apiPid);
    const fanout: number[] = [];
    for (let i = 0; i < FANOUT_DECISIONS; i++) {
      await stack.admin.post(`/api/issues/${issue.id}/comments`, { body: `fan${i}` });
      const answered = performance.now();
      await Promise.all(streams.map((s) => s.waitFor(i + 1, 60_000)));
      fanout.push(performance.now() - answered);
    }
    const rssAfter = rssMb(stack.apiPid);
    for (const s of streams) s.close();

    const delivery = await benchDelivery(stack, company.id);

    const rows: Array<[string, ReturnType<typeof summarize>, string?]> = [
      ['comment request (floor: decision durable and answered)', summarize(request)],
      ['answer → event on the stream', summarize(afterAnswer), 'the stream\'s own cost'],
      ['request → event on the stream', summarize(total)],
      [`answer → event on all ${STREAMS} streams`, summarize(fanout)],
    ];
    printTable(rows);
    console.log(`API RSS: ${round(rssBefore, 0)} MB before, ${round(rssOpen, 0)} MB with ${STREAMS} streams open, ${round(rssAfter, 0)} MB after ${FANOUT_DECISIONS} decisions to all (${round(((rssOpen - rssBefore) * 1024) / STREAMS, 1)} KB per stream)`);
    const s = (x: number[]) => summarize(x);
    return {
      requestP50: round(s(request).p50), requestP99: round(s(request).p99),
      answerToEventP50: round(s(afterAnswer).p50), answerToEventP99: round(s(afterAnswer).p99),
      requestToEventP50: round(s(total).p50), requestToEventP99: round(s(total).p99),
      eventVsRequestP50: round(s(total).p50 / s(request).p50),
      fanoutP50: round(s(fanout).p50), fanoutP99: round(s(fanout).p99),
      streams: STREAMS, apiRssBeforeMb: round(rssBefore, 0), apiRssOpenMb: round(rssOpen, 0), apiRssAfterMb: round(rssAfter, 0),
      kbPerStream: round(((rssOpen - rssBefore) * 1024) / STREAMS, 1),
      ...delivery,
    };
  } finally {
    await stack.stop();
  }
}

/**
 * Subscriptions to a receiver in this process: a burst of decisions, then the time until each is
 * delivered (capped by the rate the decisions are made); then a backlog: the receiver answers each
 * subscription's first event 503 (retried 10 s later), a burst of decisions queues behind it, and the
 * drain is timed from that retry (or the last decision, if later) to the last delivery.
 */
async function benchDelivery(stack: Awaited<ReturnType<typeof deploy>>, companyId: string): Promise<Record<string, number>> {
  const got = new Map<string, number>();
  const held = new Set<string>();
  const released = new Map<string, number>();
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const sub = String(req.headers['x-agentrail-subscription-id']);
      if (held.has(sub)) {
        // A backlog subscription's first event: 503 once, so everything after it waits for its retry.
        if (!released.has(sub) && req.headers['x-agentrail-delivery-attempt'] === '1') return res.writeHead(503).end('{}');
        if (!released.has(sub)) released.set(sub, performance.now());
      }
      got.set(sub, (got.get(sub) ?? 0) + 1);
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
  const out: Record<string, number> = {};
  const comments = async (issueId: string, n: number, label: string) => {
    for (let i = 0; i < n; i += 10) {
      await Promise.all(Array.from({ length: Math.min(10, n - i) }, (_, j) => stack.admin.post(`/api/issues/${issueId}/comments`, { body: `${label} ${i + j}` })));
    }
  };
  const delivered = async (ids: string[], each: number) => {
    const deadline = Date.now() + 600_000;
    while (ids.some((id) => (got.get(id) ?? 0) < each)) {
      if (Date.now() > deadline) throw new Error('deliveries did not finish in 10 minutes');
      await new Promise((r) => setTimeout(r, 20));
    }
    return performance.now();
  };
  try {
    for (const backlog of [false, true]) {
      for (const subscriptions of [1, 10]) {
        const issue = (await stack.admin.post(`/api/companies/${companyId}/issues`, { title: `delivery ${subscriptions}${backlog ? ' backlog' : ''}`, status: 'todo' })).body;
        const ids: string[] = [];
        for (let i = 0; i < subscriptions; i++) {
          const sub = await stack.admin.post('/api/event-subscriptions', { companyId, url: `${url}/s${i}`, eventTypes: ['task.comment.created'], secret: 'bench-secret-0123456789', filters: { taskIds: [issue.id] } }, { 'idempotency-key': `bench-sub-${subscriptions}-${i}${backlog ? '-backlog' : ''}` });
          if (sub.status !== 201) throw new Error(`subscription answered ${sub.status}: ${JSON.stringify(sub.body)}`);
          ids.push(sub.body.data.id);
          if (backlog) held.add(sub.body.data.id);
        }
        if (!backlog) {
          log(`${BURST} comments delivered to ${subscriptions} subscription(s)`);
          const start = performance.now();
          await comments(issue.id, BURST, 'burst');
          const decided = performance.now() - start;
          const done = (await delivered(ids, BURST)) - start;
          const perSecond = (BURST * subscriptions) / (done / 1000);
          console.log(`delivery to ${subscriptions} subscription(s): ${BURST} decisions made in ${round(decided / 1000, 1)} s (${round(BURST / (decided / 1000), 1)}/s); all ${BURST * subscriptions} delivered ${round(done / 1000, 1)} s after the first (${round(perSecond, 1)} deliveries/s, ${round(done / decided)}× the decisions' time)`);
          out[`deliveriesPerSecond${subscriptions}`] = round(perSecond, 1);
          out[`deliveryVsDecisions${subscriptions}`] = round(done / decided);
        } else {
          log(`a backlog of ${BACKLOG} comments behind a retried event, drained to ${subscriptions} subscription(s)`);
          await comments(issue.id, 1, 'held');
          const start = performance.now();
          await comments(issue.id, BACKLOG, 'backlog');
          const decided = performance.now();
          const done = await delivered(ids, BACKLOG + 1);
          const from = Math.max(decided, ...ids.map((id) => released.get(id) ?? decided));
          const perSecond = (BACKLOG * subscriptions) / ((done - from) / 1000);
          console.log(`backlog drain to ${subscriptions} subscription(s): ${BACKLOG} decisions made in ${round((decided - start) / 1000, 1)} s (${round(BACKLOG / ((decided - start) / 1000), 1)}/s) behind a retried event; ${BACKLOG * subscriptions} delivered ${round((done - from) / 1000, 2)} s after its retry (${round(perSecond, 1)} deliveries/s)`);
          out[`backlogDeliveriesPerSecond${subscriptions}`] = round(perSecond, 1);
        }
        for (const id of ids) await stack.admin.request('DELETE', `/api/event-subscriptions/${id}`);
      }
    }
  } finally {
    receiver.close();
  }
  return out;
}
