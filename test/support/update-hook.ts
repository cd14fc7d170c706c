/**
 * TEST ONLY (bundled into test workers, never into the product): after a task Update's handler has
 * finished, and before the worker reports the workflow task to the server, call the `updateHook`
 * sink. The worker awaits sinks before completing the activation, so a test can stop the world at
 * exactly the point where the handler ran but the server has not recorded it.
 */
import { proxySinks, type Sinks, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

export interface UpdateHookSinks extends Sinks {
  updateHook: { handled(updateName: string): void };
}

const { updateHook } = proxySinks<UpdateHookSinks>();

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async handleUpdate(input, next) {
        const result = await next(input);
        updateHook.handled(input.name);
        return result;
      },
    },
  ],
});
