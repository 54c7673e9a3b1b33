/**
 * DeleteInfrastructure phase: tear the cluster's infrastructure down in dependency order. Retried (by the
 * workflow) while the provider reports that something remains.
 */
import type { Deps } from '../adapters/deps.js';
import { phaseHandler } from '../middleware/phase.js';
import { InfrastructureDeletionInProgressError } from './lib/errors.js';
import { CONDITIONS, REASONS } from '../domain/status.js';
import { field } from './lib/input.js';
import { providerOf, updateCluster } from '../core/records.js';
import { refOf } from '../domain/reconcile/scope.js';

/** `{ done: true }` once nothing remains; InfrastructureDeletionInProgressError before. */
export async function deleteInfrastructure(input: unknown, deps: Deps): Promise<{ done: boolean }> {
  const name = field(input, 'cluster');
  const cluster = await deps.store.getCluster(name);
  if (!cluster) return { done: true };
  const result = await providerOf(deps, cluster).deleteInfrastructure(refOf(cluster), cluster.spec);
  if (!result.done) throw new InfrastructureDeletionInProgressError(`cluster ${name}: infrastructure still being deleted`);
  await deps.store.appendEvents(name, [{
    id: `InfrastructureDeleted/${cluster.metadata.uid}`,
    type: 'InfrastructureDeleted',
    time: deps.clock.now().toISOString(),
    message: 'cluster infrastructure deleted',
  }]);
  // The planner removes the record only once the status says the infrastructure is gone (the event goes first).
  const now = deps.clock.now().toISOString();
  await updateCluster(deps, name, (c) => {
    const { controlPlaneEndpoint: _gone, ...status } = c.status;
    const others = c.status.conditions.filter((x) => x.type !== CONDITIONS.InfrastructureReady);
    return { ...c, status: { ...status, conditions: [...others, { type: CONDITIONS.InfrastructureReady, status: 'False', reason: REASONS.InfrastructureDeleted, message: 'cluster infrastructure deleted', lastTransitionTime: now }] } };
  });
  return { done: true };
}

export const handler = phaseHandler(deleteInfrastructure);
