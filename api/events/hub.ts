/**
 * One live feed of the event log per API process, shared by every open stream: LISTEN for the
 * projection's notices (migration 013), and a poll every second in case a notice was lost. Streams
 * register a listener; the hub reads each new event once and hands it to all of them, in sequence order.
 * Started by the first stream and stopped with the last, so an API without streams holds no connection.
 */
import type pg from 'pg';
import { latestSequence, readAllAfter, type EventRow } from '../../db/task-events.js';
import type { Pool } from '../../db/pool.js';
import { logger } from '../../runtime/logger.js';

export type EventListener = (row: EventRow) => void;

const PAGE = 500;
const POLL_MS = 1_000;

export class EventHub {
  private readonly listeners = new Set<EventListener>();
  private position = 0;
  private starting: Promise<void> | undefined;
  private listenClient: pg.PoolClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pulling = false;
  private pullAgain = false;
  private stopped = true;

  constructor(private readonly pool: Pool) {}

  /** The last sequence handed to listeners: every event at or below it has been dispatched. */
  get last(): number {
    return this.position;
  }

  get size(): number {
    return this.listeners.size;
  }

  /** Registers a listener (after which `last` is meaningful); the returned function removes it. */
  async subscribe(listener: EventListener): Promise<() => void> {
    this.listeners.add(listener);
    try {
      if (this.stopped) this.starting = this.start();
      await this.starting;
    } catch (err) {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
      throw err;
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  private async start(): Promise<void> {
    this.stopped = false;
    this.position = await latestSequence(this.pool);
    this.timer = setInterval(() => this.pull(), POLL_MS);
    this.timer.unref();
    this.listen().catch(() => {});
  }

  private async listen(): Promise<void> {
    if (this.stopped || this.listenClient) return;
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch {
      return; // The poll carries on; the next pull tries again.
    }
    if (this.stopped) return client.release();
    this.listenClient = client;
    client.on('notification', () => this.pull());
    client.on('error', (err) => {
      logger.warn({ err }, 'event hub lost its LISTEN connection; polling until it is back');
      if (this.listenClient === client) this.listenClient = undefined;
      client.release(err);
    });
    await client.query('LISTEN sy_task_events').catch((err) => client.emit('error', err));
  }

  private stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    const client = this.listenClient;
    this.listenClient = undefined;
    if (client) client.query('UNLISTEN *').then(() => client.release(), (err: Error) => client.release(err));
  }

  /** Reads what is new and dispatches it; overlapping calls fold into one more round. */
  private pull(): void {
    if (this.stopped) return;
    if (this.pulling) {
      this.pullAgain = true;
      return;
    }
    this.pulling = true;
    void (async () => {
      try {
        do {
          this.pullAgain = false;
          for (;;) {
            const rows = await readAllAfter(this.pool, this.position, PAGE);
            for (const row of rows) {
              // Advanced and dispatched in one synchronous step: a stream switching to live compares
              // against `last` and can never fall between the two.
              this.position = row.sequence;
              for (const listener of this.listeners) {
                try {
                  listener(row);
                } catch (err) {
                  logger.error({ err }, 'an event stream failed on an event; it is closed');
                  this.listeners.delete(listener);
                }
              }
            }
            if (rows.length < PAGE || this.stopped) break;
          }
        } while (this.pullAgain && !this.stopped);
      } catch (err) {
        logger.warn({ err }, 'event hub could not read new events; trying again');
      } finally {
        this.pulling = false;
      }
      if (!this.listenClient && !this.stopped) this.listen().catch(() => {});
    })();
  }
}
