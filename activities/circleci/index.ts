/** CircleCI at the provider layer: the API v2 client, the CI port adapter, and webhook verification and parsing. */
export { CircleCIClient, CircleCIUnavailable, DEFAULT_CIRCLECI_API, slugPath, type CircleCIClientOptions, type CircleJob, type CirclePipeline, type CircleTest, type CircleWorkflow } from './client.js';
export { CircleCI, branchOf, revisionOf, type CircleCIOptions } from './ci.js';
export { inspectProject } from './inspect.js';
export { CircleWebhookError, parseCircleWebhook, verifyCircleSignature, type CircleWebhookEvent } from './webhooks.js';
