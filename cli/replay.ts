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
import { scaledValue } from '../functions/domain/intstr.js';

/** The fields of an event the replay reads (what the events API serves). */
export interface ReplayEvent {
  readonly seq: number;
  readonly time: string;
  readonly type: string;
  readonly machine?: string;
  readonly pool?: string;
  readonly message?: string;
  readonly data?: Readonly<Record<string, string | number | boolean | null>>;
}

/** The parts of a cluster spec the guarantees depend on (a served `Cluster.spec` fits). */
export interface ReplaySpec {
  readonly controlPlane: { readonly replicas: number; readonly rollout?: { readonly maxSurge?: number } };
  readonly workers: readonly {
    readonly name: string;
    readonly replicas: number;
    readonly rollout?: { readonly maxSurge?: number | string; readonly maxUnavailable?: number | string; readonly strategy?: string };
  }[];
}

/** Options of `replayGuarantees`. */
export interface ReplayOptions {
  /** Machines alive before the first event, with their pool and phase. @default inferred from the events */
  readonly initial?: readonly { readonly name: string; readonly pool: string; readonly version?: string; readonly ready: boolean }[];
  /** The version being rolled out; a machine at another version counts as replaced when it goes. @default any version */
  readonly toVersion?: string;
  /** Informational: the version rolled out from. */
  readonly fromVersion?: string;
}

export const GUARANTEES = ['MaxSurge', 'MaxUnavailable', 'Quorum', 'ControlPlaneFirst', 'EtcdMembership'] as const;
export type Guarantee = (typeof GUARANTEES)[number];

/** One broken guarantee, located at the event after which it was observed. */
export interface Violation {
  readonly rule: Guarantee;
  readonly seq: number;
  readonly time: string;
  readonly pool: string;
  readonly message: string;
}

/** Extremes of one pool over the window. */
export interface PoolReplay {
  readonly pool: string;
  readonly replicas: number;
  /** replicas + maxSurge. */
  readonly maxMachines: number;
  /** replicas − maxUnavailable (control plane: quorum and surge rules, see module doc). */
  readonly minAvailable: number;
  readonly peakMachines: number;
  /** Lowest Ready count once the pool had been fully available; undefined when it never was. */
  readonly lowestAvailable: number | undefined;
  readonly created: number;
  readonly deleted: number;
}

/** One guarantee with its outcome, for a summary table. */
export interface GuaranteeCheck {
  readonly rule: Guarantee;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ReplayResult {
  /** Every guarantee held at every event. */
  readonly ok: boolean;
  readonly violations: readonly Violation[];
  readonly checks: readonly GuaranteeCheck[];
  /** Groups of machine creations in flight together (a new group starts when none is booting). */
  readonly waves: number;
  /** Machines that existed before their replacement and were deleted, in order. */
  readonly replaced: readonly string[];
  readonly created: readonly string[];
  /** Median MachineCreated → MachineReady, seconds; undefined when no machine booted in the window. */
  readonly medianBootSeconds: number | undefined;
  /** Median MachineDraining → MachineDeleted, seconds. */
  readonly medianDrainSeconds: number | undefined;
  /** First event → last event of the window, seconds. */
  readonly durationSeconds: number;
  /** waves × (median boot + median drain): no rollout respecting the bounds can be faster. */
  readonly lowerBoundSeconds: number;
  /** durationSeconds / lowerBoundSeconds (undefined when the bound is 0). */
  readonly ratio: number | undefined;
  /** A `RolloutCompleted` event is in the window. */
  readonly completed: boolean;
  /** A `RolloutBlocked` event is in the window. */
  readonly blocked: boolean;
  readonly pools: readonly PoolReplay[];
}

const CONTROL_PLANE = 'control-plane';

interface MachineState {
  pool: string;
  version: string | undefined;
  ready: boolean;
  gone: boolean;
  /** Existed before the first event (or was created at another version than toVersion). */
  old: boolean;
  createdAt?: number;
  drainAt?: number;
}

interface PoolRule {
  readonly replicas: number;
  readonly maxMachines: number;
  readonly minAvailable: number;
  readonly quorum?: number;
}

function rules(spec: ReplaySpec): Map<string, PoolRule> {
  const map = new Map<string, PoolRule>();
  const cp = spec.controlPlane;
  const cpSurge = cp.rollout?.maxSurge ?? 1;
  map.set(CONTROL_PLANE, { replicas: cp.replicas, maxMachines: cp.replicas + cpSurge, minAvailable: cp.replicas - 1 + cpSurge, quorum: Math.floor(cp.replicas / 2) + 1 });
  for (const pool of spec.workers) {
    const surge = scaledValue(pool.rollout?.maxSurge ?? 1, pool.replicas, true);
    const unavailable = scaledValue(pool.rollout?.maxUnavailable ?? 0, pool.replicas, false);
    // OnDelete pools only replace what the user deletes: the surge bound still holds, availability is the user's call.
    const onDelete = pool.rollout?.strategy === 'OnDelete';
    map.set(pool.name, { replicas: pool.replicas, maxMachines: pool.replicas + surge, minAvailable: onDelete ? 0 : Math.max(0, pool.replicas - unavailable) });
  }
  return map;
}

function median(values: readonly number[]): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function poolOf(event: ReplayEvent): string | undefined {
  if (event.pool) return event.pool;
  return event.data?.role === CONTROL_PLANE ? CONTROL_PLANE : undefined;
}

function versionOf(event: ReplayEvent): string | undefined {
  const v = event.data?.version;
  return typeof v === 'string' ? v : undefined;
}

const MACHINE_EVENTS = new Set(['MachineCreated', 'MachineReady', 'MachineDraining', 'MachineDrainBlocked', 'MachineDeleted', 'MachineFailed', 'MachineUnhealthy', 'MachineMissing']);

/** Machines that were alive before the window: first seen with anything but MachineCreated. */
function inferInitial(events: readonly ReplayEvent[]): Map<string, MachineState> {
  const seen = new Map<string, MachineState>();
  const first = new Set<string>();
  for (const e of events) {
    if (!e.machine || !MACHINE_EVENTS.has(e.type) || first.has(e.machine)) continue;
    first.add(e.machine);
    const pool = poolOf(e);
    if (e.type === 'MachineCreated' || !pool) continue;
    seen.set(e.machine, { pool, version: versionOf(e), ready: e.type !== 'MachineReady' && e.type !== 'MachineFailed', gone: false, old: true });
  }
  return seen;
}

/**
 * Replays `events` (ascending seq) against `spec` and reports every broken guarantee, the rollout's waves and
 * timing, and the lower bound on its duration.
 */
export function replayGuarantees(events: readonly ReplayEvent[], spec: ReplaySpec, options: ReplayOptions = {}): ReplayResult {
  const poolRules = rules(spec);
  const ordered = [...events].sort((a, b) => a.seq - b.seq);
  const machines = options.initial
    ? new Map(options.initial.map((m) => [m.name, { pool: m.pool, version: m.version, ready: m.ready, gone: false, old: true } as MachineState]))
    : inferInitial(ordered);

  const violations: Violation[] = [];
  const stats = new Map<string, { peak: number; lowest: number | undefined; established: boolean; created: number; deleted: number }>();
  for (const pool of poolRules.keys()) stats.set(pool, { peak: 0, lowest: undefined, established: false, created: 0, deleted: 0 });
  const boots: number[] = [];
  const drains: number[] = [];
  const replaced: string[] = [];
  const created: string[] = [];
  const booting = new Set<string>();
  let waves = 0;
  let deleting = false;
  let completed = false;
  let blocked = false;
  let workerReplacementSeq: number | undefined;
  let lateControlPlane: ReplayEvent | undefined;
  // etcd members by machine name: the control-plane machines Ready before the window, then MachineReady adds and
  // EtcdMemberRemoved removes.
  const members = new Set([...machines].filter(([, m]) => m.pool === CONTROL_PLANE && m.ready).map(([name]) => name));
  const down = new Set<string>();
  let peakMembers = members.size;
  let lowestMemberMargin: number | undefined;
  const checkEtcd = (event: ReplayEvent) => {
    const rule = poolRules.get(CONTROL_PLANE)!;
    peakMembers = Math.max(peakMembers, members.size);
    if (members.size > rule.maxMachines) {
      violations.push({ rule: 'EtcdMembership', seq: event.seq, time: event.time, pool: CONTROL_PLANE, message: `etcd: ${members.size} members after ${describe(event)}, at most ${rule.maxMachines} (replicas + maxSurge)` });
    }
    if (deleting || !stats.get(CONTROL_PLANE)!.established || members.size === 0) return;
    // A member is up while its machine lives and has not been seen failing (a draining machine still runs etcd).
    const healthy = [...members].filter((n) => { const m = machines.get(n); return m !== undefined && !m.gone && !down.has(n); }).length;
    const quorum = Math.floor(members.size / 2) + 1;
    lowestMemberMargin = Math.min(lowestMemberMargin ?? Infinity, healthy - quorum);
    if (healthy < quorum) {
      violations.push({ rule: 'EtcdMembership', seq: event.seq, time: event.time, pool: CONTROL_PLANE, message: `etcd: ${healthy} of ${members.size} members up after ${describe(event)}, quorum needs ${quorum}` });
    }
  };

  const live = (pool: string) => [...machines.values()].filter((m) => m.pool === pool && !m.gone);
  /** Records extremes and checks the bounds; without an event, only records the state before the window. */
  const check = (event?: ReplayEvent) => {
    for (const [pool, rule] of poolRules) {
      const s = stats.get(pool)!;
      const alive = live(pool);
      const total = alive.length;
      const ready = alive.filter((m) => m.ready).length;
      s.peak = Math.max(s.peak, total);
      if (ready >= rule.replicas) s.established = true;
      if (!event) {
        if (s.established) s.lowest = ready;
        continue;
      }
      if (total > rule.maxMachines) {
        violations.push({ rule: 'MaxSurge', seq: event.seq, time: event.time, pool, message: `${pool}: ${total} machines after ${describe(event)}, at most ${rule.maxMachines} allowed (replicas ${rule.replicas} + maxSurge)` });
      }
      if (!s.established || deleting) continue;
      s.lowest = s.lowest === undefined ? ready : Math.min(s.lowest, ready);
      if (ready < rule.minAvailable) {
        violations.push({ rule: 'MaxUnavailable', seq: event.seq, time: event.time, pool, message: `${pool}: ${ready} Ready after ${describe(event)}, at least ${rule.minAvailable} required` });
      }
      if (rule.quorum !== undefined && ready < rule.quorum) {
        violations.push({ rule: 'Quorum', seq: event.seq, time: event.time, pool, message: `control plane: ${ready} Ready after ${describe(event)}, quorum needs ${rule.quorum}` });
      }
    }
  };

  check();
  for (const event of ordered) {
    if (event.type === 'ClusterDeleting') deleting = true;
    if (event.type === 'RolloutCompleted') completed = true;
    if (event.type === 'RolloutBlocked') blocked = true;
    if (event.type === 'EtcdMemberRemoved' && event.machine) members.delete(event.machine);
    if (!event.machine || !MACHINE_EVENTS.has(event.type)) {
      check(event);
      checkEtcd(event);
      continue;
    }
    const name = event.machine;
    const pool = poolOf(event) ?? machines.get(name)?.pool ?? 'unknown';
    const at = Date.parse(event.time);
    let m = machines.get(name);
    if (!m) {
      m = { pool, version: versionOf(event), ready: false, gone: false, old: false };
      machines.set(name, m);
    }
    const isWorker = pool !== CONTROL_PLANE;
    switch (event.type) {
      case 'MachineCreated': {
        m.createdAt = at;
        m.version = versionOf(event) ?? m.version;
        if (options.toVersion !== undefined && m.version !== undefined && m.version !== options.toVersion) m.old = true;
        if (!booting.size) waves++;
        booting.add(name);
        created.push(name);
        const poolStats = stats.get(pool);
        if (poolStats) poolStats.created++;
        const poolChanging = live(pool).some((other) => other !== m && (other.old || (m!.version !== undefined && other.version !== undefined && other.version !== m!.version)));
        if (isWorker && poolChanging && workerReplacementSeq === undefined && !deleting) workerReplacementSeq = event.seq;
        break;
      }
      case 'MachineReady':
        m.ready = true;
        if (!isWorker) members.add(name);
        down.delete(name);
        booting.delete(name);
        if (m.createdAt !== undefined) boots.push((at - m.createdAt) / 1000);
        break;
      case 'MachineFailed':
        m.ready = false;
        down.add(name);
        booting.delete(name);
        break;
      case 'MachineUnhealthy':
        m.ready = false;
        down.add(name);
        break;
      case 'MachineDraining':
        if (m.drainAt === undefined) m.drainAt = at;
        m.ready = false;
        if (isWorker && workerReplacementSeq === undefined && !deleting) workerReplacementSeq = event.seq;
        break;
      case 'MachineDrainBlocked':
        break;
      case 'MachineDeleted':
      case 'MachineMissing':
        if (event.type === 'MachineDeleted' && !isWorker && members.has(name) && !deleting) {
          violations.push({ rule: 'EtcdMembership', seq: event.seq, time: event.time, pool: CONTROL_PLANE, message: `etcd: ${describe(event)} while ${name} was still an etcd member` });
        }
        // From here on no member: removed before (checked above), or a machine that died (MachineMissing), whose stray
        // member Capstan removes later and which this replay no longer counts.
        members.delete(name);
        if (!m.gone) {
          m.gone = true;
          m.ready = false;
          booting.delete(name);
          const poolStats = stats.get(m.pool);
          if (poolStats) poolStats.deleted++;
          if (m.drainAt !== undefined && event.type === 'MachineDeleted') drains.push((at - m.drainAt) / 1000);
          if (m.old || (options.toVersion !== undefined && m.version !== options.toVersion)) replaced.push(name);
        }
        break;
    }
    if (!isWorker && workerReplacementSeq !== undefined && !deleting && ['MachineCreated', 'MachineDraining', 'MachineDeleted'].includes(event.type)) {
      lateControlPlane ??= event;
    }
    check(event);
    checkEtcd(event);
  }

  if (lateControlPlane) {
    violations.push({
      rule: 'ControlPlaneFirst',
      seq: lateControlPlane.seq,
      time: lateControlPlane.time,
      pool: CONTROL_PLANE,
      message: `control plane: ${describe(lateControlPlane)} after the worker replacement began at seq ${workerReplacementSeq}`,
    });
  }

  const medianBootSeconds = median(boots);
  const medianDrainSeconds = median(drains);
  const first = ordered[0];
  const last = ordered.at(-1);
  const durationSeconds = first && last ? (Date.parse(last.time) - Date.parse(first.time)) / 1000 : 0;
  const lowerBoundSeconds = waves * ((medianBootSeconds ?? 0) + (medianDrainSeconds ?? 0));
  const pools: PoolReplay[] = [...poolRules].map(([pool, rule]) => {
    const s = stats.get(pool)!;
    return { pool, replicas: rule.replicas, maxMachines: rule.maxMachines, minAvailable: rule.minAvailable, peakMachines: s.peak, lowestAvailable: s.lowest, created: s.created, deleted: s.deleted };
  });
  const byRule = (rule: Guarantee) => violations.filter((v) => v.rule === rule);
  const cp = pools.find((p) => p.pool === CONTROL_PLANE)!;
  const checks: GuaranteeCheck[] = [
    { rule: 'MaxSurge', ok: !byRule('MaxSurge').length, detail: pools.map((p) => `${p.pool} peak ${p.peakMachines}/${p.maxMachines}`).join(', ') },
    { rule: 'MaxUnavailable', ok: !byRule('MaxUnavailable').length, detail: pools.map((p) => `${p.pool} lowest ${p.lowestAvailable ?? '-'}≥${p.minAvailable}`).join(', ') },
    { rule: 'Quorum', ok: !byRule('Quorum').length, detail: `control plane lowest Ready ${cp.lowestAvailable ?? '-'}, quorum ${Math.floor(cp.replicas / 2) + 1}` },
    {
      rule: 'ControlPlaneFirst',
      ok: !byRule('ControlPlaneFirst').length,
      detail: workerReplacementSeq === undefined ? 'no worker was replaced' : `worker replacement began at seq ${workerReplacementSeq}${lateControlPlane ? `, control plane still changing at seq ${lateControlPlane.seq}` : ', after the control plane finished'}`,
    },
    {
      rule: 'EtcdMembership',
      ok: !byRule('EtcdMembership').length,
      detail: `peak ${peakMembers} members, lowest margin over quorum ${lowestMemberMargin ?? '-'}, every member removed before its machine`,
    },
  ];
  return {
    ok: violations.length === 0,
    violations,
    checks,
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

function describe(event: ReplayEvent): string {
  return `${event.type}${event.machine ? ` ${event.machine}` : ''} (seq ${event.seq})`;
}
