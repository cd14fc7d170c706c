/**
 * The AgentRail client a contract test drives: AgentRail's own TypeScript SDK when `AGENTRAIL_SDK`
 * names its `sdk/typescript/src/index.ts` (source-available, never vendored here), otherwise the small
 * client written from the reference (agentrail-client.ts), so the same scenarios always run.
 */
import { pathToFileURL } from 'node:url';
import * as reference from './agentrail-client.js';

export interface AgentRail {
  source: 'sdk' | 'reference';
  client(baseUrl: string, apiKey: string): any;
  /** The error class every refusal is an instance of (statusCode, code, details, availableActions). */
  ErrorType: new (...args: any[]) => Error & { statusCode: number; code: string; details: Record<string, any>; availableActions: string[] };
  verifyWebhookSignature(rawBody: string | Buffer, secret: string, signature: string): boolean;
  parseWebhookEvent(rawBody: string | Buffer, secret: string, headers: Record<string, string>): any;
}

export async function loadAgentRail(): Promise<AgentRail> {
  const path = process.env.AGENTRAIL_SDK;
  const retry = { initialDelayMs: 100, maxDelayMs: 500 };
  if (path) {
    const sdk = (await import(pathToFileURL(path).href)) as any;
    return {
      source: 'sdk',
      client: (baseUrl, apiKey) => new sdk.AgentRailClient({ baseUrl, apiKey, retry }),
      ErrorType: sdk.AgentRailError,
      verifyWebhookSignature: sdk.verifyWebhookSignature,
      parseWebhookEvent: sdk.parseWebhookEvent,
    };
  }
  return {
    source: 'reference',
    client: (baseUrl, apiKey) => new reference.ReferenceClient({ baseUrl, apiKey, retry }),
    ErrorType: reference.ClientError,
    verifyWebhookSignature: reference.verifyWebhookSignature,
    parseWebhookEvent: reference.parseWebhookEvent,
  };
}
