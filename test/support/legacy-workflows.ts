/**
 * TEST ONLY: the product's workflows plus the frozen v1 task workflow under a type of its own, so a
 * test can start a run exactly as the v1 code would have and watch it hand over to today's workflow.
 */
export * from '../../workflows/index.js';
export { legacyTaskWorkflow as legacyTaskWorkflowForTest } from '../../workflows/legacy/task-v1.js';
