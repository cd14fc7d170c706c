/**
 * One Octokit per credential (token or GitHub App installation), with the throttling and retry
 * plugins sharing one rate budget per credential. The base URL is configurable: GitHub Enterprise,
 * or the fake GitHub in tests.
 */
import { createHash } from 'node:crypto';
import { createAppAuth } from '@octokit/auth-app';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import Bottleneck from 'bottleneck';
import { logger } from '../../runtime/logger.js';

const GitHubOctokit = Octokit.plugin(throttling, retry);
export type GitHub = InstanceType<typeof GitHubOctokit>;

export type GitHubCredential =
  | { kind: 'token'; token: string }
  | { kind: 'app'; appId: number | string; privateKey: string; installationId: number };

export interface ClientOptions {
  baseUrl?: string;
  /** How many times a rate-limited request is retried (after the wait GitHub asks for). */
  rateLimitRetries?: number;
  /**
   * Space writes as GitHub asks of integrations (default): at least 1 s between writes and 3 s between
   * content-creating ones, per credential. `false` for servers with no such limit (the fake GitHub; a
   * GitHub Enterprise with its own limits): writes then run at once. Rate-limit answers are waited out either way.
   */
  spaceWrites?: boolean;
}

/** Limiters that let writes through at once (`spaceWrites: false`). */
let unspaced: { write: Bottleneck.Group; notifications: Bottleneck.Group } | undefined;

const clients = new Map<string, GitHub>();

function credentialKey(cred: GitHubCredential, baseUrl: string): string {
  const digest = (secret: string) => createHash('sha256').update(secret).digest('hex').slice(0, 16);
  // The secret is part of the key: a rotated token or app key gets its own client, never the old one.
  const who = cred.kind === 'token' ? digest(cred.token) : `app:${cred.appId}:${cred.installationId}:${digest(cred.privateKey)}`;
  return `${baseUrl}|${who}`;
}

export function githubClient(cred: GitHubCredential, opts: ClientOptions = {}): GitHub {
  const baseUrl = opts.baseUrl ?? 'https://api.github.com';
  const spaced = opts.spaceWrites ?? true;
  const key = `${credentialKey(cred, baseUrl)}${spaced ? '' : '|unspaced'}`;
  let client = clients.get(key);
  if (client) return client;
  const retries = opts.rateLimitRetries ?? 2;
  const auth = cred.kind === 'token'
    ? { auth: cred.token }
    : { authStrategy: createAppAuth, auth: { appId: cred.appId, privateKey: cred.privateKey, installationId: cred.installationId } };
  client = new GitHubOctokit({
    baseUrl,
    userAgent: 'switchyard',
    ...auth,
    // Octokit's request log repeats as raw text what the caller gets as an error (and turns into our codes): debug, as JSON.
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: (message: unknown) => logger.debug({ github: String(message) }, 'a GitHub request failed') },
    throttle: {
      // The budget (Bottleneck groups) is keyed by credential: every use of it waits its turn.
      id: key,
      ...(spaced ? {} : (unspaced ??= { write: new Bottleneck.Group({ maxConcurrent: null, minTime: 0 }), notifications: new Bottleneck.Group({ maxConcurrent: null, minTime: 0 }) })),
      // GitHub says how long to wait (retry-after / x-ratelimit-reset); the plugin waits exactly that.
      onRateLimit: (_after: number, _options: unknown, _octokit: unknown, retryCount: number) => retryCount < retries,
      onSecondaryRateLimit: (_after: number, _options: unknown, _octokit: unknown, retryCount: number) => retryCount < retries,
    },
    // Answers that will not change on retry are not retried (405/409 are merge verdicts; 501 is a missing route).
    retry: { doNotRetry: [400, 401, 403, 404, 405, 409, 410, 422, 451, 501] },
  });
  clients.set(key, client);
  return client;
}
