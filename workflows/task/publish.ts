/**
 * What operators see in the Temporal Web UI. The details line follows every change at once (it costs
 * nothing: the UI reads it by query). Search attributes follow the read model: they are upserted in
 * the workflow task that records the projection's write, a few milliseconds after the change, not in
 * the Update's own workflow task, where the extra command adds several milliseconds to every change.
 */
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { searchAttributeValues } from '../../domain/search-attributes.js';
import type { IssueState } from '../../domain/task.js';

/** Stage, routing, PR link, CI state and review decision, for tasks with a lifecycle. */
function deliveryLine(s: IssueState): string {
  const l = s.lifecycle;
  if (!l) return '';
  const parts = [`stage ${l.stage}`];
  if (l.source) parts.push(`from [${l.source.owner}/${l.source.repo}#${l.source.number}](${l.source.url})`);
  if (l.routing) parts.push(`routing ${l.routing.state}${l.routing.reason ? `: ${l.routing.reason.summary}` : ''}`);
  const d = l.delivery;
  if (d) {
    parts.push(d.prUrl ? `PR [#${d.prNumber}](${d.prUrl})` : `submission ${d.submissionId}`);
    parts.push(`CI ${d.ci.overallStatus}${d.headSha ? ` on ${d.headSha.slice(0, 8)}` : ''}`, `review ${d.review.outcome}`);
    if (d.ship) parts.push(`shipped ${d.ship.mergeCommitSha ?? ''}`.trim());
    if (d.rollback) parts.push(`rolled back${d.rollback.prUrl ? ` ([revert](${d.rollback.prUrl}))` : ''}`);
  }
  return `\n\n${parts.join(' · ')}`;
}

export class Publisher {
  private last = '';
  private latest: IssueState | undefined;

  /** A change: the details line now, the search attributes with the next flush. */
  publish(s: IssueState): void {
    this.latest = s;
    const who = s.checkout ? ` · checked out by ${s.checkout.agentId} until ${s.checkout.leaseExpiresAt}` : '';
    setCurrentDetails(`**${s.identifier ? `${s.identifier} ` : ''}${s.title}**\n\n${s.status} · ${s.priority}${who} · v${s.version}${deliveryLine(s)}`);
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
