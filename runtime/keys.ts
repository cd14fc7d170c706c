/** API keys are kept only as their SHA-256 hash (agent keys, minted keys and run tokens alike). */
import { createHash, createHmac, randomBytes } from 'node:crypto';

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** AgentRail's id shape: a prefix and 20 hex characters. */
export const newKeyId = () => `akey_${randomBytes(10).toString('hex')}`;

/** A secret: our prefix and 43 base64url characters (32 bytes), AgentRail's `ar_live_` shape. */
export const newKeySecret = () => `sy_live_${randomBytes(32).toString('base64url')}`;

/**
 * A secret derived from the server's secret key and a seed (an Idempotency-Key and what it was sent
 * with), so a replayed create shows the same secret again without it ever being stored. Separated from
 * the key that seals credentials (runtime/secrets.ts) by its own label.
 */
export function derivedKey(secretKey: string, seed: string): { id: string; secret: string } {
  const root = createHash('sha256').update(`switchyard:agent-api-keys:v1\u0000${secretKey}`).digest();
  const mac = (label: string) => createHmac('sha256', root).update(`${label}\u0000${seed}`).digest();
  return { id: `akey_${mac('id').toString('hex').slice(0, 20)}`, secret: `sy_live_${mac('secret').toString('base64url')}` };
}
