/**
 * Conditional writes of Capstan's records and the cluster's provider, shared by every handler that writes: API
 * routes, workflow phases, the reconcile sweep and the machine callbacks.
 */
import type { Deps } from '../adapters/deps.js';
import type { Cluster } from '../domain/cluster.js';
import type { Machine } from '../domain/machine.js';
import type { MachineProvider } from '../domain/provider.js';
import { conditionalUpdate } from './conditional-update.js';

/** The cluster's provider (throws ProviderDisabledError when switched off here). */
export function providerOf(deps: Pick<Deps, 'providers'>, cluster: Pick<Cluster, 'spec'>): MachineProvider {
  return deps.providers.get(cluster.spec.infrastructure.provider);
}

/**
 * Applies `change` to the stored machine with a conditional write, re-reading and re-applying on a lost race.
 * `change` returns undefined to leave the machine as it is. Returns the machine as stored afterwards.
 */
export function updateMachine(deps: Pick<Deps, 'store'>, cluster: string, name: string, change: (m: Machine) => Machine | undefined): Promise<Machine | undefined> {
  return conditionalUpdate({
    what: `machine ${name}`,
    read: () => deps.store.getMachine(cluster, name),
    change,
    write: (next, current) => deps.store.putMachine(next, current.recordVersion),
  });
}

/**
 * Re-reads the cluster and writes `change(cluster)` conditionally, retrying on a lost race (API writes and status
 * writes interleave). Returns undefined when the cluster is gone. `known`: a copy the caller read moments ago,
 * tried first instead of a read (a lost race then costs the read it would have cost anyway).
 */
export function updateCluster(deps: Pick<Deps, 'store'>, name: string, change: (c: Cluster) => Cluster | undefined, known?: Cluster): Promise<Cluster | undefined> {
  return conditionalUpdate({
    what: `cluster ${name}`,
    read: async (attempt) => (attempt === 0 && known ? known : deps.store.getCluster(name)),
    change,
    write: (next, current) => deps.store.updateCluster(next, current.metadata.resourceVersion),
  });
}
