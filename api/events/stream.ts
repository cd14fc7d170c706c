/**
 * One open event stream: catching up from the log, or live from the process's hub. A slow reader is
 * never buffered for: once its socket is full the stream stops taking live events and, when the
 * socket drains, reads the log from where it is, so it holds at most one page in memory.
 */
import { readEvents, type EventFilter, type EventRow } from '../../db/task-events.js';
import type { Pool } from '../../db/pool.js';
import type { EventHub } from './hub.js';
import { envelopeOf, sseFrame } from './render.js';

const PAGE = 100;

/** What a stream writes to (an Express response; a test's stand-in). */
export interface StreamSink {
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
  end(): unknown;
}

/** One open stream: catching up from the log, or live from the hub. */
export class EventStream {
  closed = false;
  /** Every event at or below this was sent or is not for this stream. */
  private position = 0;
  private catchingUp = true;

  constructor(
    private readonly pool: Pool,
    private readonly res: StreamSink,
    private readonly filter: EventFilter,
    private readonly apiBase: string,
  ) {}

  begin(position: number, replay: boolean, hub: EventHub): void {
    this.position = position;
    if (replay) void this.catchUp(hub);
    else this.goLive(hub);
  }

  private goLive(hub: EventHub): void {
    // Called synchronously after a read: anything the hub dispatched meanwhile is below its `last`.
    if (hub.last > this.position) {
      void this.catchUp(hub);
      return;
    }
    this.catchingUp = false;
    this.hub = hub;
  }

  private hub: EventHub | undefined;

  live(row: EventRow): void {
    if (this.closed || this.catchingUp || row.sequence <= this.position) return;
    this.position = row.sequence;
    if (!this.matches(row)) return;
    if (!this.send(row)) {
      // The reader is behind: stop taking live events and read the log from here once it drains.
      this.catchingUp = true;
      this.res.once('drain', () => void this.catchUp(this.hub!));
    }
  }

  private matches(row: EventRow): boolean {
    const f = this.filter;
    return (!f.types || f.types.includes(row.type)) && (!f.issueId || row.issueId === f.issueId) && (!f.companyId || row.companyId === f.companyId);
  }

  private send(row: EventRow): boolean {
    return this.res.write(sseFrame(envelopeOf(row, this.apiBase)));
  }

  private async catchUp(hub: EventHub): Promise<void> {
    this.catchingUp = true;
    this.hub = hub;
    try {
      while (!this.closed) {
        const upTo = Math.max(hub.last, this.position);
        const rows = await readEvents(this.pool, this.position, upTo, this.filter, PAGE);
        if (this.closed) return;
        let writable = true;
        for (const row of rows) writable = this.send(row) && writable;
        this.position = rows.length === PAGE ? rows[rows.length - 1]!.sequence : upTo;
        if (!writable) {
          this.res.once('drain', () => void this.catchUp(hub));
          return;
        }
        if (rows.length < PAGE && hub.last <= this.position) {
          this.goLive(hub);
          return;
        }
      }
    } catch {
      // The log cannot be read: end the stream; the client resumes from its last id.
      this.res.end();
    }
  }
}
