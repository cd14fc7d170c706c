/** `npm run fake-linear`: the fake standalone, for a person to point Switchyard at. Port: FAKE_LINEAR_PORT, default 48090. */
import { startFakeLinear } from './server.js';

const running = await startFakeLinear({ port: Number(process.env.FAKE_LINEAR_PORT ?? 48090) });
const apiKey = running.fake.addApiKey(process.env.FAKE_LINEAR_API_KEY || undefined, 'Demo User');
running.fake.createTeam({ key: 'ENG', name: 'Engineering' });
const c = `${running.origin}/_control`;
console.log(`fake Linear on ${running.url}
  apiUrl:   ${running.url}   (LinearClient({ apiKey, apiUrl }); header "Authorization: <key>", no Bearer)
  api key:  ${apiKey}
  team:     ENG (Triage, Backlog, Todo, In Progress, In Review, Blocked, Done, Canceled)
  control:  POST ${c}/issues {teamKey, title, description?, priority?, labels?, stateName?}
            POST ${c}/issues/:idOrIdentifier {title?, description?, priority?, labels?, stateName?, teamKey?}
            POST ${c}/issues/:idOrIdentifier/remove
            GET  ${c}/issues/:idOrIdentifier
            POST ${c}/comments {issueId, body, userName?}
            POST ${c}/subscriptions {url, secret, teamKey?}      (signed webhooks on every change)
            GET  ${c}/deliveries     POST ${c}/deliveries/:id/redeliver
            POST ${c}/inject {kind: ratelimited|auth|server, times, resetInMs?, apiKey?}
            POST ${c}/teams {key, name}   POST ${c}/users {name}   POST ${c}/api-keys {apiKey?, userName?}
            GET  ${c}/requests   GET ${c}/violations
Ctrl-C stops it.`);
const stop = () => running.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
