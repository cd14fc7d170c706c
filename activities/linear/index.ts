/** Linear at the provider layer: the client and its failure handling, intake, webhooks. */
export { LINEAR_API_URL, linearClient, normalize, rateLimitedUntil, rateLimitResetAt, resetLinearGates, withLinear, type WithLinearOptions } from './client.js';
export {
  LinearIntake,
  candidateFromLinear,
  createComment,
  fetchIssue,
  inspectTeam,
  moveToState,
  teamByKey,
  workflowStateOf,
  type LinearIntakeConfig,
  type LinearIssue,
  type LinearIssueFields,
} from './intake.js';
export { LINEAR_WEBHOOK_TOLERANCE_MS, LinearWebhookError, parseLinearWebhook, verifyLinearWebhook, type LinearWebhookEvent, type LinearWebhookFailure } from './webhooks.js';
