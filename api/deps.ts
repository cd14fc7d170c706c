import type { Pool } from '../db/pool.js';
import type { Config } from '../runtime/config.js';
import type { ReadModel } from './read-model.js';
import type { TaskGateway } from './task-gateway.js';

export interface ApiDeps {
  config: Config;
  pool: Pool;
  reads: ReadModel;
  tasks: TaskGateway;
  adminKey: string;
}
