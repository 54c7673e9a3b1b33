/**
 * The ClusterScope: everything one reconcile of one cluster knows, observed ONCE per reconcile by one adapter
 * (functions/core/observe-scope.ts) and then read by pure phase functions (this folder) that decide what to write.
 * Nothing in a phase function reads the store, the provider or the clock: what they need is here.
 *
 * Note: as in Cluster API, status and conditions are derived from what is observed on every run, never accumulated;
 * a phase function that needs a fact the provider knows better than the records (a lost machine, a NotReady node)
 * returns a record change, and the next phase works on the records as stored after it.
 */
import { clusterScope, type Cluster } from '../cluster.js';
import type { Machine } from '../machine.js';
import type { ClusterRef, NodeHealth, ProviderMachine } from '../provider.js';

/** The settings the reconcile phases read (a subset of the hosting's settings). */
export interface ReconcileSettings {
  /** Consecutive boot failures before a rollout blocks. */
  readonly maxBootAttempts: number;
  /** Seconds without progress before a rollout is reported stuck. */
  readonly progressDeadlineSeconds: number;
  /** Grace before an unknown machine with Capstan's tags is terminated. */
  readonly orphanGraceSeconds: number;
  /** How long a Deleted machine record stays before a finished rollout archives it. */
  readonly deletedMachineRetentionSeconds: number;
  /** Seconds between plans while machines are in flight without a callback to wait for. */
  readonly pollSeconds: number;
  /** Plan iterations after which an execution hands over to a fresh one (history budget). */
  readonly continueAfterIterations: number;
}

/** One cluster as one reconcile observed it. */
export interface ClusterScope {
  readonly cluster: Cluster;
  /** Every machine record of the cluster, Deleted ones included. */
  readonly records: readonly Machine[];
  /** The provider's machines of THIS cluster (same name and uid), whatever their state. */
  readonly providerMachines: readonly ProviderMachine[];
  /** Node health by machine name; undefined when not read (not needed, not due) or the read failed (no information). */
  readonly nodes: ReadonlyMap<string, NodeHealth> | undefined;
  /** Whether node health of Ready machines was due in this reconcile (see core/observe-scope.ts). */
  readonly nodeCheckDue: boolean;
  /** The provider reports readiness itself (calls back); otherwise Provisioning machines are polled. */
  readonly providerCallsBack: boolean;
  readonly now: Date;
  readonly settings: ReconcileSettings;
}

/** The provider's reference to a cluster. */
export function refOf(cluster: Pick<Cluster, 'spec' | 'metadata'>): ClusterRef {
  return { name: cluster.metadata.name, uid: cluster.metadata.uid, scope: clusterScope(cluster.spec) };
}
