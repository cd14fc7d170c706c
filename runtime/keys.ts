/** API keys are kept only as their SHA-256 hash (agent keys and run tokens alike). */
import { createHash } from 'node:crypto';

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');
