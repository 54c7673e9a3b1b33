/**
 * How the planner reads machine records: states, staleness (the one up-to-date predicate, which status counts by
 * too), naming, removal order, boot-failure history.
 */
import { CONTROL_PLANE_POOL, type ClusterSpec, type DeletionOrder, type MachineTemplate, type WorkerPoolSpec } from '../cluster.js';
import { machineName, type Machine } from '../machine.js';
import { templateHash } from '../template-hash.js';
import type { Intent, RemovalReason } from './types.js';

/** What a pool wants its machines to be. */
export interface PoolTarget {
  readonly pool: string;
  readonly version: string;
  readonly template: MachineTemplate;
  readonly templateHash: string;
  /** RFC 3339: machines created before it are outdated. */
  readonly after?: string;
}

/** What the control plane of `spec` wants its machines to be. */
export function controlPlanePoolTarget(spec: ClusterSpec): PoolTarget {
  const cp = spec.controlPlane;
  return { pool: CONTROL_PLANE_POOL, version: spec.version, template: cp.machine, templateHash: templateHash(cp.machine), ...(cp.rollout.after ? { after: cp.rollout.after } : {}) };
}

/** What worker pool `pool` of `spec` wants its machines to be (its version follows `spec.version` when not pinned). */
export function workerPoolTarget(spec: ClusterSpec, pool: WorkerPoolSpec): PoolTarget {
  return {
    pool: pool.name,
    version: pool.version ?? spec.version,
    template: pool.machine,
    templateHash: templateHash(pool.machine),
    ...(pool.rollout.after ? { after: pool.rollout.after } : {}),
  };
}

/** The record still stands for a machine (anything but `Deleted`). */
export function isLive(m: Machine): boolean {
  return m.phase !== 'Deleted';
}

/** Being drained or deleted: counts toward surge, never available again. */
export function isBeingDeleted(m: Machine): boolean {
  return m.phase === 'Draining' || m.phase === 'Deleting' || (isLive(m) && m.drainStartedAt !== undefined);
}

/** Booting: counts toward surge, not yet available. */
export function isBooting(m: Machine): boolean {
  return m.phase === 'Pending' || m.phase === 'Provisioning';
}

/** Serving: Ready, not draining, node not reported NotReady. */
export function isAvailable(m: Machine): boolean {
  return m.phase === 'Ready' && !m.drainStartedAt && !m.notReadySince;
}

/** Something is happening to it that a re-plan must wait for. */
export function isInFlight(m: Machine): boolean {
  return isBooting(m) || isBeingDeleted(m);
}

/** Why the machine differs from what its pool wants, or undefined when it is up to date. */
export function outdatedReason(m: Machine, target: PoolTarget): string | undefined {
  if (m.version !== target.version) return `version ${m.version} → ${target.version}`;
  if (m.templateHash !== target.templateHash) return `template ${m.templateHash} → ${target.templateHash}`;
  if (target.after && Date.parse(m.createdAt) < Date.parse(target.after)) return `created before rollout.after ${target.after}`;
  return undefined;
}

/**
 * The one "is this machine up to date with the spec" predicate: its version, template and creation time match what
 * its pool wants (`outdatedReason` finds nothing). The planner replaces what fails it; status counts what passes it
 * as `updatedReplicas`, as Cluster API counts a machine up to date only when it matches the current template.
 */
export function isUpToDate(m: Machine, target: PoolTarget): boolean {
  return outdatedReason(m, target) === undefined;
}

/** The next ordinal of a pool: one above every ordinal ever recorded (Deleted records included). */
export function nextOrdinal(machines: readonly Machine[], pool: string): number {
  return machines.reduce((max, m) => (m.pool === pool ? Math.max(max, m.ordinal) : max), 0) + 1;
}

/**
 * Deleted records that can leave the store: deleted more than `retentionSeconds` ago, and not their pool's
 * highest ordinal (that one stays as the pool's high-water mark, so `nextOrdinal` never hands out a name — and with
 * it a provider client token — that was used before). Without this every plan step would read every machine a
 * cluster ever had. The event log keeps their history (MachineCreated … MachineDeleted).
 */
export function archivableMachines(machines: readonly Machine[], now: Date, retentionSeconds: number): string[] {
  const highest = new Map<string, number>();
  for (const m of machines) highest.set(m.pool, Math.max(highest.get(m.pool) ?? 0, m.ordinal));
  const cutoff = now.getTime() - retentionSeconds * 1000;
  return machines
    .filter((m) => m.phase === 'Deleted' && m.deletedAt !== undefined && Date.parse(m.deletedAt) < cutoff && m.ordinal < highest.get(m.pool)!)
    .map((m) => m.name);
}

/** The deterministic name of a pool's n-th machine (re-exported for callers of the planner). */
export { machineName };

/**
 * The removal intent for a machine: drain (Retire) a machine whose node serves, delete outright one that never
 * became Ready or has failed.
 */
export function removalIntent(m: Machine, reason: RemovalReason): Intent {
  return m.phase === 'Ready'
    ? { kind: 'RetireMachine', machine: m.name, pool: m.pool, reason }
    : { kind: 'DeleteMachine', machine: m.name, pool: m.pool, reason };
}

/** FNV-1a of a string: a stable stand-in for randomness when no random source is given. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Machines in the order a MachineSet deletes them: user-requested first, then broken (failed, never Ready, node
 * NotReady), then by `deletionOrder` (Oldest/Newest by createdAt; Random from `random`, or a stable hash of the
 * name when absent so a re-plan picks the same machines).
 */
export function deletionPriority(machines: readonly Machine[], order: DeletionOrder, random?: () => number): Machine[] {
  const byName = [...machines].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const key = new Map<string, number>(byName.map((m) => [m.name, random ? random() : fnv1a(m.name)]));
  const rank = (m: Machine): number => (m.deleteRequested ? 0 : !isAvailable(m) ? 1 : 2);
  const policy = (a: Machine, b: Machine): number => {
    if (order === 'Oldest') return Date.parse(a.createdAt) - Date.parse(b.createdAt);
    if (order === 'Newest') return Date.parse(b.createdAt) - Date.parse(a.createdAt);
    return (key.get(a.name) ?? 0) - (key.get(b.name) ?? 0);
  };
  return byName.sort((a, b) => rank(a) - rank(b) || policy(a, b) || (a.name < b.name ? -1 : 1));
}

/** Consecutive boot failures of a pool's current version and template, newest first, and the latest one. */
export interface BootHistory {
  readonly consecutiveFailures: number;
  readonly lastFailure?: Machine;
}

/** A machine that was made and never became Ready because its boot failed. */
export function isBootFailure(m: Machine): boolean {
  return !m.readyAt && (m.phase === 'Failed' || m.failedAt !== undefined || m.failureReason !== undefined);
}

/**
 * Counts boot failures of the pool's current version+template since its last machine that became Ready.
 * Note: history comes from `Deleted`/`Failed` records (failureReason `NodeStartupTimeout` and the like); a success
 * resets the count, so one flaky boot a week never blocks a pool.
 */
export function bootHistory(machines: readonly Machine[], target: PoolTarget): BootHistory {
  const same = machines
    .filter((m) => m.pool === target.pool && m.version === target.version && m.templateHash === target.templateHash)
    .sort((a, b) => b.ordinal - a.ordinal);
  let consecutiveFailures = 0;
  let lastFailure: Machine | undefined;
  for (const m of same) {
    if (m.readyAt) break;
    if (!isBootFailure(m)) continue;
    consecutiveFailures++;
    lastFailure ??= m;
  }
  return { consecutiveFailures, ...(lastFailure ? { lastFailure } : {}) };
}

/** Seconds to wait after boot attempt `attempt` failed before the next try: 5, 10, 20, … capped at 300. */
export function bootBackoffSeconds(attempt: number): number {
  return Math.min(300, 5 * 2 ** Math.max(attempt - 1, 0));
}
