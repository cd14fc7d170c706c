import { MIN_LEASE_SECONDS } from '../domain/leases.js';

/** Configuration from the environment, read once. Every entry point (api, worker, start) uses this. */
export interface Config {
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
  databaseUrl: string | undefined;
  port: number;
  /** Interface the API listens on: loopback unless told otherwise (docker-compose sets 0.0.0.0). */
  host: string;
  adminKey: string | undefined;
  /** Deadline for every call the facade makes to Temporal. */
  temporalCallTimeoutMs: number;
  /** Lower bound for leaseSeconds; 30 in production, lowered only by tests and demos. */
  minLeaseSeconds: number;
  /** Continue-as-new after this many history events (tests use a small value). */
  continueAsNewAfterEvents: number | undefined;
  /** How often the reconciler Schedule runs (0: no schedule). */
  reconcileEveryMinutes: number;
  logLevel: string;
  /** Encrypts source credentials, webhook secrets and wake targets at rest (npm start generates one). */
  secretKey: string | undefined;
  /** Where agents woken in managed local mode reach the API (SWITCHYARD_URL in their environment). */
  publicUrl: string | undefined;
  /** How long the API key minted for one process wake (managed local mode) is accepted. */
  runTokenTtlSeconds: number;
  /**
   * Workflows kept in the worker's sticky cache (README "Sizing"): beyond it the least recently used is
   * evicted and replayed from its history when it next has work.
   */
  maxCachedWorkflows: number;
  /** Space GitHub writes as GitHub asks (true), or not (false: SWITCHYARD_GITHUB_WRITE_SPACING=none, for the fake GitHub). */
  githubSpaceWrites: boolean;
  /** How long the task event log keeps events (README "Task events"): a stream cursor older than this has expired. */
  eventRetentionDays: number;
  /** Open event streams one API key may hold on one API process, and all streams on one process. */
  maxStreamsPerKey: number;
  maxStreams: number;
  /**
   * Event subscriptions may deliver to loopback, link-local and private addresses (README "Event
   * subscriptions": off by default, since an agent could otherwise make the worker POST into the
   * operator's network). SWITCHYARD_ALLOW_PRIVATE_TARGETS=true; tests set it.
   */
  allowPrivateTargets: boolean;
  /**
   * Active event subscriptions one company may hold (SWITCHYARD_MAX_SUBSCRIPTIONS_PER_COMPANY, 25). Each
   * is its own delivery workflow holding at most one of a worker's 100 webhook slots at a time, so one
   * company (one agent, following whatever text is in front of it) cannot fill them all or fan each
   * event out without bound.
   */
  maxSubscriptionsPerCompany: number;
  /** Live keys an agent may mint for itself (each has its own rate window: without a cap, minting would multiply the agent's rate). */
  maxKeysPerAgent: number;
  /**
   * Tests only (never read from the environment): a faster schedule for webhook retries than
   * AgentRail's 10 s ×3 up to an hour, so a retry test takes seconds. Attempts stay at 8.
   */
  webhookRetry?: { initialIntervalMs: number; maximumIntervalMs: number };
}

function int(name: string, fallback: number | undefined): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

export function loadConfig(env = process.env): Config {
  return {
    temporalAddress: env.TEMPORAL_ADDRESS || '127.0.0.1:7233',
    temporalNamespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.SWITCHYARD_TASK_QUEUE || 'switchyard-tasks',
    databaseUrl: env.DATABASE_URL || undefined,
    port: int('PORT', 3000)!,
    host: env.HOST || '127.0.0.1',
    adminKey: env.SWITCHYARD_ADMIN_KEY || undefined,
    temporalCallTimeoutMs: int('SWITCHYARD_TEMPORAL_TIMEOUT_MS', 10_000)!,
    minLeaseSeconds: int('SWITCHYARD_MIN_LEASE_SECONDS', MIN_LEASE_SECONDS)!,
    continueAsNewAfterEvents: int('SWITCHYARD_CONTINUE_AS_NEW_EVENTS', undefined),
    reconcileEveryMinutes: int('SWITCHYARD_RECONCILE_EVERY_MINUTES', 5)!,
    logLevel: env.LOG_LEVEL || 'info',
    secretKey: env.SWITCHYARD_SECRET_KEY || undefined,
    publicUrl: env.SWITCHYARD_PUBLIC_URL || undefined,
    runTokenTtlSeconds: int('SWITCHYARD_RUN_TOKEN_TTL_SECONDS', 3600)!,
    maxCachedWorkflows: int('SWITCHYARD_MAX_CACHED_WORKFLOWS', 1000)!,
    githubSpaceWrites: (env.SWITCHYARD_GITHUB_WRITE_SPACING || 'github') !== 'none',
    eventRetentionDays: int('SWITCHYARD_EVENT_RETENTION_DAYS', 7)!,
    maxStreamsPerKey: int('SWITCHYARD_MAX_STREAMS_PER_KEY', 10)!,
    maxStreams: int('SWITCHYARD_MAX_STREAMS', 2000)!,
    allowPrivateTargets: env.SWITCHYARD_ALLOW_PRIVATE_TARGETS === 'true',
    maxSubscriptionsPerCompany: int('SWITCHYARD_MAX_SUBSCRIPTIONS_PER_COMPANY', 25)!,
    maxKeysPerAgent: int('SWITCHYARD_MAX_KEYS_PER_AGENT', 20)!,
  };
}

export function requireDatabaseUrl(config: Config): string {
  if (!config.databaseUrl) throw new Error('DATABASE_URL is not set (npm start sets it for you; npm run api/worker/migrate need it)');
  return config.databaseUrl;
}
