/** `/_control/*`: the fake's control surface over HTTP, for the standalone server and demos. */
import { FakeError, type FakeCircleCI } from './fake.js';

type Reply = { status: number; body: unknown };

export async function controlRoute(fake: FakeCircleCI, method: string, path: string, body: () => Promise<unknown>): Promise<Reply> {
  const ok = (b: unknown = {}): Reply => ({ status: 201, body: b });
  try {
    const b = ((method === 'POST' ? await body() : undefined) ?? {}) as any;
    switch (`${method} ${path}`) {
      case 'POST /tokens':
        fake.addToken(String(b.token));
        return ok();
      case 'POST /pipelines':
        return ok(await fake.createPipeline(b));
      case 'POST /jobs':
        await fake.setJob(b.projectSlug, Number(b.pipelineNumber), b.workflowName, b.jobName, { status: b.status, tests: b.tests });
        return ok();
      case 'POST /subscriptions':
        return ok(fake.subscribe({ url: b.url, secret: b.secret, projectSlug: b.projectSlug }));
      case 'POST /inject':
        fake.inject({ status: b.status, times: b.times, retryAfter: b.retryAfter });
        return ok();
      case 'POST /redeliver':
        return ok({ status: await fake.redeliver(String(b.eventId)) });
      case 'POST /rerun-outcome':
        fake.rerunOutcome = b.outcome ?? null;
        return ok();
      case 'POST /page-size':
        fake.pageSize = Math.max(1, Number(b.size));
        return ok();
      case 'GET /deliveries':
        return { status: 200, body: fake.hooks.deliveries };
      case 'GET /reruns':
        return { status: 200, body: fake.reruns };
      case 'GET /violations':
        return { status: 200, body: fake.violations };
      default:
        return { status: 501, body: { message: `fake-circleci: control route not implemented: ${method} /_control${path}` } };
    }
  } catch (err) {
    return { status: err instanceof FakeError ? err.status : 400, body: { message: (err as Error).message } };
  }
}
