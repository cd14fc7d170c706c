/**
 * Agent API keys on the command line (issue 15 §4): create, list, rotate, revoke, usage. The operator's
 * key by default (or any key given with --key: one holding auth:admin manages its company's keys).
 */
import type { Command } from 'commander';
import type { ApiClient } from './api-client.js';
import { keyOf } from './delivery.js';

const list = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean);
const int = (v: string) => Number(v);

export function registerKeyCommands(program: Command, operator: () => ApiClient): void {
  const keys = program.command('keys').description('agent API keys: scopes, rate limits, rotation, usage (docs/keys.md)');
  const rateLimit = (o: { window?: number; max?: number }) => (o.window !== undefined || o.max !== undefined ? { rateLimit: { windowSeconds: o.window ?? 60, maxRequests: o.max ?? 600 } } : {});

  keys
    .command('create <agentId>')
    .description('a key for one of our agents (its UUID); the secret is printed this once')
    .requiredOption('--scopes <list>', 'e.g. tasks:read,tasks:write,ci:read', list)
    .option('--window <seconds>', 'rate window, 10-3600 (default 60)', int)
    .option('--max <requests>', 'requests per window, 1-10000 (default 600)', int)
    .option('--expires-at <time>', 'ISO 8601')
    .option('--display-name <name>')
    .option('--role <role>')
    .option('--idempotency-key <key>', 'retry with the same key to get the same key and secret again')
    .action(async (agentId: string, o: { scopes: string[]; window?: number; max?: number; expiresAt?: string; displayName?: string; role?: string; idempotencyKey?: string }) =>
      operator().print('POST', '/api/agent-api-keys', {
        agent: { id: agentId, ...(o.displayName ? { displayName: o.displayName } : {}), ...(o.role ? { role: o.role } : {}) },
        scopes: o.scopes, ...rateLimit(o), ...(o.expiresAt ? { expiresAt: o.expiresAt } : {}),
      }, keyOf(o.idempotencyKey)),
    );

  keys
    .command('list')
    .description('keys, newest first (never a secret)')
    .option('--company <companyId>')
    .option('--agent <agentId>')
    .option('--status <status>', 'active | rotated | revoked | expired')
    .option('--kind <kind>', 'agent_key | api_key | run_token')
    .action(async (o: { company?: string; agent?: string; status?: string; kind?: string }) => {
      const q = new URLSearchParams();
      if (o.company) q.set('companyId', o.company);
      if (o.agent) q.set('agentId', o.agent);
      if (o.status) q.set('status', o.status);
      if (o.kind) q.set('kind', o.kind);
      await operator().print('GET', `/api/agent-api-keys${q.size ? `?${q}` : ''}`);
    });

  keys
    .command('rotate <keyId>')
    .description('a new key in place of this one; the old one stops at once, or after --grace')
    .option('--grace <seconds>', 'how long the old key keeps working (0-86400)', int)
    .option('--scopes <list>', 'new scopes (default: the old key\'s)', list)
    .option('--window <seconds>', '', int)
    .option('--max <requests>', '', int)
    .option('--expires-at <time>', 'ISO 8601 (default: the old key\'s)')
    .option('--idempotency-key <key>')
    .action(async (id: string, o: { grace?: number; scopes?: string[]; window?: number; max?: number; expiresAt?: string; idempotencyKey?: string }) =>
      operator().print('POST', `/api/agent-api-keys/${encodeURIComponent(id)}/rotate`, {
        ...(o.grace !== undefined ? { graceSeconds: o.grace } : {}), ...(o.scopes ? { scopes: o.scopes } : {}), ...rateLimit(o), ...(o.expiresAt ? { expiresAt: o.expiresAt } : {}),
      }, keyOf(o.idempotencyKey)),
    );

  keys.command('revoke <keyId>').description('the key stops at once').action(async (id: string) => operator().print('DELETE', `/api/agent-api-keys/${encodeURIComponent(id)}`));
  keys.command('usage <keyId>').description('accepted and denied calls by scope and operation, and the current window').action(async (id: string) => operator().print('GET', `/api/agent-api-keys/${encodeURIComponent(id)}/usage`));
}
