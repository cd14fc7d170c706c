/**
 * What operators see in the Temporal Web UI. The details line follows every change at once (it costs
 * nothing: the UI reads it by query). Search attributes follow the read model: they are upserted in
 * the workflow task that records the projection's write, a few milliseconds after the change, not in
 * the Update's own workflow task, where the extra command adds several milliseconds to every change.
 */
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { searchAttributeValues } from '../../domain/search-attributes.js';
import type { IssueState } from '../../domain/task.js';

export class Publisher {
  private last = '';
  private latest: IssueState | undefined;

  /** A change: the details line now, the search attributes with the next flush. */
  publish(s: IssueState): void {
    this.latest = s;
    const who = s.checkout ? ` · checked out by ${s.checkout.agentId} until ${s.checkout.leaseExpiresAt}` : '';
    setCurrentDetails(`**${s.title}**\n\n${s.status} · ${s.priority}${who} · v${s.version}`);
  }

  /** Upserts the search attributes if a value changed since the last upsert (each upsert is a history event). */
  flush(): void {
    if (!this.latest) return;
    const values = searchAttributeValues(this.latest);
    const key = JSON.stringify(values.map((v) => v.value));
    if (key !== this.last) {
      this.last = key;
      upsertSearchAttributes(values);
    }
  }
}
