/** The workflow bundle with the test-only update hook (test/support/update-hook.ts), built once per process. */
import { fileURLToPath } from 'node:url';
import type { InjectedSinks, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { bundleWorkflows } from '../../worker/create-worker.js';
import type { UpdateHookSinks } from './update-hook.js';

const HOOK_MODULE = fileURLToPath(new URL('./update-hook.ts', import.meta.url));
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

export function hookedBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflows([HOOK_MODULE]);
  return bundle;
}

/** Sinks that call `onHandled(name)` for each update handled live; the worker waits for it to return. */
export function hookSinks(onHandled: (updateName: string) => Promise<void> | void): InjectedSinks<UpdateHookSinks> {
  return { updateHook: { handled: { fn: async (_info, name) => onHandled(name), callDuringReplay: false } } };
}
