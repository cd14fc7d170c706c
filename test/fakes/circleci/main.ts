/** `npm run fake-circleci`: the fake standalone, with its clock on, for a person to point Switchyard at. */
import { randomBytes } from 'node:crypto';
import { startFakeCircleCI } from './server.js';

const running = await startFakeCircleCI({ port: Number(process.env.FAKE_CIRCLECI_PORT ?? 48080) });
const token = process.env.FAKE_CIRCLECI_TOKEN ?? `CCIPAT_fake_${randomBytes(12).toString('hex')}`;
running.fake.addToken(token);
running.fake.startClock();
const c = `${running.url}/_control`;
console.log(`fake CircleCI on ${running.url}
  API base URL:   ${running.apiUrl}   (CircleCI's own client: CIRCLECI_BASE_URL=${running.url})
  token:          Circle-Token: ${token}
  clock:          jobs created queued start after 1 s and reach their status 4 s later
  webhooks:       POST ${c}/subscriptions {url, secret, projectSlug?}; each delivery carries
                  circleci-signature: v1=<hex HMAC-SHA256(secret, raw body)> and circleci-event-type
  control:        POST ${c}/pipelines {projectSlug: "gh/acme/demo", branch, revision,
                                       workflows: [{name, jobs: [{name, status?, tests?}]}]}
                  POST ${c}/jobs {projectSlug, pipelineNumber, workflowName, jobName, status, tests?}
                  POST ${c}/inject {status: 401|429|500, times, retryAfter?}
                  POST ${c}/rerun-outcome {outcome: "success"|"failed"|null}
                  POST ${c}/redeliver {eventId}     POST ${c}/tokens {token}     POST ${c}/page-size {size}
  inspect:        GET ${c}/deliveries, ${c}/reruns, ${c}/violations
Ctrl-C stops it.`);
const stop = () => running.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
