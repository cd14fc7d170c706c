export * from './actions.js';
export * from './closeout.js';
export * from './commands.js';
export * from './errors.js';
export * from './leases.js';
export * from './statuses.js';
export * from './task.js';
export * from './search-attributes.js';
