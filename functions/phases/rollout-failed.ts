/**
 * RolloutFailed phase: the plan step itself failed after its retries (a bug or a lasting outage of a dependency).
 * Records a condition and an event, and releases the lease so the next sweep can try again.
 */
import type { Deps } from '../adapters/deps.js';
import { phaseHandler } from '../middleware/phase.js';
import { deriveStatus } from '../domain/status.js';
import { field } from './lib/input.js';
import { updateCluster } from '../core/records.js';

/** Reports the failure on the cluster. */
export async function rolloutFailed(input: unknown, deps: Deps): Promise<{ reported: boolean }> {
  const name = field(input, 'cluster');
  const execution = field(input, 'execution');
  const error = (input as { error?: { Error?: string } }).error;
  const now = deps.clock.now();
  const cluster = await deps.store.getCluster(name);
  if (!cluster) return { reported: false };
  const message = `the rollout's plan step failed (${error?.Error ?? 'unknown error'}); the reconcile sweep will retry`;
  const machines = await deps.store.listMachines(name);
  await updateCluster(deps, name, (c) => ({ ...c, status: deriveStatus({ cluster: c, machines, now, rolloutCondition: { status: 'False', reason: 'PlanFailed', message } }) }));
  await deps.store.appendEvents(name, [{ id: `RolloutBlocked/${cluster.metadata.uid}/${cluster.metadata.generation}/PlanFailed/${execution}`, type: 'RolloutBlocked', time: now.toISOString(), message, data: { reason: 'PlanFailed' } }]);
  await deps.store.releaseLease(name, execution);
  return { reported: true };
}

export const handler = phaseHandler(rolloutFailed);
