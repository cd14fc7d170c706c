/**
 * The fake Linear over HTTP on 127.0.0.1: POST /graphql executed by graphql-js against Linear's SDL
 * (schema-sdk-88.3.0.graphql, matching the pinned @linear/sdk), and /_control/* for tests and demos.
 *
 * Every request is parsed and validated against the schema before anything else; an invalid document is
 * recorded in `violations` and answered with the GraphQL errors. Failures are shaped so the SDK's
 * parseLinearError classifies them as Linear's would be: it reads `errors[0].extensions.type` first
 * ("ratelimited", "authentication error", "invalid input", "graphql error", "internal error") and the
 * HTTP status only when there is no GraphQL error. The fake answers GraphQL-level refusals with HTTP 400
 * (as Linear does for user errors); the class the SDK picks depends on `type`, not on that status.
 * Rate limits carry Linear's documented headers (X-RateLimit-Requests-{Limit,Remaining,Reset}, reset in
 * epoch milliseconds, and the complexity trio), which the SDK copies onto RatelimitedLinearError.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { makeExecutableSchema } from '@graphql-tools/schema';
import express from 'express';
import { execute, GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { controlRouter } from './control.js';
import { FakeLinear, type Injection, type RequestRecord } from './fake.js';
import { fallbackResolver, resolvers } from './resolvers.js';

let schemaOnce: GraphQLSchema | undefined;
/** Building the executable schema takes ~1 s; every fake in a process shares it (resolvers are stateless). */
export function linearSchema(): GraphQLSchema {
  return (schemaOnce ??= makeExecutableSchema({ typeDefs: readFileSync(new URL('./schema-sdk-88.3.0.graphql', import.meta.url), 'utf8'), resolvers }));
}

export interface RunningFakeLinear {
  /** http://127.0.0.1:PORT/graphql: the `apiUrl` for LinearClient. */
  url: string;
  origin: string;
  fake: FakeLinear;
  close(): Promise<void>;
}

type Reply = { status: number; body: unknown; headers?: Record<string, string>; outcome: RequestRecord['outcome'] };

const gqlError = (message: string, extensions: Record<string, unknown>) => ({ message, extensions });

function injectedReply(i: Injection, now: number): Reply {
  if (i.kind === 'ratelimited') {
    // One window per injection: every limited answer names the same reset, as a real window would.
    i.resetAt ??= now + (i.resetInMs ?? 1000);
    const reset = String(i.resetAt);
    return {
      status: 400,
      outcome: 'injected:ratelimited',
      headers: {
        'x-ratelimit-requests-limit': '5000', 'x-ratelimit-requests-remaining': '0', 'x-ratelimit-requests-reset': reset,
        'x-ratelimit-complexity-limit': '3000000', 'x-ratelimit-complexity-remaining': '2999000', 'x-ratelimit-complexity-reset': reset,
      },
      body: { errors: [gqlError('Rate limit exceeded', { type: 'ratelimited', code: 'RATELIMITED', statusCode: 429, userError: true, userPresentableMessage: 'Too many requests. Please try again later.' })] },
    };
  }
  if (i.kind === 'auth') return unauthenticated('injected:auth');
  return { status: 500, outcome: 'injected:server', body: { errors: [gqlError('Internal server error', { type: 'internal error', code: 'INTERNAL_SERVER_ERROR', statusCode: 500, userError: false })] } };
}

function unauthenticated(outcome: RequestRecord['outcome']): Reply {
  return {
    status: 400,
    outcome,
    body: { errors: [gqlError('Authentication required, not authenticated', { type: 'authentication error', code: 'AUTHENTICATION_ERROR', statusCode: 401, userError: true, userPresentableMessage: 'You need to authenticate to access this operation.' })] },
  };
}

export async function startFakeLinear(opts: { port?: number; urlKey?: string } = {}): Promise<RunningFakeLinear> {
  const fake = new FakeLinear(linearSchema(), { urlKey: opts.urlKey });
  const app = express();
  app.use(express.json({ limit: '5mb' }));
  app.use('/_control', controlRouter(fake));

  app.post('/graphql', async (req, res) => {
    const at = Date.now();
    const apiKey = req.header('authorization') ?? null;
    const query = typeof req.body?.query === 'string' ? req.body.query : '';
    const variables = (req.body?.variables ?? {}) as Record<string, unknown>;
    const operationName = typeof req.body?.operationName === 'string' ? req.body.operationName : null;
    const reply = await answer(fake, { apiKey, query, variables, operationName, at });
    fake.requests.push({ at, apiKey, operationName: operationName ?? /(?:query|mutation)\s+(\w+)/.exec(query)?.[1] ?? null, query, variables, status: reply.status, outcome: reply.outcome });
    res.set(reply.headers ?? {}).status(reply.status).json(reply.body);
  });

  app.use((req, res) => {
    res.status(404).json({ errors: [gqlError(`fake-linear: no route ${req.method} ${req.path} (the API is POST /graphql)`, { type: 'unknown', code: 'NOT_FOUND' })] });
  });

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(opts.port ?? 0, '127.0.0.1', () => resolve(s));
  });
  server.keepAliveTimeout = 65_000;
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: `${origin}/graphql`,
    origin,
    fake,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

async function answer(fake: FakeLinear, r: { apiKey: string | null; query: string; variables: Record<string, unknown>; operationName: string | null; at: number }): Promise<Reply> {
  let document: DocumentNode;
  try {
    document = parse(r.query);
  } catch (err) {
    const e = err as GraphQLError;
    fake.violations.push({ kind: 'document', detail: r.query.slice(0, 200), errors: [e.message] });
    return { status: 400, outcome: 'invalid', body: { errors: [{ message: e.message, locations: e.locations, extensions: { type: 'graphql error', code: 'GRAPHQL_PARSE_FAILED', userError: true } }] } };
  }
  const invalid = validate(fake.schema, document);
  if (invalid.length) {
    fake.violations.push({ kind: 'document', detail: r.query.slice(0, 200), errors: invalid.map((e) => e.message) });
    return { status: 400, outcome: 'invalid', body: { errors: invalid.map((e) => ({ message: e.message, locations: e.locations, extensions: { type: 'graphql error', code: 'GRAPHQL_VALIDATION_FAILED', userError: true } })) } };
  }
  const injection = fake.injected.find((i) => i.times > 0 && (!i.apiKey || i.apiKey === r.apiKey));
  if (injection) {
    injection.times--;
    if (injection.times === 0) fake.injected.splice(fake.injected.indexOf(injection), 1);
    return injectedReply(injection, r.at);
  }
  const viewer = r.apiKey ? fake.users.get(fake.apiKeys.get(r.apiKey) ?? '') : undefined;
  if (!viewer) return unauthenticated('unauthenticated');
  const result = await execute({ schema: fake.schema, document, variableValues: r.variables, operationName: r.operationName, contextValue: { fake, viewer }, fieldResolver: fallbackResolver });
  for (const e of result.errors ?? []) {
    if (e.extensions?.code === 'FAKE_NOT_MODELLED') fake.violations.push({ kind: 'fake', detail: e.message, errors: [e.path?.join('.')] });
    else if (e.originalError && !(e.originalError instanceof GraphQLError)) fake.violations.push({ kind: 'fake', detail: e.message, errors: [e.originalError.stack] });
  }
  if (!result.errors?.length) return { status: 200, outcome: 'ok', body: { data: result.data } };
  const errors = result.errors.map((e) => ({ message: e.message, path: e.path, locations: e.locations, extensions: e.extensions?.type ? e.extensions : { ...e.extensions, type: 'internal error', code: 'INTERNAL_SERVER_ERROR' } }));
  return { status: result.data ? 200 : 400, outcome: 'errors', body: { data: result.data ?? null, errors } };
}
