/**
 * Secrets at rest: AES-256-GCM with a key from SWITCHYARD_SECRET_KEY (any string; hashed to 32 bytes),
 * or the key `npm start` generates into `.switchyard/secret-key`. A sealed value is
 * `v1.<iv>.<tag>.<ciphertext>` (base64url); tampering or another key fails loudly on open.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { DomainError } from '../domain/errors.js';

export class SecretBox {
  private readonly key: Buffer;

  constructor(secret: string) {
    if (!secret) throw new Error('SWITCHYARD_SECRET_KEY is empty');
    this.key = createHash('sha256').update(secret).digest();
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  /** `what` names the secret's owner in the error (a source, an agent's wake target). */
  open(sealed: string, what = 'a stored secret'): string {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error(`${what} is not a sealed secret`);
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      // GCM's own message ("Unsupported state or unable to authenticate data") names neither cause nor cure.
      throw new Error(`${what} was sealed with another SWITCHYARD_SECRET_KEY: set the key it was sealed with (npm start keeps it in .switchyard/secret-key), or enter the secret again`);
    }
  }
}

/** The box for this process, or a clear refusal when no key is configured. */
export function secretBox(secretKey: string | undefined): SecretBox {
  if (!secretKey) {
    throw new DomainError('internal_error', 'SWITCHYARD_SECRET_KEY is not set: sources and wake targets need it to encrypt their secrets (npm start generates one)');
  }
  return new SecretBox(secretKey);
}
