/**
 * The worker's event dispatcher: LISTENs for the event log's notices (migration 013) and nudges the
 * workflow of every active subscription that one of the new events matches (signal-with-start, so a
 * subscription whose workflow is missing gets it back). Bursts coalesce: a notice arriving while a
 * round runs folds into one more round, and each subscription is nudged once per round. A poll covers
 * lost notices, and a sweep every minute starts the workflow of any active subscription that has none
 * (a create whose start Temporal did not confirm, a workflow terminated by hand). Several workers may
 * each run one: a nudge more is harmless.
 */
import type pg from 'pg';
import type { Client } from '@temporalio/client';
import { activeSubscriptionIds, subscriptionsMatching } from '../db/event-subscriptions.js';
import type { Pool } from '../db/pool.js';
import { latestSequence } from '../db/task-events.js';
import type { Config } from '../runtime/config.js';
import { logger } from '../runtime/logger.js';
import { ensureSubscriptionWorkflow, nudgeSubscription } from '../runtime/subscription-workflows.js';

const POLL_MS = 5_000;
const SWEEP_MS = 60_000;
/** A burst of notices within this is one round. */
const COALESCE_MS = 50;

export class EventDispatcher {
  private position: number | undefined;
  private listenClient: pg.PoolClient | undefined;
  private timers: NodeJS.Timeout[] = [];
  private pending: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly client: Client,
    private readonly config: Config,
  ) {}

  start(): void {
    this.stopped = false;
    this.timers.push(setInterval(() => this.soon(), POLL_MS), setInterval(() => void this.sweep(), SWEEP_MS));
    for (const t of this.timers) t.unref();
    void this.listen();
    // At start every active subscription is nudged once: events may have come while no worker ran.
    void this.sweep(true);
    this.soon();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    clearTimeout(this.pending);
    const client = this.listenClient;
    this.listenClient = undefined;
    if (client) client.query('UNLISTEN *').then(() => client.release(), (err: Error) => client.release(err));
  }

  private async listen(): Promise<void> {
    if (this.stopped || this.listenClient) return;
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch {
      return; // The poll carries on and tries again.
    }
    if (this.stopped) return client.release();
    this.listenClient = client;
    client.on('notification', () => this.soon());
    client.on('error', (err) => {
      logger.warn({ err }, 'event dispatcher lost its LISTEN connection; polling until it is back');
      if (this.listenClient === client) this.listenClient = undefined;
      client.release(err);
    });
    await client.query('LISTEN sy_task_events').catch((err) => client.emit('error', err));
  }

  /** A round shortly (one per burst). */
  private soon(): void {
    if (this.stopped || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      void this.round();
    }, COALESCE_MS);
  }

  private async round(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        const upTo = await latestSequence(this.pool);
        // The first round only learns where the log is: a subscription's own workflow reads what came before.
        const after = this.position ?? upTo;
        if (upTo > after) {
          const ids = await subscriptionsMatching(this.pool, after, upTo);
          await Promise.all(ids.map((id) => nudgeSubscription(this.client, this.config, id).catch((err) => logger.warn({ err, subscriptionId: id }, 'could not nudge an event subscription; its workflow looks again within minutes'))));
        }
        this.position = upTo;
      } while (this.again && !this.stopped);
    } catch (err) {
      logger.warn({ err }, 'event dispatcher could not read the event log; trying again');
    } finally {
      this.running = false;
    }
    if (!this.listenClient && !this.stopped) void this.listen();
  }

  /** Every active subscription's workflow is running (`nudge`: and looks at the log now). */
  private async sweep(nudge = false): Promise<void> {
    try {
      for (const id of await activeSubscriptionIds(this.pool)) {
        if (this.stopped) return;
        await (nudge ? nudgeSubscription : ensureSubscriptionWorkflow)(this.client, this.config, id).catch((err) => logger.warn({ err, subscriptionId: id }, 'could not start an event subscription\'s workflow; the next sweep tries again'));
      }
    } catch (err) {
      logger.warn({ err }, 'event dispatcher could not list subscriptions; the next sweep tries again');
    }
  }
}
