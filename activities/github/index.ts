// The GitHub provider layer the task workflow's activities call. See README "GitHub provider layer".
export * from './checks.js';
export * from './client.js';
export * from './intake.js';
export * from './pulls.js';
export * from './types.js';
export * from './webhooks.js';
