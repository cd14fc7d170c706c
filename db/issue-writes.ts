/** One IssueWrite (snapshot, new comments, activity entries) applied inside the caller's transaction; idempotent. */
import type pg from 'pg';
import { PRIORITY_RANK } from '../domain/statuses.js';
import type { IssueWrite } from '../domain/task.js';
import { issueParams, upsertIssueSql } from './issues-sql.js';

export async function applyIssueWrite(client: pg.PoolClient, write: IssueWrite): Promise<void> {
  const { issue } = write;
  await client.query(upsertIssueSql, issueParams(issue, PRIORITY_RANK[issue.priority]));
  for (const c of write.comments) {
    await client.query(
      `INSERT INTO comments (id, issue_id, company_id, body, author_agent_id, author_user, run_id, created_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (id) DO NOTHING`,
      [c.id, issue.id, issue.companyId, c.body, c.authorAgentId, c.authorUser, c.runId, c.createdAt],
    );
  }
  for (const a of write.activity) {
    await client.query(
      `INSERT INTO activity_log (id, issue_id, company_id, action, actor_agent_id, actor_user, run_id, details, created_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (id) DO NOTHING`,
      [a.id, issue.id, issue.companyId, a.action, a.actorAgentId, a.actorUser, a.runId, a.details, a.createdAt],
    );
  }
}
