/**
 * Machines and the cluster event log.
 *
 * A Machine record is Capstan's memory of one machine it decided to create. It is written (phase `Pending`)
 * BEFORE the provider is asked for the machine, so a crash can never leave a provider machine that no record
 * explains except for the short window the orphan sweep covers (the provider machine carries the same name in its
 * tags, and the provider call uses a client token derived from the name, so a retry returns the same machine).
 */

export const MACHINE_PHASES = ['Pending', 'Provisioning', 'Ready', 'Draining', 'Deleting', 'Deleted', 'Failed'] as const;
export type MachinePhase = (typeof MACHINE_PHASES)[number];

export const MACHINE_ROLES = ['control-plane', 'worker'] as const;
export type MachineRole = (typeof MACHINE_ROLES)[number];

export interface Machine {
  /** Unique in the cluster, deterministic: `<cluster>-<pool>-<ordinal>` (see `machineName`). */
  readonly name: string;
  readonly cluster: string;
  /** uid of the cluster incarnation that made it (a re-created cluster of the same name never adopts it). */
  readonly clusterUid: string;
  readonly role: MachineRole;
  /** Worker pool name, or `control-plane`. */
  readonly pool: string;
  /** Monotonic per pool; never reused, even after deletion. */
  readonly ordinal: number;
  readonly version: string;
  /** Hash of the machine template (instance type, image, volume) it was made from; a different hash means outdated. */
  readonly templateHash: string;
  readonly failureDomain?: string;
  readonly phase: MachinePhase;
  /** Provider's id once known (`aws:///us-west-2a/i-0abc…`, `local:///<pid>`). */
  readonly providerId?: string;
  readonly address?: string;
  readonly createdAt: string;
  readonly readyAt?: string;
  readonly drainStartedAt?: string;
  readonly deletedAt?: string;
  readonly failedAt?: string;
  /** When the node was last seen NotReady after being Ready (health checks). */
  readonly notReadySince?: string;
  /** How many times this machine's intent failed to boot before (backoff, give-up after N). */
  readonly bootAttempt?: number;
  readonly failureReason?: string;
  readonly failureMessage?: string;
  /** What blocks this machine's drain once it ran past `drain.timeout` (pod and budget); cleared when it goes. */
  readonly drainBlockedBy?: string;
  /** Step Functions task token of the workflow step waiting for this machine's Ready callback. Never served by the API. */
  readonly taskToken?: string;
  /** The user asked for this machine to go (OnDelete pools; KCP `delete-machine` annotation semantics). */
  readonly deleteRequested?: boolean;
  /** Optimistic-concurrency version of the record; the store bumps it on every write. */
  readonly recordVersion: number;
}

/** The deterministic name of a pool's n-th machine. */
export function machineName(cluster: string, pool: string, ordinal: number): string {
  return `${cluster}-${pool === 'control-plane' ? 'cp' : pool}-${ordinal}`;
}

export const EVENT_TYPES = [
  'ClusterCreated',
  'ClusterUpdated',
  'ClusterDeleting',
  'ClusterDeleted',
  'ClusterPaused',
  'ClusterResumed',
  'InfrastructureReady',
  'InfrastructureDeleted',
  'RolloutStarted',
  'RolloutCompleted',
  'RolloutBlocked',
  'MachineCreated',
  'MachineReady',
  'MachineDraining',
  'MachineDrainBlocked',
  'MachineDeleted',
  'MachineFailed',
  'MachineUnhealthy',
  'MachineMissing',
  'OrphanAdopted',
  'OrphanTerminated',
  'RemediationSkipped',
  'EtcdMemberRemoved',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** An event as a writer proposes it. `id` is deterministic (e.g. `MachineReady/demo-md-0-4`): a retry is a no-op. */
export interface NewEvent {
  readonly id: string;
  readonly type: EventType;
  readonly time: string;
  readonly message: string;
  readonly machine?: string;
  readonly pool?: string;
  /** Small structured facts for replay (phase, version, counts). Never secrets. */
  readonly data?: Readonly<Record<string, string | number | boolean | null>>;
}

/** An event as stored: with its position in the cluster's log. */
export interface ClusterEvent extends NewEvent {
  /** 1, 2, 3 … without gaps. */
  readonly seq: number;
}
