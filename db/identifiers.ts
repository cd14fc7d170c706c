/** Human task identifiers (`ACME-12`): allocated once per task id, numbered per company (migration 003). */
import type pg from 'pg';

export async function identifierFor(db: Pick<pg.Pool, 'query'>, companyId: string, issueId: string): Promise<string> {
  const { rows } = await db.query<{ identifier: string }>('SELECT sy_identifier_for($1, $2) AS identifier', [companyId, issueId]);
  return rows[0]!.identifier;
}
