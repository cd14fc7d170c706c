/** The Express facade: parsing, auth, run ids, one router per resource, one error mapper. */
import express from 'express';
import { DomainError } from '../domain/errors.js';
import { authenticate, enforceKeyAdmission, requireRunId } from './auth.js';
import { narrowActionsToScopes } from './narrow-actions.js';
import { setDeadline } from './deadline.js';
import type { ApiDeps } from './deps.js';
import { errorHandler } from './errors.js';
import { openApiDocument } from './openapi.js';
import { companiesRouter } from './routes/companies.js';
import { healthRouter } from './routes/health.js';
import { issueActionsRouter } from './routes/issue-actions.js';
import { issueThreadRouter } from './routes/issue-thread.js';
import { issuesRouter } from './routes/issues.js';
import { refuseUnstorableText } from './text-safety.js';
import { agentWakesRouter } from './routes/agent-wakes.js';
import { goalsRouter } from './routes/goals.js';
import { documentsRouter } from './routes/documents.js';
import { interactionsRouter } from './routes/interactions.js';
import { heartbeatRouter } from './routes/heartbeat.js';
import { routingRouter } from './routes/routing.js';
import { sourcesRouter } from './routes/sources.js';
import { tasksRouter } from './routes/tasks.js';
import { webhooksRouter } from './routes/webhooks.js';
import { linearTasksRouter, linearWebhooksRouter } from './routes/linear.js';
import { circleciRouter } from './routes/circleci.js';
import { taskEventsRouter } from './routes/task-events.js';
import { agentApiKeysRouter } from './routes/agent-api-keys.js';
import { eventSubscriptionsRouter } from './routes/event-subscriptions.js';

export function createApp(deps: ApiDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(healthRouter(deps));
  app.get('/api/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
  // Room for a 64 KB comment plus JSON escaping; the comment cap itself is checked per field.
  app.use(setDeadline(deps.config.temporalCallTimeoutMs));
  // Signed over the raw bytes, with the source's secret instead of an API key: before the JSON parser and auth.
  app.use(webhooksRouter(deps));
  app.use(linearWebhooksRouter(deps));
  app.use(circleciRouter(deps));
  // A document body may be 512 KiB of text, which JSON escaping can grow up to six times (\u0001).
  app.put('/api/issues/:issueId/documents/:key', express.json({ limit: '3200kb', strict: true, type: () => true }));
  app.use(express.json({ limit: '512kb', strict: true, type: () => true }));
  app.use('/api', authenticate(deps.pool, deps.adminKey), enforceKeyAdmission, narrowActionsToScopes, requireRunId, refuseUnstorableText);
  app.use(companiesRouter(deps));
  app.use(issuesRouter(deps));
  app.use(issueActionsRouter(deps));
  app.use(issueThreadRouter(deps));
  app.use(tasksRouter(deps));
  app.use(linearTasksRouter(deps));
  app.use(sourcesRouter(deps));
  app.use(routingRouter(deps));
  app.use(agentWakesRouter(deps));
  app.use(goalsRouter(deps));
  app.use(heartbeatRouter(deps));
  app.use(documentsRouter(deps));
  app.use(interactionsRouter(deps));
  app.use(taskEventsRouter(deps));
  app.use(agentApiKeysRouter(deps));
  app.use(eventSubscriptionsRouter(deps));
  app.use('/api', () => {
    throw new DomainError('not_found', 'No such route');
  });
  // Outside /api: most often an AgentRail client given AgentRail's own baseUrl (without /api). Say where the API is.
  app.use((req) => {
    throw new DomainError('not_found', `No such route: ${req.method} ${req.path}. Switchyard's API is under /api: an AgentRail client's baseUrl is http://<host>:<port>/api`, { path: req.path });
  });
  app.use(errorHandler);
  return app;
}
