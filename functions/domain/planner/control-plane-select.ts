/**
 * KubeadmControlPlane decisions that do not depend on Capstan's machine records: which machine to remove, and
 * whether certificates force a rollout.
 */
import { pickMostFailureDomain } from './failure-domains.js';

export type ConditionValue = 'True' | 'False' | 'Unknown';

/** A control-plane machine as KCP's selection sees it. */
export interface ControlPlaneCandidate {
  readonly name: string;
  readonly failureDomain?: string;
  /** RFC 3339. */
  readonly createdAt: string;
  /** The user asked for this machine to go (KCP's `cluster.x-k8s.io/delete-machine` annotation). */
  readonly deleteRequested?: boolean;
  /** Control-plane component conditions by short name (`APIServerPodHealthy`, `EtcdMemberHealthy`, …). */
  readonly conditions?: Readonly<Record<string, ConditionValue>>;
}

const COMPONENT_CONDITIONS = ['APIServerPodHealthy', 'ControllerManagerPodHealthy', 'SchedulerPodHealthy'] as const;
const ETCD_CONDITIONS = ['EtcdPodHealthy', 'EtcdMemberHealthy'] as const;

/** True when a control-plane component (and, for managed etcd, an etcd condition) is reported False. */
export function hasUnhealthyControlPlaneComponents(machine: ControlPlaneCandidate, etcdManaged: boolean): boolean {
  const names: readonly string[] = etcdManaged ? [...COMPONENT_CONDITIONS, ...ETCD_CONDITIONS] : COMPONENT_CONDITIONS;
  return names.some((n) => machine.conditions?.[n] === 'False');
}

/** Oldest first, ties by name (Cluster API `collections.Machines.Oldest`). */
export function oldestFirst<T extends { readonly name: string; readonly createdAt: string }>(machines: readonly T[]): T[] {
  return [...machines].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Input of `kcpSelectMachineForScaleDown`. */
export interface ControlPlaneSelectionInput {
  /** Failure domains usable by the control plane. */
  readonly failureDomains: readonly string[];
  /** @default true */
  readonly etcdManaged?: boolean;
  readonly machines: readonly ControlPlaneCandidate[];
  /** Names of the machines that need rollout. */
  readonly outdated: readonly string[];
}

/**
 * The control-plane machine to remove next (KCP `selectMachineForInPlaceUpdateOrScaleDown`).
 *
 * Eligible set, first non-empty of: outdated machines the user asked to delete; any machine the user asked to
 * delete; outdated machines with an unhealthy control-plane component; outdated machines; all machines. Then the
 * oldest eligible machine outside the known failure domains, else the oldest eligible machine in the failure
 * domain with the most eligible (then most) machines — so removals keep the control plane spread.
 */
export function kcpSelectMachineForScaleDown(input: ControlPlaneSelectionInput): string | undefined {
  const etcdManaged = input.etcdManaged ?? true;
  const outdated = new Set(input.outdated);
  const outdatedMachines = input.machines.filter((m) => outdated.has(m.name));
  const candidates = [
    outdatedMachines.filter((m) => m.deleteRequested),
    input.machines.filter((m) => m.deleteRequested),
    outdatedMachines.filter((m) => hasUnhealthyControlPlaneComponents(m, etcdManaged)),
    outdatedMachines,
    [...input.machines],
  ];
  const eligible = candidates.find((set) => set.length > 0) ?? [];
  if (eligible.length === 0) return undefined;

  const known = new Set(input.failureDomains);
  const outside = oldestFirst(eligible.filter((m) => m.failureDomain === undefined || !known.has(m.failureDomain)));
  if (outside[0]) return outside[0].name;

  const domain = pickMostFailureDomain(input.failureDomains, input.machines, eligible);
  return oldestFirst(eligible.filter((m) => m.failureDomain === domain))[0]?.name;
}

/**
 * True when a machine's certificates expire within `certificatesExpiryDays` of `now` (KCP
 * `collections.ShouldRolloutBefore`): such a machine is outdated. False when either is unknown.
 */
export function shouldRolloutBefore(now: Date, certificatesExpiryDays: number | undefined, certificatesExpiryDate: string | undefined): boolean {
  if (!certificatesExpiryDays || !certificatesExpiryDate) return false;
  return now.getTime() + certificatesExpiryDays * 86_400_000 > Date.parse(certificatesExpiryDate);
}
