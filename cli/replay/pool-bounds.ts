/**
 * The count guarantees of every pool, checked after each event: `MaxSurge` (machines ≤ replicas + maxSurge),
 * `MaxUnavailable` (Ready ≥ replicas − maxUnavailable; the control plane: replicas − 1 + maxSurge) and `Quorum`
 * (Ready control-plane machines ≥ ⌊replicas / 2⌋ + 1).
 *
 * Its own file because the three share one count of each pool per event and the pool's extremes (`PoolReplay`);
 * the guarantees about order (control-plane-first.ts) and etcd (etcd-membership.ts) read other state.
 *
 * Note: availability and quorum are checked only once the pool has been fully available in the window, and never
 * after `ClusterDeleting` (the caller passes `deleting`).
 */
import { scaledValue } from '../../functions/domain/intstr.js';
import { CONTROL_PLANE, describeEvent, liveMachines, type MachineState } from './machines.js';
import type { GuaranteeCheck, Guarantee, PoolReplay, ReplayEvent, ReplaySpec, Violation } from './types.js';

/** The bounds of one pool, from the spec. */
export interface PoolRule {
  readonly replicas: number;
  readonly maxMachines: number;
  readonly minAvailable: number;
  /** Control plane only: the Ready machines etcd needs. */
  readonly quorum?: number;
}

/** The bounds of every pool of `spec`, the control plane (keyed `control-plane`) first, then workers in spec order. */
export function poolRules(spec: ReplaySpec): Map<string, PoolRule> {
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

interface PoolStats {
  peak: number;
  lowest: number | undefined;
  established: boolean;
  created: number;
  deleted: number;
}

/** Checks MaxSurge, MaxUnavailable and Quorum for every pool and records each pool's extremes. */
export class PoolBounds {
  private readonly stats = new Map<string, PoolStats>();

  /**
   * @param machines the replay's machines, read on every check
   * @param violations where broken guarantees are appended (shared with the other checkers, in event order)
   */
  constructor(
    private readonly rules: ReadonlyMap<string, PoolRule>,
    private readonly machines: ReadonlyMap<string, MachineState>,
    private readonly violations: Violation[],
  ) {
    for (const pool of rules.keys()) this.stats.set(pool, { peak: 0, lowest: undefined, established: false, created: 0, deleted: 0 });
  }

  /** The pool has been fully available in the window: from then on its availability is checked. */
  established(pool: string): boolean {
    return this.stats.get(pool)!.established;
  }

  /** Counts a machine created in `pool` (ignored for a pool not in the spec). */
  countCreated(pool: string): void {
    const s = this.stats.get(pool);
    if (s) s.created++;
  }

  /** Counts a machine of `pool` gone (ignored for a pool not in the spec). */
  countDeleted(pool: string): void {
    const s = this.stats.get(pool);
    if (s) s.deleted++;
  }

  /** Records extremes and checks the bounds; without an event, only records the state before the window. */
  check(event: ReplayEvent | undefined, deleting: boolean): void {
    for (const [pool, rule] of this.rules) {
      const s = this.stats.get(pool)!;
      const alive = liveMachines(this.machines, pool);
      const total = alive.length;
      const ready = alive.filter((m) => m.ready).length;
      s.peak = Math.max(s.peak, total);
      if (ready >= rule.replicas) s.established = true;
      if (!event) {
        if (s.established) s.lowest = ready;
        continue;
      }
      if (total > rule.maxMachines) {
        this.violations.push({ rule: 'MaxSurge', seq: event.seq, time: event.time, pool, message: `${pool}: ${total} machines after ${describeEvent(event)}, at most ${rule.maxMachines} allowed (replicas ${rule.replicas} + maxSurge)` });
      }
      if (!s.established || deleting) continue;
      s.lowest = s.lowest === undefined ? ready : Math.min(s.lowest, ready);
      if (ready < rule.minAvailable) {
        this.violations.push({ rule: 'MaxUnavailable', seq: event.seq, time: event.time, pool, message: `${pool}: ${ready} Ready after ${describeEvent(event)}, at least ${rule.minAvailable} required` });
      }
      if (rule.quorum !== undefined && ready < rule.quorum) {
        this.violations.push({ rule: 'Quorum', seq: event.seq, time: event.time, pool, message: `control plane: ${ready} Ready after ${describeEvent(event)}, quorum needs ${rule.quorum}` });
      }
    }
  }

  /** Each pool's extremes over the window, in rule order. */
  pools(): PoolReplay[] {
    return [...this.rules].map(([pool, rule]) => {
      const s = this.stats.get(pool)!;
      return { pool, replicas: rule.replicas, maxMachines: rule.maxMachines, minAvailable: rule.minAvailable, peakMachines: s.peak, lowestAvailable: s.lowest, created: s.created, deleted: s.deleted };
    });
  }

  /** The MaxSurge, MaxUnavailable and Quorum rows of the summary, from `pools` and the violations recorded. */
  summary(pools: readonly PoolReplay[]): GuaranteeCheck[] {
    const ok = (rule: Guarantee) => !this.violations.some((v) => v.rule === rule);
    const cp = pools.find((p) => p.pool === CONTROL_PLANE)!;
    return [
      { rule: 'MaxSurge', ok: ok('MaxSurge'), detail: pools.map((p) => `${p.pool} peak ${p.peakMachines}/${p.maxMachines}`).join(', ') },
      { rule: 'MaxUnavailable', ok: ok('MaxUnavailable'), detail: pools.map((p) => `${p.pool} lowest ${p.lowestAvailable ?? '-'}≥${p.minAvailable}`).join(', ') },
      { rule: 'Quorum', ok: ok('Quorum'), detail: `control plane lowest Ready ${cp.lowestAvailable ?? '-'}, quorum ${Math.floor(cp.replicas / 2) + 1}` },
    ];
  }
}
