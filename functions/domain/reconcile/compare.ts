/**
 * The sweep's cheap comparison. The plan step derives `status` from the machine records on every step, so for a
 * converged cluster (`phase` Ready at the current generation) the status pool counts ARE the live machine records:
 * every one Ready, as many as the spec asks. Comparing those counts with the provider's live machines of the same
 * cluster uid finds a lost machine (fewer) or an unknown one (more, or in a pool the spec does not have) without
 * reading one machine record.
 *
 * Names too: each pool status carries `machineNamesHash`, a fingerprint of its live records' names. When the counts
 * agree, the names the provider lists for the pool are hashed the same way; a different hash is a lost machine and
 * an unknown one in the same pool (which counts alone cancel out). O(1) per cluster record, no machine query.
 * Records written before the fingerprint existed are compared by counts only.
 */
import { CONTROL_PLANE_POOL, type Cluster } from '../cluster.js';
import { machineNamesHash } from '../status.js';
import type { ClusterRef, ProviderMachine, ProviderScope } from '../provider.js';
import type { ProgressSubject } from './progress.js';

/** Why the sweep starts a cluster's workflow. Short: Step Functions execution names carry 12 characters of it. */
export const DRIFT_REASONS = {
  NotConverged: 'converge',
  MachinesMissing: 'drift',
  UnknownMachines: 'orphan',
  NodeNotReady: 'node-health',
  ProgressDeadline: 'stuck',
} as const;
export type DriftReason = (typeof DRIFT_REASONS)[keyof typeof DRIFT_REASONS];

/** A difference the sweep found, with a human message for logs. */
export interface Drift {
  readonly reason: DriftReason;
  readonly message: string;
}

/** The cluster matches its spec as of its last plan (nothing to do unless the world changed). */
export function isConverged(cluster: Cluster): boolean {
  return cluster.status.phase === 'Ready' && cluster.status.observedGeneration === cluster.metadata.generation && !cluster.metadata.deletionTimestamp;
}

/** A provider machine that exists (or is coming): counted against the records. */
export function isLiveAtProvider(machine: Pick<ProviderMachine, 'state'>): boolean {
  return machine.state === 'pending' || machine.state === 'running';
}

/** The key of an account-region of one provider: `aws#123456789012#eu-west-1`, `local#local#local`. */
export function scopeKey(scope: Pick<ProviderScope, 'provider' | 'account' | 'region'>): string {
  return `${scope.provider}#${scope.account}#${scope.region}`;
}

/** Groups provider machines by cluster uid (the identity that survives a re-created cluster of the same name). */
export function groupByClusterUid(machines: readonly ProviderMachine[]): Map<string, ProviderMachine[]> {
  const out = new Map<string, ProviderMachine[]>();
  for (const m of machines) {
    const list = out.get(m.clusterUid);
    if (list) list.push(m);
    else out.set(m.clusterUid, [m]);
  }
  return out;
}

/**
 * What the sweep keeps of a cluster record (a few hundred bytes instead of the whole document), so that memory grows
 * slowly with the fleet. Built once per record by `summarizeCluster`.
 */
export interface ClusterSummary {
  readonly ref: ClusterRef;
  readonly generation: number;
  readonly paused: boolean;
  readonly deleting: boolean;
  readonly converged: boolean;
  readonly phase: string;
  readonly observedGeneration: number;
  /** Live machine records per pool, as the last plan derived them (status counts). */
  readonly expected: Readonly<Record<string, number>>;
  /** Fingerprint of the live machine record names per pool (status `machineNamesHash`), where the record has one. */
  readonly names: Readonly<Record<string, string>>;
  /** The provider is switched off in the hosting that last planned (ProviderAvailable False). */
  readonly providerUnavailable: boolean;
  /** What the progress deadline needs (only the RolloutProgressing condition is kept). */
  readonly progress: ProgressSubject;
}

/** The summary of one cluster record under the scope `scope` (shared by every cluster of the account-region). */
export function summarizeCluster(cluster: Cluster, scope: ProviderScope): ClusterSummary {
  const expected: Record<string, number> = {};
  const names: Record<string, string> = {};
  for (const pool of [{ ...cluster.status.controlPlane, name: CONTROL_PLANE_POOL }, ...cluster.status.workers]) {
    expected[pool.name] = pool.replicas;
    if (pool.machineNamesHash !== undefined) names[pool.name] = pool.machineNamesHash;
  }
  const rollout = cluster.status.conditions.filter((c) => c.type === 'RolloutProgressing');
  const { name, uid, generation, deletionTimestamp } = cluster.metadata;
  return {
    ref: { name, uid, scope },
    generation,
    paused: cluster.spec.paused,
    deleting: Boolean(deletionTimestamp),
    converged: isConverged(cluster),
    phase: cluster.status.phase,
    observedGeneration: cluster.status.observedGeneration,
    expected,
    names,
    providerUnavailable: cluster.status.conditions.some((c) => c.type === 'ProviderAvailable' && c.status === 'False'),
    progress: { spec: { paused: cluster.spec.paused }, metadata: { name, uid, generation, ...(deletionTimestamp ? { deletionTimestamp } : {}) }, status: { conditions: rollout } },
  };
}

/**
 * Compares one cluster (its summary) with the provider machines carrying its uid. Returns undefined when nothing
 * needs a workflow: converged and the counts agree, or paused (a paused cluster makes no change; deletion proceeds).
 */
export function compareCluster(cluster: ClusterSummary, providerMachines: readonly ProviderMachine[]): Drift | undefined {
  if (cluster.paused && !cluster.deleting) return undefined;
  if (!cluster.converged) {
    return { reason: DRIFT_REASONS.NotConverged, message: `phase ${cluster.phase}, observed generation ${cluster.observedGeneration} of ${cluster.generation}${cluster.deleting ? ', deleting' : ''}` };
  }
  const expected = new Map(Object.entries(cluster.expected));
  const actual = new Map<string, string[]>();
  for (const m of providerMachines) {
    if (!isLiveAtProvider(m)) continue;
    const list = actual.get(m.pool);
    if (list) list.push(m.name);
    else actual.set(m.pool, [m.name]);
  }

  const missing: string[] = [];
  const extra: string[] = [];
  const renamed: string[] = [];
  for (const [pool, want] of expected) {
    const live = actual.get(pool) ?? [];
    const have = live.length;
    if (have < want) missing.push(`${pool} ${have}/${want}`);
    else if (have > want) extra.push(`${pool} ${have}/${want}`);
    else if (cluster.names[pool] !== undefined && machineNamesHash(live) !== cluster.names[pool]) renamed.push(`${pool} ${have}/${want}`);
  }
  for (const [pool, live] of actual) if (!expected.has(pool)) extra.push(`${pool} ${live.length}/0`);
  if (missing.length) return { reason: DRIFT_REASONS.MachinesMissing, message: `machines missing at the provider: ${missing.join(', ')}` };
  // Same count, other names: a record's machine is gone and an unknown one took its place. The plan step replaces
  // the lost one and judges the unknown one as an orphan.
  if (renamed.length) return { reason: DRIFT_REASONS.MachinesMissing, message: `machines at the provider differ from the records by name: ${renamed.join(', ')}` };
  if (extra.length) return { reason: DRIFT_REASONS.UnknownMachines, message: `machines the records do not explain: ${extra.join(', ')}` };
  return undefined;
}
