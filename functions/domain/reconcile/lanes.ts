/**
 * Per-pool pacing: one Act of the workflow runs one LANE per pool (the control plane is a pool) and each lane loops
 * act → plan → act on its own pool until its pool has nothing to do, so the slowest machine of one pool's wave no
 * longer holds every other pool's next wave (infra/workflows/rollout.asl.json: Act is a Map over lanes, each lane a
 * Map over its intents followed by a LanePlan). Pools stay independent as Cluster API's MachineDeployments are: a
 * lane only ever issues intents of its own pool, and cluster-wide rules (control plane first, health-check
 * short-circuits) are decided by the same planner on every lane's plan step.
 *
 *   Plan ─▶ Act ┬─ lane control-plane: [intents] ─▶ LanePlan ─▶ [intents] ─▶ LanePlan ─▶ done
 *               ├─ lane md-0:          [intents] ─▶ LanePlan ─▶ done
 *               └─ lane md-1:          [intents] ─▶ LanePlan ─▶ [intents] ─▶ … ─▶ done
 *        ◀──────┘ (when every lane is done)
 *
 * History budget: every lane gets an equal share of what the execution has left below the hand-over point, stops
 * when its next step would not fit, and reports what it spent; the next Plan adds the lanes' spending to its
 * estimate, so the execution's worst case never passes the limit (./history.ts).
 */
import type { Intent } from '../planner/types.js';
import { HISTORY_HANDOVER, LANE_EVENTS } from './history.js';

/** The lane of intents that are not about one pool's machines (infrastructure, the cluster record). */
export const CLUSTER_LANE = '_cluster';

/** One lane of an Act: a pool, the intents it starts with, and its share of the history budget. */
export interface Lane<I> {
  readonly lane: string;
  readonly intents: readonly I[];
  readonly budget: number;
}

/** The lane an intent belongs to: its machine's pool, or the cluster lane. */
export function laneOf(intent: Intent): string {
  if (intent.kind === 'CreateMachine') return intent.machine.pool;
  if (intent.kind === 'RetireMachine' || intent.kind === 'DeleteMachine') return intent.pool;
  return CLUSTER_LANE;
}

/**
 * Groups a wave into lanes (in the order each lane first appears) and shares out what is left of the budget after
 * the wave (`spentAfterWave`, the execution's estimate including this wave) equally between them.
 */
export function groupLanes<I extends Intent>(wave: readonly I[], spentAfterWave: number): Lane<I>[] {
  const byLane = new Map<string, I[]>();
  for (const intent of wave) {
    const lane = laneOf(intent);
    byLane.set(lane, [...(byLane.get(lane) ?? []), intent]);
  }
  const left = Math.max(0, HISTORY_HANDOVER - spentAfterWave - byLane.size * LANE_EVENTS);
  const budget = byLane.size ? Math.floor(left / byLane.size) : 0;
  return [...byLane.entries()].map(([lane, intents]) => ({ lane, intents, budget: lane === CLUSTER_LANE ? 0 : budget }));
}

/**
 * What the lanes of the last Act spent (the `historyEvents` each reports), plus each lane's own iteration cost.
 * Garbage counts as nothing spent beyond the lane itself: the estimate stays a worst case through LANE_EVENTS.
 */
export function laneSpending(results: unknown): number {
  if (!Array.isArray(results)) return 0;
  return results.reduce<number>((sum, r) => {
    const spent = Number((r as { historyEvents?: unknown } | null)?.historyEvents ?? 0);
    return sum + LANE_EVENTS + (Number.isFinite(spent) && spent > 0 ? spent : 0);
  }, 0);
}
