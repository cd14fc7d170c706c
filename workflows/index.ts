// The workflow bundle's entry: every workflow type the worker serves.
export { taskWorkflow } from './task.js';
export { reconcileWorkflow } from './reconcile.js';
export { benchFloorWorkflow } from './bench-floor.js';
