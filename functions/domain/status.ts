/**
 * Cluster status, derived from what is observed on every run (Cluster API style), never accumulated.
 */
import type { Cluster, ClusterPhase, ClusterStatus, Condition, ConditionStatus, PoolStatus } from './cluster.js';
import type { Machine } from './machine.js';
import { controlPlanePoolTarget, isUpToDate, workerPoolTarget, type PoolTarget } from './planner/machines.js';
import type { Plan } from './planner/types.js';
import { compareVersions } from './semver.js';

/** Condition types Capstan reports. */
export const CONDITIONS = {
  Ready: 'Ready',
  InfrastructureReady: 'InfrastructureReady',
  ControlPlaneReady: 'ControlPlaneReady',
  WorkersReady: 'WorkersReady',
  RolloutProgressing: 'RolloutProgressing',
  ProviderAvailable: 'ProviderAvailable',
  Paused: 'Paused',
  MachinesDrained: 'MachinesDrained',
} as const;

/** Condition reasons (PascalCase constants). */
export const REASONS = {
  RolloutCompleted: 'RolloutCompleted',
  RollingOut: 'RollingOut',
  WaitingForMachines: 'WaitingForMachines',
  MachineBootstrapFailed: 'MachineBootstrapFailed',
  ProgressDeadlineExceeded: 'ProgressDeadlineExceeded',
  Paused: 'Paused',
  Deleting: 'Deleting',
  ProviderDisabled: 'ProviderDisabled',
  Provisioning: 'Provisioning',
  AllMachinesReady: 'AllMachinesReady',
  MachinesNotReady: 'MachinesNotReady',
  TooManyUnhealthy: 'TooManyUnhealthy',
  DrainTimeout: 'DrainTimeout',
  /** Must equal the planner's INFRASTRUCTURE_DELETED_REASON. */
  InfrastructureDeleted: 'Deleted',
} as const;

export interface DeriveStatusInput {
  readonly cluster: Cluster;
  /** Non-deleted machine records. */
  readonly machines: readonly Machine[];
  readonly now: Date;
  /** The latest plan, when the caller just planned. */
  readonly plan?: Plan;
  /** Infrastructure endpoint once known. */
  readonly controlPlaneEndpoint?: string;
  /** Set when the cluster's provider is switched off in this hosting. */
  readonly providerDisabled?: string;
  /** Overrides the RolloutProgressing condition (e.g. a stuck rollout found by the sweep). */
  readonly rolloutCondition?: { readonly status: ConditionStatus; readonly reason: string; readonly message: string };
  readonly activeRollout?: string;
}

/**
 * A compact, order-independent fingerprint of a set of machine names (14 hex digits, a 53-bit hash of the sorted
 * names). Why: the sweep must tell "the same machines" from "as many machines" without reading machine records;
 * a cluster record carries one per pool, and the provider listing yields the names to hash on the other side.
 * Note: a collision (≈ 2^-53 per comparison) only hides a difference until the next plan step or machine event.
 */
export function machineNamesHash(names: Iterable<string>): string {
  const text = [...names].sort().join('\n');
  // cyrb53 (public domain): two 32-bit multiply-xorshift lanes, mixed to 53 bits.
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

/** A pool's counts; up to date is the planner's rule (`isUpToDate`: version, template and rollout.after). */
function poolStatus(target: PoolTarget, replicas: number, machines: readonly Machine[]): PoolStatus {
  const live = machines.filter((m) => m.pool === target.pool && m.phase !== 'Deleted');
  const versions = live.map((m) => m.version).sort(compareVersions);
  return {
    name: target.pool,
    version: versions[0] ?? target.version,
    replicas: live.length,
    readyReplicas: live.filter((m) => m.phase === 'Ready').length,
    updatedReplicas: live.filter((m) => m.phase !== 'Failed' && isUpToDate(m, target)).length,
    unavailableReplicas: Math.max(0, replicas - live.filter((m) => m.phase === 'Ready').length),
    machineNamesHash: machineNamesHash(live.map((m) => m.name)),
  };
}

function condition(previous: readonly Condition[] | undefined, now: Date, type: string, status: ConditionStatus, reason?: string, message?: string): Condition {
  const before = previous?.find((c) => c.type === type);
  const lastTransitionTime = before && before.status === status ? before.lastTransitionTime : now.toISOString();
  return { type, status, ...(reason ? { reason } : {}), ...(message ? { message } : {}), lastTransitionTime };
}

/** Derives the whole status from the spec, the machines and (optionally) the latest plan. */
export function deriveStatus(input: DeriveStatusInput): ClusterStatus {
  const { cluster, machines, now, plan } = input;
  const spec = cluster.spec;
  const prev = cluster.status?.conditions;
  const cp = poolStatus(controlPlanePoolTarget(spec), spec.controlPlane.replicas, machines);
  const workers = spec.workers.map((pool) => poolStatus(workerPoolTarget(spec, pool), pool.replicas, machines));
  const cpReady = cp.readyReplicas === spec.controlPlane.replicas && cp.updatedReplicas === spec.controlPlane.replicas && cp.replicas === spec.controlPlane.replicas;
  const workersReady = spec.workers.every((pool, i) => {
    const s = workers[i]!;
    return s.readyReplicas === pool.replicas && s.updatedReplicas === pool.replicas && s.replicas === pool.replicas;
  });
  const deleting = Boolean(cluster.metadata.deletionTimestamp);
  const everReady = cluster.status?.phase === 'Ready' || cluster.status?.phase === 'Updating';
  const converged = cpReady && workersReady && (!plan || plan.action === 'Done');
  const blocked = plan?.action === 'Blocked' ? plan.blocked : undefined;

  let phase: ClusterPhase;
  if (deleting) phase = 'Deleting';
  else if (input.providerDisabled) phase = 'Failed';
  else if (converged) phase = 'Ready';
  else if (blocked && !everReady) phase = 'Failed';
  else if (!everReady) phase = 'Provisioning';
  else phase = 'Updating';

  let rollout: Condition;
  if (input.rolloutCondition) rollout = condition(prev, now, CONDITIONS.RolloutProgressing, input.rolloutCondition.status, input.rolloutCondition.reason, input.rolloutCondition.message);
  else if (spec.paused) rollout = condition(prev, now, CONDITIONS.RolloutProgressing, 'False', REASONS.Paused, 'spec.paused is true: progress stops at the next step boundary');
  else if (blocked) rollout = condition(prev, now, CONDITIONS.RolloutProgressing, 'False', blocked.reason, blocked.message);
  else if (converged) rollout = condition(prev, now, CONDITIONS.RolloutProgressing, 'False', REASONS.RolloutCompleted, 'the cluster matches its spec');
  else rollout = condition(prev, now, CONDITIONS.RolloutProgressing, 'True', REASONS.RollingOut, plan?.notes[0] ?? 'converging on the spec');

  const endpoint = input.controlPlaneEndpoint ?? cluster.status?.controlPlaneEndpoint;
  // Once the infrastructure is deleted (a deleting cluster), that fact is kept: the planner waits for it.
  const infrastructureDeleted = deleting && prev?.some((c) => c.type === CONDITIONS.InfrastructureReady && c.status === 'False' && c.reason === REASONS.InfrastructureDeleted);
  const drainBlocked = machines.filter((m) => m.phase === 'Draining' && m.drainBlockedBy);
  const conditions: Condition[] = [
    condition(prev, now, CONDITIONS.Ready, phase === 'Ready' ? 'True' : 'False', phase === 'Ready' ? REASONS.AllMachinesReady : phase, phase === 'Ready' ? 'every machine is Ready and up to date' : `cluster is ${phase}`),
    input.providerDisabled
      ? condition(prev, now, CONDITIONS.ProviderAvailable, 'False', REASONS.ProviderDisabled, input.providerDisabled)
      : condition(prev, now, CONDITIONS.ProviderAvailable, 'True'),
    infrastructureDeleted
      ? condition(prev, now, CONDITIONS.InfrastructureReady, 'False', REASONS.InfrastructureDeleted, 'cluster infrastructure deleted')
      : condition(prev, now, CONDITIONS.InfrastructureReady, endpoint ? 'True' : 'False', endpoint ? undefined : REASONS.Provisioning),
    condition(prev, now, CONDITIONS.ControlPlaneReady, cpReady ? 'True' : 'False', cpReady ? REASONS.AllMachinesReady : REASONS.MachinesNotReady, `${cp.readyReplicas}/${spec.controlPlane.replicas} ready, ${cp.updatedReplicas} up to date`),
    condition(prev, now, CONDITIONS.WorkersReady, workersReady ? 'True' : 'False', workersReady ? REASONS.AllMachinesReady : REASONS.MachinesNotReady,
      workers.map((w, i) => `${w.name} ${w.readyReplicas}/${spec.workers[i]!.replicas}`).join(', ') || 'no worker pools'),
    rollout,
    condition(prev, now, CONDITIONS.Paused, spec.paused ? 'True' : 'False', spec.paused ? REASONS.Paused : undefined),
    drainBlocked.length
      ? condition(prev, now, CONDITIONS.MachinesDrained, 'False', REASONS.DrainTimeout,
        `drain exceeded ${spec.drain.timeout} (policy ${spec.drain.policy}): ${drainBlocked.map((m) => `${m.name} blocked by ${m.drainBlockedBy}`).join('; ')}`)
      : condition(prev, now, CONDITIONS.MachinesDrained, 'True'),
  ];
  return {
    phase,
    observedGeneration: cluster.metadata.generation,
    controlPlane: cp,
    workers,
    conditions,
    ...(endpoint && !infrastructureDeleted ? { controlPlaneEndpoint: endpoint } : {}),
    ...(input.activeRollout ? { activeRollout: input.activeRollout } : {}),
    lastUpdated: now.toISOString(),
  };
}

/** The status of a cluster that was just accepted and has not been planned yet. */
export function initialStatus(cluster: Omit<Cluster, 'status'>, now: Date, providerDisabled?: string): ClusterStatus {
  const s = deriveStatus({ cluster: { ...cluster, status: undefined as never }, machines: [], now, ...(providerDisabled ? { providerDisabled } : {}) });
  return { ...s, observedGeneration: 0 };
}
