/**
 * Dry run: what a spec change would do, without doing it. The planner is simulated to completion over the
 * current machines; durations come from the boot and drain times this cluster's machines actually showed.
 */
import type { Deps } from '../../adapters/deps.js';
import type { Cluster } from '../../domain/cluster.js';
import type { Machine } from '../../domain/machine.js';
import { simulateRollout } from '../../domain/planner/index.js';

export interface DryRunPlan {
  readonly waves: readonly { readonly creates: readonly string[]; readonly removes: readonly string[] }[];
  readonly waveCount: number;
  /** Machines that will be replaced (removed and not kept), in order. */
  readonly replaced: readonly string[];
  readonly estimatedSeconds: number;
  readonly assumptions: { readonly bootSeconds: number; readonly drainSeconds: number; readonly basis: string };
}

function median(values: number[]): number | undefined {
  if (!values.length) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Observed boot time (createdAt → readyAt) of this cluster's machines, in seconds. */
export function observedBootSeconds(machines: readonly Machine[]): number | undefined {
  return median(machines.filter((m) => m.readyAt).map((m) => (Date.parse(m.readyAt!) - Date.parse(m.createdAt)) / 1000));
}

/** Observed drain time (drainStartedAt → deletedAt) in seconds. */
export function observedDrainSeconds(machines: readonly Machine[]): number | undefined {
  return median(machines.filter((m) => m.drainStartedAt && m.deletedAt).map((m) => (Date.parse(m.deletedAt!) - Date.parse(m.drainStartedAt!)) / 1000));
}

/** Simulates the rollout of `cluster` from `machines` (all records, deleted included). */
export async function dryRunPlan(deps: Deps, cluster: Cluster, machines: readonly Machine[]): Promise<DryRunPlan> {
  const boot = observedBootSeconds(machines);
  const drain = observedDrainSeconds(machines);
  const defaults = cluster.spec.infrastructure.provider === 'aws' ? { boot: 180, drain: 60 } : { boot: 2, drain: 1 };
  const bootSeconds = Math.round((boot ?? defaults.boot) * 10) / 10;
  const drainSeconds = Math.round((drain ?? defaults.drain) * 10) / 10;
  const sim = simulateRollout(
    { cluster, machines, now: deps.clock.now(), maxBootAttempts: deps.settings.maxBootAttempts },
    { bootSeconds, drainSeconds },
  );
  const created = new Set(sim.waves.flatMap((w) => w.creates));
  return {
    waves: sim.waves,
    waveCount: sim.waves.length,
    replaced: sim.waves.flatMap((w) => w.removes).filter((name) => !created.has(name)),
    estimatedSeconds: Math.round(sim.estimatedSeconds),
    assumptions: { bootSeconds, drainSeconds, basis: boot !== undefined ? 'median of this cluster’s observed machines' : 'defaults for the provider (no machine observed yet)' },
  };
}
