/** After the fuzz: every task's read model equals its workflow's state and still takes a normal change from its holder; no revision or read-model write left behind. */
import { rowToState, type IssueRow } from '../../../db/issues-sql.js';
import { fingerprintOf } from '../../../domain/projection.js';
import type { IssueState } from '../../../domain/task.js';
import { waitFor } from '../wait.js';
import { cut } from './record.js';
import { same, workflowState, type Probe } from './state.js';

/**
 * The fingerprint of a state. domain/projection.ts remembers the hash of the last description it saw; this
 * makes it hash another one first, so the answer does not depend on what this process hashed before.
 */
function fingerprintOfState(state: IssueState): string {
  fingerprintOf({ ...state, description: '\u0001another description' });
  return fingerprintOf(state);
}

/** Checks every task of the run (findings go to the record); `agentKeys` are the keys of the agents a holder may be. */
export async function checkAfterwards({ stack, record: { find } }: Probe, agentKeys: Map<string, string>): Promise<{ checked: number; total: number }> {
  const { rows: all } = await stack.pool.query<{ id: string }>('SELECT id FROM issues ORDER BY created_at');
  async function consistent(id: string, what: string): Promise<IssueState | undefined> {
    let wf: IssueState | undefined;
    let row: IssueRow | undefined;
    try {
      await waitFor(`${id}: read model at the workflow's version`, async () => {
        wf = await workflowState(stack, id);
        row = (await stack.pool.query<IssueRow>('SELECT * FROM issues WHERE id = $1', [id])).rows[0];
        return row?.version === wf.version;
      }, (done) => done, 20_000);
    } catch (err) {
      find('read model never reaches the workflow\'s version', what, `task ${id}: ${(err as Error).message}; workflow version ${wf?.version}, read model version ${row?.version}`);
      return wf;
    }
    const fromRow = JSON.parse(JSON.stringify(rowToState(row!)));
    const fromWorkflow = JSON.parse(JSON.stringify(wf));
    const diff = Object.keys({ ...fromRow, ...fromWorkflow }).filter((k) => !same(fromRow[k], fromWorkflow[k]));
    if (diff.length) find('read model ≠ workflow state', diff.join(', '), `task ${id}, ${what}: fields ${diff.join(', ')} differ: ${diff.map((k) => `${k}: read model ${cut(JSON.stringify(fromRow[k]), 300)} · workflow ${cut(JSON.stringify(fromWorkflow[k]), 300)}`).join('; ')}`);
    else if (row!.fingerprint !== fingerprintOfState(wf!)) find('read model fingerprint ≠ the fingerprint of the workflow\'s state', `fingerprint, description ${wf!.description === null ? 'null' : wf!.description === '' ? 'empty' : 'set'}`, `task ${id} (description ${JSON.stringify(wf!.description)?.slice(0, 40)}), ${what}: read model ${row!.fingerprint}, the workflow's state ${fingerprintOfState(wf!)}`);
    return wf;
  }
  let checked = 0;
  const queue = [...all];
  await Promise.all([...Array(12)].map(async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const wf = await consistent(next.id, 'after the fuzz');
      if (!wf) continue;
      const holderId = wf.checkout?.agentId ?? wf.assigneeAgentId;
      const key = holderId ? agentKeys.get(holderId) : undefined;
      const who = key ? `its holder ${holderId}` : holderId ? `the operator (holder ${holderId} is not an agent of this test)` : 'the operator (nobody holds it)';
      const client = key ? stack.as(key, `fz-after-${next.id.slice(0, 8)}`) : stack.admin;
      const r = await client.post(`/api/issues/${next.id}/comments`, { body: 'Still here after the fuzz.' });
      if (r.status !== 201) find('a normal change refused after the fuzz', `${r.status} ${r.body?.code}`, `POST /api/issues/${next.id}/comments as ${who} (status ${wf.status}) → ${r.status} ${cut(JSON.stringify(r.body), 400)}`);
      else await consistent(next.id, 'after its holder\'s comment');
      checked++;
    }
  }));
  const { rows: leftovers } = await stack.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM document_revisions WHERE revision_number IS NULL');
  if (leftovers[0]!.n > 0) find('unpublished document revisions left behind', 'PUT /api/issues/{issueId}/documents/{key}', `${leftovers[0]!.n} revision bodies no decision published`);
  const { rows: failures } = await stack.pool.query('SELECT issue_id, version, code, message FROM projection_failures WHERE resolved_at IS NULL LIMIT 5');
  if (failures.length) find('read-model writes Postgres refused', 'projection', JSON.stringify(failures));
  return { checked, total: all.length };
}
