/**
 * EnsureInfrastructure phase: create whatever cluster infrastructure is missing (network, security groups, the
 * API server load balancer on AWS; a state directory locally) and record the control-plane endpoint.
 */
import type { Deps } from '../adapters/deps.js';
import { phaseHandler } from '../middleware/phase.js';
import { field } from './lib/input.js';
import { providerOf, updateCluster } from '../core/records.js';
import { refOf } from '../domain/reconcile/scope.js';

/** Idempotent: a second call finds everything and changes nothing. */
export async function ensureInfrastructure(input: unknown, deps: Deps): Promise<{ ready: boolean }> {
  const name = field(input, 'cluster');
  const cluster = await deps.store.getCluster(name);
  if (!cluster || cluster.metadata.deletionTimestamp) return { ready: false };
  const status = await providerOf(deps, cluster).ensureInfrastructure(refOf(cluster), cluster.spec);
  if (status.ready && status.controlPlaneEndpoint && status.controlPlaneEndpoint !== cluster.status.controlPlaneEndpoint) {
    await updateCluster(deps, name, (c) => ({ ...c, status: { ...c.status, controlPlaneEndpoint: status.controlPlaneEndpoint! } }));
  }
  if (status.ready) {
    await deps.store.appendEvents(name, [{
      id: `InfrastructureReady/${cluster.metadata.uid}`,
      type: 'InfrastructureReady',
      time: deps.clock.now().toISOString(),
      message: `cluster infrastructure ready${status.controlPlaneEndpoint ? `; API server endpoint ${status.controlPlaneEndpoint}` : ''}`,
    }]);
  }
  return { ready: status.ready };
}

export const handler = phaseHandler(ensureInfrastructure);
