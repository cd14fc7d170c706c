/**
 * Outbound webhooks as CircleCI sends them: one event (own id) per subscription, the raw body signed
 * `circleci-signature: v1=<hex HMAC-SHA256(secret, body)>`, `circleci-event-type`, a CircleCI user agent.
 * Every payload is checked against the strict webhook schema first; each event is kept for redelivery.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { FakeCircleCI, Job, Workflow } from './fake.js';
import { webhookPayload } from './present.js';

export interface Subscription { id: string; name: string; url: string; secret: string; projectSlug?: string }
export interface Delivery { eventId: string; type: string; url: string; status: number | 'error'; redelivery: boolean }

export class CircleHooks {
  readonly subscriptions: Subscription[] = [];
  readonly deliveries: Delivery[] = [];
  /** Every event sent, by id: its subscription and the exact bytes. */
  readonly events = new Map<string, { sub: Subscription; type: string; body: string; payload: unknown }>();

  constructor(private readonly fake: FakeCircleCI) {}

  static sign(secret: string, body: string): string {
    return `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;
  }

  subscribe(sub: { url: string; secret: string; projectSlug?: string; name?: string }): { id: string } {
    const id = randomUUID();
    this.subscriptions.push({ id, name: sub.name ?? 'switchyard', url: sub.url, secret: sub.secret, projectSlug: sub.projectSlug });
    return { id };
  }

  async emit(type: 'workflow-completed' | 'job-completed', workflow: Workflow, job?: Job): Promise<void> {
    for (const sub of this.subscriptions) {
      if (sub.projectSlug && sub.projectSlug !== workflow.pipeline.project.slug) continue;
      const id = randomUUID();
      const payload = webhookPayload(type, id, this.fake.now(), { id: sub.id, name: sub.name }, workflow, job);
      const checked = this.fake.schemas.webhook.safeParse(payload);
      if (!checked.success) {
        this.fake.violations.push(...checked.error.issues.slice(0, 5).map((i) => `strict webhook ${type}: ${i.path.map(String).join('.')}: ${i.message}`));
        continue;
      }
      const body = JSON.stringify(payload);
      this.events.set(id, { sub, type, body, payload });
      await this.deliver(id, false);
    }
  }

  /** Sends an event again, byte for byte (CircleCI retries a delivery that was not answered 2xx). */
  redeliver(eventId: string): Promise<number | 'error'> {
    if (!this.events.has(eventId)) throw new Error(`fake-circleci: no event ${eventId}`);
    return this.deliver(eventId, true);
  }

  private async deliver(eventId: string, redelivery: boolean): Promise<number | 'error'> {
    const e = this.events.get(eventId)!;
    let status: number | 'error' = 'error';
    try {
      const res = await fetch(e.sub.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'CircleCI-Webhook/1.0',
          'circleci-event-type': e.type,
          'circleci-signature': CircleHooks.sign(e.sub.secret, e.body),
        },
        body: e.body,
        signal: AbortSignal.timeout(10_000),
      });
      status = res.status;
      await res.body?.cancel();
    } catch {
      // A receiver that is down misses the delivery; it stays redeliverable.
    }
    this.deliveries.push({ eventId, type: e.type, url: e.sub.url, status, redelivery });
    return status;
  }
}
