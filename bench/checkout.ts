/**
 * `npm run bench -- checkout`: 200 issues × 50 concurrent agents through the REST API, against
 * (a) the engine's floor — the same race as raw Temporal Updates on a no-op workflow, same dev server —
 * and (b) a Paperclip-style conditional UPDATE … RETURNING on the same Postgres; then list latency
 * against the raw SQL for the same rows. Prints a table and, last, one JSON line.
 */
import { randomUUID } from 'node:crypto';
import { KeyedLimiter, MAX_IN_FLIGHT_PER_ISSUE } from '../api/limiter.js';
import { HttpClient } from '../test/support/http.js';
import { claimUpdate } from './floor/workflow.js';
import { deploy } from './processes.js';
import { measureSolo } from './solo.js';
import { printTable, round, summarize, timed } from './stats.js';

const ISSUES = Number(process.env.BENCH_ISSUES ?? 200);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 50);
const LIST_ROWS = Number(process.env.BENCH_LIST_ROWS ?? 4000);
const LIST_REQUESTS = Number(process.env.BENCH_LIST_REQUESTS ?? 300);
const SOLO = Number(process.env.BENCH_SOLO ?? 200);
const TAKE = ['todo', 'backlog', 'blocked', 'in_review'];
const log = (line: string) => console.error(`[bench] ${line}`);

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

export async function benchCheckout(): Promise<Record<string, number>> {
  const stack = await deploy();
  try {
    const company = (await stack.admin.post('/api/companies', { name: 'bench' })).body;
    const agents: Array<{ id: string; http: HttpClient }> = [];
    for (let i = 0; i < AGENTS; i++) {
      const res = (await stack.admin.post(`/api/companies/${company.id}/agents`, { name: `agent-${i}` })).body;
      agents.push({ id: res.agent.id, http: stack.as(res.apiKey, `bench-run-${i}`) });
    }
    const makeIssues = async (n: number) => {
      const ids: string[] = [];
      await inBatches([...Array(n).keys()], 10, async () => {
        ids.push((await stack.admin.post(`/api/companies/${company.id}/issues`, { title: 'bench', status: 'todo' })).body.id);
      });
      return ids;
    };

    // ---- API checkout race
    log(`creating ${ISSUES} issues`);
    const warm = await makeIssues(5);
    const issues = await makeIssues(ISSUES);
    const race = async (issueId: string, record: number[] | null) => {
      const replies = await Promise.all(
        agents.map(async (a) => {
          const { ms, value } = await timed(() => a.http.post(`/api/issues/${issueId}/checkout`, { agentId: a.id, expectedStatuses: TAKE }));
          record?.push(ms);
          return value.status;
        }),
      );
      const bad = replies.filter((s) => s !== 200 && s !== 409);
      if (bad.length) throw new Error(`unexpected statuses ${bad.join(',')}`);
      return replies.filter((s) => s === 200).length;
    };
    for (const id of warm) await race(id, null);
    log('racing checkouts through the API');
    const apiLatency: number[] = [];
    const winners: number[] = [];
    for (const id of issues) winners.push(await race(id, apiLatency));

    // ---- Temporal floor: the same race on a no-op workflow (no HTTP, no Postgres)
    log('racing raw Temporal updates (floor)');
    const floorIds = [...Array(ISSUES + 5).keys()].map((i) => `bench-floor/${randomUUID()}-${i}`);
    await inBatches(floorIds, 20, (id) => stack.client.workflow.start('benchFloorWorkflow', { workflowId: id, taskQueue: stack.floorTaskQueue }));
    const floor = async (limiter: KeyedLimiter | null, workflowId: string, record: number[] | null, errors: { n: number }) => {
      const handle = stack.client.workflow.getHandle(workflowId);
      await Promise.all(
        agents.map(async (a) => {
          const call = () => handle.executeUpdate(claimUpdate, { args: [a.id] }).catch((err) => (err?.name === 'WorkflowUpdateFailedError' ? 'refused' : (errors.n++, 'error')));
          const { ms } = await timed(() => (limiter ? limiter.run(workflowId, call) : call()));
          record?.push(ms);
        }),
      );
    };
    const floorCapped: number[] = [];
    const floorErrors = { n: 0 };
    const limiter = new KeyedLimiter();
    for (const id of floorIds.slice(0, 5)) await floor(limiter, id, null, floorErrors);
    for (const id of floorIds.slice(5)) await floor(limiter, id, floorCapped, floorErrors);
    // Uncapped, for reference: 50 updates at once exceed Temporal's 10 in-flight limit per workflow.
    const rawIds = [...Array(20).keys()].map((i) => `bench-floor-raw/${randomUUID()}-${i}`);
    await inBatches(rawIds, 20, (id) => stack.client.workflow.start('benchFloorWorkflow', { workflowId: id, taskQueue: stack.floorTaskQueue }));
    const floorRaw: number[] = [];
    const rawErrors = { n: 0 };
    for (const id of rawIds) await floor(null, id, floorRaw, rawErrors);

    // ---- One at a time (no contention): a winning checkout against one raw update
    log('sequential checkouts and raw updates');
    const { api: soloApi, raw: soloFloor } = await measureSolo(stack, company.id, agents, SOLO);

    // ---- Paperclip-style SQL checkout on the same Postgres
    log('racing conditional SQL updates');
    await stack.pool.query(`CREATE TABLE bench_sql_issues (id uuid PRIMARY KEY, status text NOT NULL, assignee_agent_id uuid, checkout_run_id text, started_at timestamptz)`);
    const sqlIds = [...Array(ISSUES).keys()].map(() => randomUUID());
    await stack.pool.query(`INSERT INTO bench_sql_issues (id, status) SELECT unnest($1::uuid[]), 'todo'`, [sqlIds]);
    const sqlLatency: number[] = [];
    const sqlWinners: number[] = [];
    for (const id of sqlIds) {
      const results = await Promise.all(
        agents.map(async (a, i) => {
          const { ms, value } = await timed(() =>
            stack.pool.query(
              `UPDATE bench_sql_issues SET assignee_agent_id = $2, checkout_run_id = $3, status = 'in_progress', started_at = now()
               WHERE id = $1 AND status = ANY($4) AND (assignee_agent_id IS NULL OR assignee_agent_id = $2) RETURNING id`,
              [id, a.id, `bench-run-${i}`, TAKE],
            ),
          );
          sqlLatency.push(ms);
          return value.rowCount;
        }),
      );
      sqlWinners.push(results.filter((n) => n === 1).length);
    }

    // ---- List: the API against the raw SQL for the same rows
    log(`loading ${LIST_ROWS} issues for the list benchmark`);
    const statuses = ['backlog', 'todo', 'in_progress', 'in_review', 'blocked', 'paused', 'done', 'cancelled'];
    const priorities = ['critical', 'high', 'medium', 'low'];
    // Rows go straight into the read model: the list path reads Postgres only, workflows play no part in it.
    await stack.pool.query(
      `INSERT INTO issues (id, company_id, title, status, priority, priority_rank, assignee_agent_id, version, description_version, created_at, updated_at)
       SELECT gen_random_uuid(), $1, 'listed ' || g, ($2::text[])[1 + g % 8], ($3::text[])[1 + g % 4], g % 4, ($4::uuid[])[1 + g % $5], 1, 1,
              now() - (g || ' seconds')::interval, now()
       FROM generate_series(1, $6) AS g`,
      [company.id, statuses, priorities, agents.map((a) => a.id), AGENTS, LIST_ROWS],
    );
    await stack.pool.query('ANALYZE issues');
    const lister = agents[7]!;
    const listPath = `/api/companies/${company.id}/issues?assigneeAgentId=${lister.id}&status=todo,in_progress`;
    const listSql = `SELECT * FROM issues WHERE company_id = $1 AND assignee_agent_id = $2 AND status = ANY($3) ORDER BY priority_rank, created_at, id LIMIT $4`;
    const listParams = [company.id, lister.id, ['todo', 'in_progress'], 200];
    const expected = (await stack.pool.query(listSql, listParams)).rowCount;
    const listLatency: number[] = [];
    const sqlListLatency: number[] = [];
    const httpFloor: number[] = [];
    for (let i = 0; i < LIST_REQUESTS + 20; i++) {
      const api = await timed(() => lister.http.get(listPath));
      if (api.value.status !== 200 || api.value.body.length !== expected) throw new Error(`list returned ${api.value.status}/${api.value.body.length}, expected ${expected}`);
      const sql = await timed(() => stack.pool.query(listSql, listParams));
      const health = await timed(() => lister.http.get('/healthz'));
      if (i >= 20) {
        httpFloor.push(health.ms);
        listLatency.push(api.ms);
        sqlListLatency.push(sql.ms);
      }
    }

    const api = summarize(apiLatency);
    const capped = summarize(floorCapped);
    const raw = summarize(floorRaw);
    const sql = summarize(sqlLatency);
    const list = summarize(listLatency);
    const listRaw = summarize(sqlListLatency);
    console.log(`\ncheckout: ${ISSUES} issues × ${AGENTS} concurrent agents; list: ${LIST_ROWS} issues, ${expected} rows per answer\n`);
    printTable([
      ['API checkout (HTTP → Temporal → Postgres)', api, `winners/issue ${Math.min(...winners)}..${Math.max(...winners)}`],
      [`floor: raw Temporal updates, ≤${MAX_IN_FLIGHT_PER_ISSUE} in flight`, capped, `errors ${floorErrors.n}`],
      ['floor: raw Temporal updates, all 50 at once', raw, `errors ${rawErrors.n} (20 workflows)`],
      ['API checkout, one at a time', summarize(soloApi), 'no contention'],
      ['raw Temporal update, one at a time', summarize(soloFloor), 'no contention'],
      ['SQL conditional UPDATE … RETURNING', sql, `winners/issue ${Math.min(...sqlWinners)}..${Math.max(...sqlWinners)}`],
      ['API list', list, ''],
      ['SQL list (same query)', listRaw, ''],
      ['HTTP floor: GET /healthz', summarize(httpFloor), 'no database, no Temporal'],
    ]);
    return {
      checkoutP50Ms: round(api.p50),
      checkoutP99Ms: round(api.p99),
      floorP50Ms: round(capped.p50),
      floorP99Ms: round(capped.p99),
      checkoutOverFloorP50: round(api.p50 / capped.p50),
      floorUncappedP50Ms: round(raw.p50),
      floorUncappedP99Ms: round(raw.p99),
      soloCheckoutP50Ms: round(summarize(soloApi).p50),
      soloFloorP50Ms: round(summarize(soloFloor).p50),
      soloOverFloorP50: round(summarize(soloApi).p50 / summarize(soloFloor).p50),
      sqlCheckoutP50Ms: round(sql.p50),
      sqlCheckoutP99Ms: round(sql.p99),
      listP50Ms: round(list.p50),
      listSqlP50Ms: round(listRaw.p50),
      listOverSqlP50: round(list.p50 / listRaw.p50),
      httpFloorP50Ms: round(summarize(httpFloor).p50),
      winnersPerIssueMin: Math.min(...winners),
      winnersPerIssueMax: Math.max(...winners),
      sqlWinnersPerIssueMin: Math.min(...sqlWinners),
      sqlWinnersPerIssueMax: Math.max(...sqlWinners),
    };
  } finally {
    await stack.stop();
  }
}
