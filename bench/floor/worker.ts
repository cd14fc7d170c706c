/**
 * The engine's floor runs in a worker of its own (never in the production bundle): a no-op workflow
 * on `<queue>-floor`, as its own process like the worker it is compared with.
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';

const taskQueue = process.env.BENCH_FLOOR_TASK_QUEUE;
if (!taskQueue) throw new Error('BENCH_FLOOR_TASK_QUEUE is not set');
const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
const worker = await Worker.create({
  connection,
  taskQueue,
  workflowsPath: fileURLToPath(new URL('./workflow.ts', import.meta.url)),
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => worker.shutdown());
await worker.run();
await connection.close();
