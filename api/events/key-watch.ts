/**
 * A stream outlives the request that authenticated it: once its key is revoked, rotated past its grace
 * or expired, the stream is ended (the client's reconnect then hears 401). One query per API process
 * every few seconds covers every open stream's key, and only while agents' streams are open.
 */
import type { Pool } from '../../db/pool.js';
import { logger } from '../../runtime/logger.js';

const CHECK_MS = 5_000;

export class KeyWatch {
  private readonly byKey = new Map<string, Set<() => void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pool: Pool, private readonly everyMs = CHECK_MS) {}

  /** Ends `end` once the key stops being live; the returned function stops watching. */
  watch(keyId: string, end: () => void): () => void {
    let ends = this.byKey.get(keyId);
    if (!ends) this.byKey.set(keyId, (ends = new Set()));
    ends.add(end);
    if (!this.timer) {
      this.timer = setInterval(() => void this.check(), this.everyMs);
      this.timer.unref();
    }
    return () => {
      ends.delete(end);
      if (ends.size === 0) this.byKey.delete(keyId);
      if (this.byKey.size === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private async check(): Promise<void> {
    const ids = [...this.byKey.keys()];
    if (ids.length === 0) return;
    let live: Set<string>;
    try {
      const { rows } = await this.pool.query<{ id: string }>(
        `SELECT id FROM agent_api_keys WHERE id = ANY ($1)
           AND (status = 'active' OR (status = 'rotated' AND grace_until > now())) AND (expires_at IS NULL OR expires_at > now())`,
        [ids],
      );
      live = new Set(rows.map((r) => r.id));
    } catch (err) {
      logger.warn({ err }, 'could not check the keys of open event streams; trying again');
      return;
    }
    for (const id of ids) {
      if (live.has(id)) continue;
      for (const end of [...(this.byKey.get(id) ?? [])]) end();
    }
  }
}
