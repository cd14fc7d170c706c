/** Webhook deliveries as GitHub sends them: schema-checked payload, raw body signed with HMAC-SHA256. */
import { createHmac, randomUUID } from 'node:crypto';
import type { WebhookSchemas } from './schema.js';

export interface Subscription {
  url: string;
  secret: string;
}

export interface Delivery {
  id: string;
  event: string;
  action: string | undefined;
  payload: any;
  status: number | 'error';
  /** performance.now() when the delivery was sent (benchmarks measure from here). */
  sentAt: number;
  /** How long the receiver took to answer, ms. */
  answeredInMs: number;
}

export class WebhookEmitter {
  readonly subscriptions: Subscription[] = [];
  readonly deliveries: Delivery[] = [];
  /** Payloads that did not match GitHub's webhook schema: a test that caused one must fail. */
  readonly violations: Array<{ key: string; errors: unknown }> = [];

  constructor(private readonly schemas: WebhookSchemas) {}

  subscribe(url: string, secret: string): void {
    this.subscriptions.push({ url, secret });
  }

  static sign(secret: string, body: string): string {
    return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  }

  /** Builds the payload for `<event>-<action>` from the given values, validates it, and delivers it. */
  async emit(event: string, action: string | undefined, values: Record<string, unknown>): Promise<void> {
    const key = action ? `${event.replace(/_/g, '-')}-${action}` : event.replace(/_/g, '-');
    const payload = this.schemas.build(key, action ? { action, ...values } : values);
    const errors = this.schemas.validate(key, payload);
    if (errors.length) {
      this.violations.push({ key, errors });
      throw new Error(`fake-github: webhook ${key} does not match GitHub's schema: ${JSON.stringify(errors.slice(0, 3))}`);
    }
    const body = JSON.stringify(payload);
    for (const sub of this.subscriptions) {
      const id = randomUUID();
      let status: number | 'error' = 'error';
      const sentAt = performance.now();
      try {
        const res = await fetch(sub.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'GitHub-Hookshot/fake',
            'x-github-event': event,
            'x-github-delivery': id,
            'x-github-hook-id': '1',
            'x-hub-signature-256': WebhookEmitter.sign(sub.secret, body),
          },
          body,
        });
        status = res.status;
      } catch {
        // A receiver that is down just misses the delivery, as with GitHub.
      }
      this.deliveries.push({ id, event, action, payload, status, sentAt, answeredInMs: performance.now() - sentAt });
    }
  }
}
