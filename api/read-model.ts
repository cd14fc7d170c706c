/** The facade's reads: straight from Postgres, which the workflows keep current before each update returns. */
import { DomainError } from '../domain/errors.js';
import type { Priority, Status } from '../domain/statuses.js';
import type { IssueState } from '../domain/task.js';
import { rowToState, rowToStored, type IssueRow, type StoredIssue } from '../db/issues-sql.js';
import type { Pool } from '../db/pool.js';
import type { CompanySettings } from './schemas.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (v: string) => UUID.test(v);
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9]{0,9}-[0-9]{1,9}$/;

export interface Company {
  id: string;
  name: string;
  settings: CompanySettings;
}

export class ReadModel {
  /** Companies are never deleted, so one seen once exists for the life of the process. */
  private readonly knownCompanies = new Set<string>();

  constructor(private readonly pool: Pool) {}

  async assertCompanyExists(id: string): Promise<void> {
    if (this.knownCompanies.has(id)) return;
    await this.company(id);
  }

  async company(id: string): Promise<Company> {
    if (!isUuid(id)) throw new DomainError('not_found', 'Company not found');
    const { rows } = await this.pool.query<Company>('SELECT id, name, settings FROM companies WHERE id = $1', [id]);
    if (!rows[0]) throw new DomainError('not_found', 'Company not found');
    this.knownCompanies.add(id);
    return rows[0];
  }

  async issue(id: string): Promise<StoredIssue> {
    if (!isUuid(id)) throw new DomainError('not_found', 'Issue not found', { issueId: id });
    const { rows } = await this.pool.query<IssueRow>('SELECT * FROM issues WHERE id = $1', [id]);
    if (!rows[0]) throw new DomainError('not_found', 'Issue not found', { issueId: id });
    return rowToStored(rows[0]);
  }

  /**
   * The issue and its company's settings in one round trip (every issue route needs both). Takes the
   * id or the human identifier (`ACME-12`); identifiers are unique per company, so an agent's own
   * company decides between equal ones.
   */
  async issueWithCompany(id: string, companyHint?: string): Promise<StoredIssue & { issue: IssueState; company: Company }> {
    const byId = isUuid(id);
    if (!byId && !IDENTIFIER.test(id)) throw new DomainError('not_found', 'Issue not found', { issueId: id });
    const { rows } = await this.pool.query<IssueRow & { company_name: string; company_settings: CompanySettings }>(
      byId
        ? {
            // Named: parsed and planned once per connection (every issue route runs it).
            name: 'issue-with-company',
            text: `SELECT i.*, c.name AS company_name, c.settings AS company_settings FROM issues i JOIN companies c ON c.id = i.company_id WHERE i.id = $1`,
            values: [id],
          }
        : {
            name: 'issue-with-company-by-identifier',
            text: `SELECT i.*, c.name AS company_name, c.settings AS company_settings FROM issues i JOIN companies c ON c.id = i.company_id
                   WHERE i.identifier = $1 ORDER BY (i.company_id::text = $2) DESC LIMIT 2`,
            values: [id.toUpperCase(), companyHint ?? ''],
          },
    );
    // Not one of ours: a Linear identifier (ENG-42) names the task taken in from that issue, as it is now called.
    if (!byId && rows.length === 0) rows.push(...(await this.byTrackerIdentifier(id, companyHint)));
    const row = rows[0];
    if (!row) throw new DomainError('not_found', 'Issue not found', { issueId: id });
    // Two companies' issues answer to it and the caller's company is neither (an operator): say so, never pick one.
    if (!byId && rows.length > 1 && !companyHint) {
      throw new DomainError('ambiguous_identifier', `${id.toUpperCase()} names issues of several companies: use the issue's id`, { issueId: id, issueIds: rows.map((r) => r.id) });
    }
    return { ...rowToStored(row), issue: rowToState(row), company: { id: row.company_id, name: row.company_name, settings: row.company_settings } };
  }

  private async byTrackerIdentifier(id: string, companyHint?: string) {
    const { rows } = await this.pool.query<IssueRow & { company_name: string; company_settings: CompanySettings }>({
      name: 'issue-with-company-by-tracker-identifier',
      text: `SELECT i.*, c.name AS company_name, c.settings AS company_settings FROM issues i JOIN companies c ON c.id = i.company_id
             WHERE i.lifecycle->'source'->>'provider' = 'linear' AND upper(i.lifecycle->'source'->>'identifier') = $1 ORDER BY (i.company_id::text = $2) DESC LIMIT 2`,
      values: [id.toUpperCase(), companyHint ?? ''],
    });
    return rows;
  }

  async agentInCompany(agentId: string, companyId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM agents WHERE id = $1 AND company_id = $2', [agentId, companyId]);
    return rowCount === 1;
  }

  async issueInCompany(issueId: string, companyId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM issues WHERE id = $1 AND company_id = $2', [issueId, companyId]);
    return rowCount === 1;
  }

  /** An agent's tasks for AgentRail's `/tasks/mine`: newest change first, paged by offset. */
  async tasksOf(agentId: string, statuses: Status[] | undefined, limit: number, offset: number): Promise<StoredIssue[]> {
    const { rows } = await this.pool.query<IssueRow>(
      `SELECT * FROM issues WHERE assignee_agent_id = $1 AND ($2::text[] IS NULL OR status = ANY($2)) ORDER BY updated_at DESC, id LIMIT $3 OFFSET $4`,
      [agentId, statuses ?? null, limit, offset],
    );
    return rows.map(rowToStored);
  }

  async agentName(agentId: string | null): Promise<string | null> {
    if (!agentId) return null;
    const { rows } = await this.pool.query<{ name: string }>('SELECT name FROM agents WHERE id = $1', [agentId]);
    return rows[0]?.name ?? null;
  }

  async listIssues(companyId: string, filter: { assigneeAgentId?: string; statuses?: Status[]; parentId?: string; descendantOf?: string; priorities?: Priority[]; limit: number }): Promise<StoredIssue[]> {
    const where = ['company_id = $1'];
    const params: unknown[] = [companyId];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.assigneeAgentId) add('assignee_agent_id = ?', filter.assigneeAgentId);
    if (filter.statuses) add('status = ANY(?)', filter.statuses);
    if (filter.parentId) add('parent_id = ?', filter.parentId);
    // Every issue under it, however deep (issues nest at most 20 levels).
    if (filter.descendantOf) {
      add(`id IN (WITH RECURSIVE down(id, depth) AS (SELECT id, 1 FROM issues WHERE parent_id = ?
           UNION ALL SELECT i.id, down.depth + 1 FROM issues i JOIN down ON i.parent_id = down.id WHERE down.depth < 25) SELECT id FROM down)`, filter.descendantOf);
    }
    if (filter.priorities) add('priority = ANY(?)', filter.priorities);
    params.push(filter.limit);
    const { rows } = await this.pool.query<IssueRow>(
      `SELECT * FROM issues WHERE ${where.join(' AND ')} ORDER BY priority_rank, created_at, id LIMIT $${params.length}`,
      params,
    );
    return rows.map(rowToStored);
  }

  /** Marks the task's workflow closed (found so by an update, or by the reconciler). */
  async markWorkflowClosed(issueId: string, status: string): Promise<void> {
    await this.pool.query("UPDATE issues SET workflow_status = $2 WHERE id = $1 AND workflow_status = 'running'", [issueId, status]);
  }

  /** Newest first unless `asc` (Paperclip's default); `after` a comment means beyond it in the chosen order. */
  async comments(issueId: string, opts: { order?: 'asc' | 'desc'; after?: string; limit?: number } = {}) {
    const desc = opts.order !== 'asc';
    const { rows } = await this.pool.query(
      `SELECT id, issue_id AS "issueId", company_id AS "companyId", body,
              CASE WHEN author_agent_id IS NOT NULL THEN 'agent' WHEN author_user = 'system' THEN 'system' ELSE 'user' END AS "authorType",
              author_agent_id AS "authorAgentId", author_user AS "authorUser", CASE WHEN author_agent_id IS NULL AND author_user <> 'system' THEN author_user END AS "authorUserId",
              run_id AS "runId", run_id AS "createdByRunId", created_at AS "createdAt", created_at AS "updatedAt"
       FROM comments c WHERE issue_id = $1
         AND ($2::uuid IS NULL OR (c.created_at, c.seq) ${desc ? '<' : '>'} (SELECT created_at, seq FROM comments WHERE id = $2 AND issue_id = $1))
       ORDER BY created_at ${desc ? 'DESC' : 'ASC'}, seq ${desc ? 'DESC' : 'ASC'} LIMIT $3`,
      [issueId, opts.after ?? null, opts.limit ?? 10_000],
    );
    return rows;
  }

  async comment(issueId: string, commentId: string) {
    if (!isUuid(commentId)) return undefined;
    const { rows } = await this.pool.query(
      `SELECT id, issue_id AS "issueId", company_id AS "companyId", body,
              CASE WHEN author_agent_id IS NOT NULL THEN 'agent' WHEN author_user = 'system' THEN 'system' ELSE 'user' END AS "authorType",
              author_agent_id AS "authorAgentId", author_user AS "authorUser", CASE WHEN author_agent_id IS NULL AND author_user <> 'system' THEN author_user END AS "authorUserId",
              run_id AS "runId", run_id AS "createdByRunId", created_at AS "createdAt", created_at AS "updatedAt"
       FROM comments WHERE issue_id = $1 AND id = $2`,
      [issueId, commentId],
    );
    return rows[0];
  }

  async activity(issueId: string) {
    const { rows } = await this.pool.query(
      `SELECT id, action, actor_agent_id AS "actorAgentId", actor_user AS "actorUser", run_id AS "runId", details, created_at AS "createdAt"
       FROM activity_log WHERE issue_id = $1 ORDER BY created_at, seq`,
      [issueId],
    );
    return rows;
  }
}
