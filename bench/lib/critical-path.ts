/**
 * The lower bound of figure 1: the fastest wall time Capstan's pacing rules allow for the boot and drain times a
 * rollout actually drew, pool by pool (not steps × medians: with spread boots a wave lasts as long as its slowest).
 *
 * Its own file because it is the yardstick figure 1 is judged by and the times the peer models replay
 * (bench/peers.ts): pure functions of the measured times, checked against hand-computed cases
 * (test/bench/critical-path.test.ts).
 *
 * The pacing rules (functions/domain/planner/, and the per-pool lanes of functions/domain/reconcile/lanes.ts):
 *
 *   control plane   [b1][d1][b2][d2][b3][d3]                 one machine at a time: create → Ready → drain → deleted
 *   md-0                                    [max b][max d][max b][max d]   waves of maxSurge (maxUnavailable 0)
 *   md-1                                    [max b][max d]                 pools do not wait for each other
 *   bound = control-plane chain + the slowest pool's chain
 *
 * A wave's creates all boot together and its next step (retiring as many old machines) starts when ITS slowest boot
 * is Ready; the next wave's creates start when its slowest retirement is deleted (machines being deleted count
 * toward maxSurge). Worker pools roll only once the control plane is settled (planWorkerPool).
 */
import { CONTROL_PLANE_POOL, type ClusterSpec } from '../../functions/domain/cluster.js';
import type { Machine } from '../../functions/domain/machine.js';
import { resolveFenceposts } from '../../functions/domain/planner/index.js';

/** The measured times of one pool's replacements, in the order the rollout made them. */
export interface PoolTimes {
  readonly pool: string;
  /** Boot of each new machine (record createdAt → readyAt), in creation order. */
  readonly bootMs: readonly number[];
  /** Retirement of each replaced machine (record drainStartedAt → deletedAt), in retirement order. */
  readonly drainMs: readonly number[];
  /** Machines per wave: 1 for the control plane, the resolved maxSurge for a worker pool. */
  readonly waveSize: number;
}

/** The times of one rollout: the control plane and every worker pool. */
export interface RolloutTimes {
  readonly controlPlane: PoolTimes;
  readonly workers: readonly PoolTimes[];
}

/** The bound and how it is made up. */
export interface CriticalPath {
  /** Control-plane chain + the slowest worker pool's chain. */
  readonly totalMs: number;
  readonly controlPlaneMs: number;
  /** Each worker pool's chain of waves. */
  readonly poolMs: Readonly<Record<string, number>>;
  /** Sequential steps on the path: control-plane replacements + the slowest pool's waves. */
  readonly steps: number;
}

const maxOf = (values: readonly number[]): number => values.reduce((m, v) => Math.max(m, v), 0);

/** One pool's chain: the sum over its waves of the wave's slowest boot plus its slowest retirement. */
export function poolChainMs(times: PoolTimes): { readonly ms: number; readonly waves: number } {
  const size = Math.max(1, times.waveSize);
  const waves = Math.ceil(Math.max(times.bootMs.length, times.drainMs.length) / size);
  let ms = 0;
  for (let w = 0; w < waves; w++) {
    ms += maxOf(times.bootMs.slice(w * size, (w + 1) * size)) + maxOf(times.drainMs.slice(w * size, (w + 1) * size));
  }
  return { ms, waves };
}

/** The fastest wall time the pacing rules allow for these times (see the file comment). */
export function criticalPath(times: RolloutTimes): CriticalPath {
  const cp = poolChainMs(times.controlPlane);
  const pools = times.workers.map((p) => ({ pool: p.pool, ...poolChainMs(p) }));
  const slowest = pools.reduce<(typeof pools)[number] | undefined>((a, p) => (a === undefined || p.ms > a.ms ? p : a), undefined);
  return {
    totalMs: cp.ms + (slowest?.ms ?? 0),
    controlPlaneMs: cp.ms,
    poolMs: Object.fromEntries(pools.map((p) => [p.pool, p.ms])),
    steps: cp.waves + (slowest?.waves ?? 0),
  };
}

const at = (iso: string | undefined): number => (iso === undefined ? Number.NaN : Date.parse(iso));

/**
 * The times of one upgrade from its machine records: every machine created since (not in `before`) and Ready, and
 * every machine of `before` that was drained and deleted, grouped by pool in creation / retirement order.
 *
 * Note: the waves are the creation order cut into maxSurge-sized pieces, as the planner makes them. Only
 * maxUnavailable 0 is modelled (what the bench runs): a pool that resolves to more fails loudly.
 */
export function rolloutTimes(spec: ClusterSpec, before: readonly Pick<Machine, 'name'>[], records: readonly Machine[]): RolloutTimes {
  const old = new Set(before.map((m) => m.name));
  const of = (pool: string, waveSize: number): PoolTimes => {
    const mine = records.filter((m) => m.pool === pool);
    const fresh = mine.filter((m) => !old.has(m.name) && m.readyAt).sort((a, b) => at(a.createdAt) - at(b.createdAt) || a.name.localeCompare(b.name));
    const retired = mine.filter((m) => old.has(m.name) && m.deletedAt && m.drainStartedAt).sort((a, b) => at(a.drainStartedAt) - at(b.drainStartedAt) || a.name.localeCompare(b.name));
    return {
      pool,
      bootMs: fresh.map((m) => at(m.readyAt) - at(m.createdAt)),
      drainMs: retired.map((m) => at(m.deletedAt) - at(m.drainStartedAt)),
      waveSize,
    };
  };
  const workers = spec.workers.map((p) => {
    const { surge, unavailable } = resolveFenceposts(p.rollout.maxSurge, p.rollout.maxUnavailable, p.replicas);
    if (unavailable > 0) throw new Error(`critical path: pool ${p.name} resolves maxUnavailable to ${unavailable}; only maxUnavailable 0 is modelled`);
    return of(p.name, surge);
  });
  return { controlPlane: of(CONTROL_PLANE_POOL, 1), workers };
}
