/**
 * The engine's floor for the checkout benchmark: the same race (first caller wins, the rest are
 * refused by a validator) with no activity, no Postgres and no HTTP.
 */
import { ApplicationFailure, condition, defineUpdate, setHandler } from '@temporalio/workflow';

export const claimUpdate = defineUpdate<string, [string]>('claim');

export async function benchFloorWorkflow(): Promise<void> {
  let owner: string | undefined;
  setHandler(claimUpdate, (agentId) => (owner = agentId), {
    validator: (agentId) => {
      if (owner !== undefined && owner !== agentId) throw ApplicationFailure.create({ type: 'checkout_conflict', message: 'taken', nonRetryable: true });
    },
  });
  await condition(() => false);
}
