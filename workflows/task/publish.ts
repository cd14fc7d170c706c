/** What operators see in the Temporal Web UI: search attributes and the details line follow every change. */
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { searchAttributeValues } from '../../domain/search-attributes.js';
import type { IssueState } from '../../domain/task.js';

export class Publisher {
  private last = '';

  publish(s: IssueState): void {
    const values = searchAttributeValues(s);
    const key = JSON.stringify(values.map((v) => v.value));
    // Upserting writes a history event: only when a value really changed.
    if (key !== this.last) {
      this.last = key;
      upsertSearchAttributes(values);
    }
    const who = s.checkout ? ` · checked out by ${s.checkout.agentId} until ${s.checkout.leaseExpiresAt}` : '';
    setCurrentDetails(`**${s.title}**\n\n${s.status} · ${s.priority}${who} · v${s.version}`);
  }
}
