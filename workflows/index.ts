// The workflow bundle's entry: every workflow type the worker serves.
export { taskWorkflow } from './task.js';
export { benchFloorWorkflow } from './bench-floor.js';
