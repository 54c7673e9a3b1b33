/**
 * Replays a cluster's event log and checks the rollout guarantees Cluster API promises, from the log alone.
 *
 * Pure: no I/O, no clock. The demo prints its result; the integration and rollout tests assert on it. The log is
 * the durable, gap-free one served by `GET /v1/clusters/{name}/events`, so a check here is a check of what really
 * happened, not of what the planner meant to do.
 *
 * Guarantees checked after every event:
 * - `MaxSurge`: machines of a pool (any phase but deleted) ≤ replicas + maxSurge;
 * - `MaxUnavailable`: Ready machines of a pool ≥ replicas − maxUnavailable (the control plane: replicas − 1 + maxSurge);
 * - `Quorum`: Ready control-plane machines ≥ ⌊replicas / 2⌋ + 1;
 * - `ControlPlaneFirst`: no control-plane machine is created, drained or deleted after a worker replacement began.
 * - `EtcdMembership`: a control-plane machine is an etcd member from its `MachineReady` until its `EtcdMemberRemoved`;
 *   no member's machine is deleted before its member is removed, the members never outnumber replicas + maxSurge, and
 *   the members that are up (machine alive and not seen failing or unhealthy; a draining machine still runs etcd) are
 *   at least a quorum of the members (Cluster API's KubeadmControlPlane:
 *   controlplane/kubeadm/internal/workload_cluster_etcd.go `RemoveEtcdMemberForMachine` before the machine goes).
 *
 * Each guarantee is checked in its own file under replay/ (the three count bounds together in pool-bounds.ts); this
 * file walks the log, keeps the machines' state and the rollout's timing, and assembles the result. The public types
 * live in replay/types.ts and are re-exported here.
 *
 * Note: availability and quorum are checked only once a pool has been fully available in the replayed window (a
 * pool being created is not yet available) and never after `ClusterDeleting`. Machines whose first event in the
 * window is not `MachineCreated` existed before it: Ready unless their first event is `MachineReady`. The spec
 * passed in governs the whole window: replay a window in which replicas and rollout settings did not change.
 *
 * ```
 * seq:  … ClusterUpdated  MachineCreated cp-3  MachineReady cp-3  MachineDraining cp-0  MachineDeleted cp-0 …
 * cp:       3 ready           4 total             4 ready            3 ready            3 total
 * ```
 */
import { ControlPlaneFirst } from './replay/control-plane-first.js';
import { EtcdMembership } from './replay/etcd-membership.js';
import { CONTROL_PLANE, inferInitial, MACHINE_EVENTS, type MachineState, poolOf, versionOf } from './replay/machines.js';
import { PoolBounds, poolRules } from './replay/pool-bounds.js';
import type { ReplayEvent, ReplayOptions, ReplayResult, ReplaySpec, Violation } from './replay/types.js';

export {
  GUARANTEES,
  type Guarantee,
  type GuaranteeCheck,
  type PoolReplay,
  type ReplayEvent,
  type ReplayOptions,
  type ReplayResult,
  type ReplaySpec,
  type Violation,
} from './replay/types.js';

function median(values: readonly number[]): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Replays `events` (ascending seq) against `spec` and reports every broken guarantee, the rollout's waves and
 * timing, and the lower bound on its duration.
 */
export function replayGuarantees(events: readonly ReplayEvent[], spec: ReplaySpec, options: ReplayOptions = {}): ReplayResult {
  const rules = poolRules(spec);
  const ordered = [...events].sort((a, b) => a.seq - b.seq);
  const machines = options.initial
    ? new Map(options.initial.map((m) => [m.name, { pool: m.pool, version: m.version, ready: m.ready, gone: false, old: true } as MachineState]))
    : inferInitial(ordered);

  // Note: one violations list for every checker, so violations stay in the order they were observed.
  const violations: Violation[] = [];
  const bounds = new PoolBounds(rules, machines, violations);
  const controlPlaneFirst = new ControlPlaneFirst(machines, violations);
  const etcd = new EtcdMembership(rules.get(CONTROL_PLANE)!, machines, violations);
  const boots: number[] = [];
  const drains: number[] = [];
  const replaced: string[] = [];
  const created: string[] = [];
  const booting = new Set<string>();
  let waves = 0;
  let deleting = false;
  let completed = false;
  let blocked = false;

  /** Applies one machine event to its machine's state and to the timing; returns the pool it resolved. */
  const applyMachineEvent = (event: ReplayEvent, name: string): { pool: string; m: MachineState } => {
    const pool = poolOf(event) ?? machines.get(name)?.pool ?? 'unknown';
    const at = Date.parse(event.time);
    let m = machines.get(name);
    if (!m) {
      m = { pool, version: versionOf(event), ready: false, gone: false, old: false };
      machines.set(name, m);
    }
    switch (event.type) {
      case 'MachineCreated':
        m.createdAt = at;
        m.version = versionOf(event) ?? m.version;
        if (options.toVersion !== undefined && m.version !== undefined && m.version !== options.toVersion) m.old = true;
        if (!booting.size) waves++;
        booting.add(name);
        created.push(name);
        bounds.countCreated(pool);
        break;
      case 'MachineReady':
        m.ready = true;
        booting.delete(name);
        if (m.createdAt !== undefined) boots.push((at - m.createdAt) / 1000);
        break;
      case 'MachineFailed':
        m.ready = false;
        booting.delete(name);
        break;
      case 'MachineUnhealthy':
        m.ready = false;
        break;
      case 'MachineDraining':
        if (m.drainAt === undefined) m.drainAt = at;
        m.ready = false;
        break;
      case 'MachineDrainBlocked':
        break;
      case 'MachineDeleted':
      case 'MachineMissing':
        if (!m.gone) {
          m.gone = true;
          m.ready = false;
          booting.delete(name);
          bounds.countDeleted(m.pool);
          if (m.drainAt !== undefined && event.type === 'MachineDeleted') drains.push((at - m.drainAt) / 1000);
          if (m.old || (options.toVersion !== undefined && m.version !== options.toVersion)) replaced.push(name);
        }
        break;
    }
    return { pool, m };
  };

  bounds.check(undefined, deleting);
  for (const event of ordered) {
    if (event.type === 'ClusterDeleting') deleting = true;
    if (event.type === 'RolloutCompleted') completed = true;
    if (event.type === 'RolloutBlocked') blocked = true;
    let controlPlane = false;
    if (event.machine && MACHINE_EVENTS.has(event.type)) {
      const { pool, m } = applyMachineEvent(event, event.machine);
      controlPlane = pool === CONTROL_PLANE;
      controlPlaneFirst.observe(event, pool, m, deleting);
    }
    etcd.observe(event, controlPlane, deleting);
    bounds.check(event, deleting);
    etcd.check(event, deleting, bounds.established(CONTROL_PLANE));
  }
  controlPlaneFirst.finish();

  const medianBootSeconds = median(boots);
  const medianDrainSeconds = median(drains);
  const first = ordered[0];
  const last = ordered.at(-1);
  const durationSeconds = first && last ? (Date.parse(last.time) - Date.parse(first.time)) / 1000 : 0;
  const lowerBoundSeconds = waves * ((medianBootSeconds ?? 0) + (medianDrainSeconds ?? 0));
  const pools = bounds.pools();
  return {
    ok: violations.length === 0,
    violations,
    checks: [...bounds.summary(pools), controlPlaneFirst.summary(), etcd.summary()],
    waves,
    replaced,
    created,
    medianBootSeconds,
    medianDrainSeconds,
    durationSeconds,
    lowerBoundSeconds,
    ratio: lowerBoundSeconds > 0 ? durationSeconds / lowerBoundSeconds : undefined,
    completed,
    blocked,
    pools,
  };
}
