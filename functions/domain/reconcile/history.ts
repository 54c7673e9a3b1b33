/**
 * The Step Functions history budget. One execution may record at most 25,000 history events; a rollout of a
 * 1,000-machine pool needs far more. Each plan step therefore estimates, from worst cases, what the next wave can
 * add, caps the wave so that it always fits, and hands the cluster to a fresh execution (ContinueAsNew) before the
 * estimate could cross the limit.
 *
 * Worst cases per item, counted from the ASL file (infra/workflows/rollout.asl.json):
 *   a Map item   = MapIterationStarted/Succeeded (2) + Route Choice (2) + Task (5: entered, scheduled, started,
 *                  succeeded, exited) + 3 per retry, at most 14 transient retries        → 9 + 42 = 51
 *   a retirement = the same + up to 24 DrainInProgressError retries (3 events each)       → 51 + 72 = 123
 *   a plan step  = Plan Task (5) + Decide (2) + Map or Wait (4) + retries (3 × 14)        → 53, rounded to 60
 *                  (a lane's plan step: LanePlan Task (5) + LaneDecide (2) + LaneAct Map (4) + retries: the same)
 *   a lane       = its Map iteration in Act (2) + LaneDone (2) + a LanePlan Catch (2)       → 6, rounded to 10
 */
import type { Intent } from '../planner/types.js';

export const HISTORY_LIMIT = 25_000;
/** Hand over once the estimate would pass this (a margin below the hard limit). */
export const HISTORY_HANDOVER = 24_000;
/** The largest worst-case cost of one wave, so a fresh execution always has room for it. */
export const WAVE_BUDGET = 12_000;
export const PLAN_STEP_EVENTS = 60;
/** What one lane adds to its execution besides its plan steps and waves (see the table above). */
export const LANE_EVENTS = 10;

/** Worst-case history events one intent adds. */
export function intentEvents(intent: Pick<Intent, 'kind'>): number {
  return intent.kind === 'RetireMachine' ? 123 : 51;
}

/**
 * The prefix of `intents` whose worst case fits `budget` (at least one intent). Acting on a prefix is always safe:
 * each intent respects the pacing bounds on its own, and doing fewer never breaks them.
 */
export function capWave<I extends Pick<Intent, 'kind'>>(intents: readonly I[], budget = WAVE_BUDGET): { wave: I[]; events: number } {
  const wave: I[] = [];
  let events = 0;
  for (const intent of intents) {
    const cost = intentEvents(intent);
    if (wave.length && events + cost > budget) break;
    wave.push(intent);
    events += cost;
  }
  return { wave, events };
}
