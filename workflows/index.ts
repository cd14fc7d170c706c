// The workflow bundle's entry: every workflow type the production worker serves (benchmarks and tests bundle their own).
export { taskWorkflow } from './task.js';
export { reconcileWorkflow } from './reconcile.js';
export { intakeWorkflow } from './intake.js';
export { eventSubscriptionWorkflow } from './event-subscription.js';
