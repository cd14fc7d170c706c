/** What a demo scenario is given: the API, the operator's calls, where the Web UI is, and a place to register cleanup. */
export interface DemoContext {
  api: string;
  call: (method: string, path: string, body?: unknown) => Promise<any>;
  say: (line: string) => void;
  uiUrl: () => string;
  sleep: (ms: number) => Promise<void>;
  /** Runs when the demo stops (removes what it connected, closes its fakes). */
  onStop: (fn: () => Promise<void>) => void;
}

/** Prints a task's stage each time it changes until `done` says so (or five minutes pass); `tick` plays CI and the reviewer. */
export async function followTask(ctx: DemoContext, taskId: string, tick: (t: any) => Promise<void>, done: (t: any) => boolean): Promise<any> {
  const deadline = Date.now() + 300_000;
  let last = '';
  for (;;) {
    const t = (await ctx.call('GET', `/api/tasks/${taskId}`)).data;
    const line = `${t.stage} · ${t.status}${t.assignee ? ` · ${t.assignee.name}` : ''}${t.prUrl ? ` · ${t.prUrl}` : ''}${t.ci ? ` · CI ${t.ci.overallStatus}` : ''}${t.review ? ` · review ${t.review.outcome}` : ''}`;
    if (line !== last) ctx.say(`stage → ${line}`);
    last = line;
    await tick(t);
    if (done(t)) return t;
    if (Date.now() > deadline) throw new Error(`the task did not ship in 5 minutes (last: ${line})`);
    await ctx.sleep(200);
  }
}

/** The company's first task once intake has made it, with its workflow's Web UI address printed. */
export async function firstTask(ctx: DemoContext, companyId: string): Promise<any> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const task = (await ctx.call('GET', `/api/companies/${companyId}/issues`))[0];
    if (task) {
      ctx.say(`task ${task.identifier} is workflow issue/${task.id}`);
      ctx.say(`  watch it: ${ctx.uiUrl()}/namespaces/default/workflows/${encodeURIComponent(`issue/${task.id}`)}`);
      return task;
    }
    if (Date.now() > deadline) throw new Error('the issue never became a task');
    await ctx.sleep(200);
  }
}
