/**
 * ContinueAsNew phase: hand the cluster to a fresh execution before this one's history nears Step Functions'
 * 25,000-event limit. The lease is released and a new execution started; whichever execution takes the lease
 * next goes on (the plan is recomputed from the store, so nothing is lost in the hand-over).
 */
import type { Deps } from '../adapters/deps.js';
import { phaseHandler } from '../middleware/phase.js';
import { field } from './lib/input.js';

/** Releases this execution's lease and starts the next execution. */
export async function continueAsNew(input: unknown, deps: Deps): Promise<{ next: string }> {
  const name = field(input, 'cluster');
  const execution = field(input, 'execution');
  const generation = Number((input as { generation?: unknown }).generation ?? 0);
  await deps.store.releaseLease(name, execution);
  const started = await deps.workflow.startRollout({ cluster: name, generation, reason: 'continue' });
  return { next: started.executionName };
}

export const handler = phaseHandler(continueAsNew);
