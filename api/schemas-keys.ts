/** Agent API key requests (AgentRail's bodies; strict like every other). */
import { z } from 'zod';

const text = (max: number) => z.string().max(max);
/** Any date a client may send (AgentRail takes any parseable one), kept to years Postgres and ISO agree on. */
const when = z
  .string()
  .max(100)
  .refine((s) => {
    const t = Date.parse(s);
    return !Number.isNaN(t) && new Date(t).getUTCFullYear() >= 1970 && new Date(t).getUTCFullYear() <= 9999;
  }, 'must be a date (ISO 8601), years 1970 to 9999');

export const rateLimit = z.strictObject({
  windowSeconds: z.number().int().min(10).max(3600),
  maxRequests: z.number().int().min(1).max(10_000),
});
const scopes = z.array(z.string().max(100)).min(1).max(50);

export const createAgentKey = z.strictObject({
  /** agent.id is a Switchyard agent's id (a UUID); AgentRail's agt_ ids name nothing here. */
  agent: z.strictObject({
    id: text(200),
    displayName: text(200).optional(),
    role: text(100).optional(),
    externalIdentities: z.array(z.strictObject({ provider: text(100), subject: text(200) })).max(20).optional(),
  }),
  scopes,
  rateLimit: rateLimit.optional(),
  expiresAt: when.nullable().optional(),
});

export const rotateAgentKey = z.strictObject({
  expiresAt: when.nullable().optional(),
  scopes: scopes.optional(),
  rateLimit: rateLimit.optional(),
  /** How long the rotated key keeps working; 0 (the default): it stops at once. */
  graceSeconds: z.number().int().min(0).max(86_400).optional(),
});

export const listAgentKeys = z.strictObject({
  companyId: z.string().uuid().optional(),
  agentId: z.string().uuid().optional(),
  status: z.enum(['active', 'rotated', 'revoked', 'expired']).optional(),
  kind: z.enum(['agent_key', 'api_key', 'run_token']).optional(),
  limit: z.string().regex(/^[0-9]{1,3}$/).optional(),
});
