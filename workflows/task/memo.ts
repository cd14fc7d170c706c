/**
 * The results of recent updates, by update id, in short form. Temporal answers a retried update id
 * itself within one run; this memory answers it after continue-as-new, where Temporal does not.
 * Bounded in count and in size (no bodies, no descriptions), so what continue-as-new carries stays small.
 */
import type { MemoEntry, TaskResult } from '../messages.js';

export const MEMO_LIMIT = 100;

export class UpdateMemo {
  private readonly entries: Map<string, MemoEntry>;

  constructor(entries: Array<[string, MemoEntry]> = []) {
    this.entries = new Map(entries);
  }

  get(updateId: string | undefined): MemoEntry | undefined {
    return updateId === undefined ? undefined : this.entries.get(updateId);
  }

  remember(updateId: string | undefined, result: TaskResult): void {
    if (updateId === undefined) return;
    this.entries.set(updateId, { version: result.issue.version, ...(result.comment ? { comment: result.comment } : {}) });
    while (this.entries.size > MEMO_LIMIT) this.entries.delete(this.entries.keys().next().value!);
  }

  toJSON(): Array<[string, MemoEntry]> {
    return [...this.entries.entries()];
  }
}
