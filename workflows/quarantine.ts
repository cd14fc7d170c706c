/**
 * Bundled with the workflow code (worker/create-worker.ts): fails the workflow tasks of the runs the
 * worker quarantined at its start (worker/quarantine.ts), before any of their code runs, so a run whose
 * activations killed worker processes costs only itself (issue 13 §2). The list is set by the worker as
 * a global of the bundle; it is the same for every activation of a worker process.
 */
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';

export const QUARANTINE_GLOBAL = '__SWITCHYARD_QUARANTINE__';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  internals: [
    {
      activate(input, next) {
        const list = (globalThis as Record<string, unknown>)[QUARANTINE_GLOBAL] as Record<string, string> | undefined;
        const why = list && input.activation.runId ? list[input.activation.runId] : undefined;
        if (why) throw new Error(why);
        return next(input);
      },
    },
  ],
});
