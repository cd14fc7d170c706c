/** GitHub App installations: a JWT signed with the app's private key buys an installation token. */
import { createPublicKey, createVerify, randomBytes } from 'node:crypto';
import { FakeError } from './fake.js';

export class FakeApps {
  private readonly keys = new Map<string, string>();
  readonly issuedTokens = new Map<string, number>();
  /** The Authorization header of every API request, newest last. */
  readonly authorizations: string[] = [];

  register(appId: number | string, publicKeyPem: string): void {
    this.keys.set(String(appId), createPublicKey(publicKeyPem).export({ type: 'spki', format: 'pem' }).toString());
  }

  /** Verifies `Authorization: Bearer <RS256 JWT>` (iss = app id, not expired) and issues a token. */
  issueToken(authorization: string | undefined, installationId: number) {
    const jwt = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1];
    if (!jwt) throw unauthorized('A JSON web token could not be decoded');
    const [header, payload, signature] = jwt.split('.');
    if (!header || !payload || !signature) throw unauthorized('A JSON web token could not be decoded');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const key = this.keys.get(String(claims.iss));
    if (!key) throw unauthorized(`Integration not found for iss ${claims.iss}`);
    const ok = createVerify('RSA-SHA256').update(`${header}.${payload}`).verify(key, Buffer.from(signature, 'base64url'));
    if (!ok) throw unauthorized("'Issued at' claim or signature is invalid");
    if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) throw unauthorized("'Expiration time' claim ('exp') is too far in the past");
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    this.issuedTokens.set(token, installationId);
    return { token, expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: { issues: 'write', pull_requests: 'write', checks: 'read', statuses: 'read', contents: 'write' }, repository_selection: 'all' };
  }
}

function unauthorized(message: string): FakeError {
  return new FakeError(401, { message, documentation_url: 'https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app', status: '401' });
}
