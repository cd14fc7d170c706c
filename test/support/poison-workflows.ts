/**
 * TEST ONLY: the product's workflows plus one whose code runs far past the SDK's isolate timeout after
 * an await (a backtracking regex, as a hostile routing pattern once did) — which kills the worker
 * process, not just its workflow task — and an innocent neighbour.
 */
import { CancellationScope, condition, defineSignal, setHandler, sleep } from '@temporalio/workflow';

export * from '../../workflows/index.js';

export async function poisonWorkflow(spaces: number): Promise<boolean> {
  await CancellationScope.cancellable(() => sleep(10));
  return /\s*\s*\s*\s*\s*\s*\s*x/.test(`a${' '.repeat(spaces)}b`);
}

export async function innocentWorkflow(): Promise<string> {
  await CancellationScope.cancellable(() => sleep(10));
  return 'done';
}

export const pokeSignal = defineSignal('poke');

/** A long-lived, busy but harmless run: it waits for pokes. */
export async function patientWorkflow(): Promise<number> {
  let pokes = 0;
  setHandler(pokeSignal, () => void pokes++);
  await condition(() => pokes >= 100);
  return pokes;
}
