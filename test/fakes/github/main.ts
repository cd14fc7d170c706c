/** `npm run fake-github`: the fake standalone, for a person to point Switchyard at. PORT defaults to 4010. */
import { startFakeGitHub } from './server.js';

const running = await startFakeGitHub(Number(process.env.FAKE_GITHUB_PORT ?? 4010));
const owner = process.env.FAKE_GITHUB_OWNER ?? 'acme';
await running.fake.createRepo(owner, 'demo');
console.log(`fake GitHub on ${running.url}
  REST base URL:  ${running.url}        GraphQL: ${running.url}/graphql
  repository:     ${owner}/demo (default branch main)
  control:        POST ${running.url}/_fake/repos {owner, name}
                  POST ${running.url}/_fake/repos/${owner}/demo/commits {branch, files, message}
                  POST ${running.url}/_fake/repos/${owner}/demo/issues {title, body, labels}
                  POST ${running.url}/_fake/repos/${owner}/demo/check-runs {sha, name, status, conclusion}
                  POST ${running.url}/_fake/repos/${owner}/demo/statuses {sha, state, context}
                  POST ${running.url}/_fake/repos/${owner}/demo/pulls/:n/reviews {user, state, body}
                  POST ${running.url}/_fake/repos/${owner}/demo/pulls/:n/comments {user, path, line, body}
                  POST ${running.url}/_fake/repos/${owner}/demo/issues/:n {title?, body?, labels?, state?}
                  POST ${running.url}/_fake/hooks {url, secret}
                  POST ${running.url}/_fake/rate-limit {kind: primary|secondary, retryAfterSeconds}
                  POST ${running.url}/_fake/outage {count?, status?} (count 0 ends it)
  inspect:        GET ${running.url}/repos/${owner}/demo/issues/:n, /pulls/:n, /issues?state=all (the html_url links it
                  hands out name things; the fake serves only the REST API)
Ctrl-C stops it.`);
const stop = () => running.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
