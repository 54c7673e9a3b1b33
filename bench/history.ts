/**
 * Figure 6, history budget: how many history events a rollout writes per plan iteration and per intent (counted
 * from the local interpreter's event logs of figure 1's upgrades, mapped to the events AWS Step Functions records),
 * the largest pool one execution can roll before the 25,000-event limit, and whether the hand-over to a fresh
 * execution (functions/domain/reconcile/history.ts: a worst-case event estimate per execution, waves capped; the ASL's
 * ContinueAsNew) keeps every execution under it. Also the widest wave a Plan output can carry under the 256 KiB
 * state payload limit.
 *
 * AWS history per interpreter event (Standard workflow, Lambda tasks):
 *   Task entered → TaskStateEntered, TaskScheduled, TaskStarted (+ TaskSubmitted for .waitForTaskToken)
 *   Task exited  → TaskSucceeded, TaskStateExited;  retried → TaskFailed, TaskScheduled, TaskStarted (+ Submitted)
 *   Map entered  → MapStateEntered, MapStateStarted;  exited → MapStateSucceeded, MapStateExited
 *   MapIteration started / succeeded / failed, other states' entered / exited, failed, caught, execution events → 1
 */
import { DEFAULT_SETTINGS } from '../functions/adapters/deps.js';
import { capWave, HISTORY_HANDOVER, intentEvents, PLAN_STEP_EVENTS } from '../functions/domain/reconcile/history.js';
import { figure, median, type Figure } from './lib/figure.js';
import type { RecordedEvent, RecordedExecution } from './lib/instrument.js';
import type { RolloutRun } from './rollout.js';

/** Step Functions' limit on one execution's history. */
export const HISTORY_LIMIT = 25_000;
/** Step Functions' limit on a state's input or output. */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;
/** Target of figure 6. */
export const TARGET_POOL = 1000;

const TOKEN_TASKS = new Set(['CreateMachine']);

/** AWS history events one interpreter event stands for. */
export function awsHistoryEvents(e: RecordedEvent): number {
  const task = e.state?.type === 'Task';
  const token = task && TOKEN_TASKS.has(e.state!.name) ? 1 : 0;
  switch (e.type) {
    case 'StateEntered':
      return task ? 3 + token : e.state?.type === 'Map' ? 2 : 1;
    case 'StateExited':
      return task || e.state?.type === 'Map' ? 2 : 1;
    case 'StateRetried':
      return 3 + token;
    default:
      return 1;
  }
}

/** The states of one intent (the machine steps inside a lane's LaneAct Map): their events are per-intent costs. */
const ITEM_STATES = new Set(['Route', 'UnknownIntent', 'CreateMachine', 'BootTimedOut', 'CreateFailed', 'RetireMachine', 'DeleteMachine', 'EnsureInfrastructure', 'DeleteInfrastructure', 'DeleteCluster']);

/**
 * History events of one execution split into the per-iteration part (the execution's Plan steps and each lane's
 * LanePlan steps, with their Choice, Map and Pass states) and the per-intent part (the machine steps; Map iteration
 * events are counted here too, lanes' included: a worst case for the per-intent figure). Intents are counted by
 * their Route state, iterations by Plan and LanePlan entries.
 */
export function historyShape(ex: RecordedExecution): { total: number; topLevel: number; items: number; iterations: number; intents: number } {
  let topLevel = 0;
  let items = 0;
  let iterations = 0;
  let intents = 0;
  for (const e of ex.events) {
    const n = awsHistoryEvents(e);
    if (e.type === 'ExecutionStarted' || e.type.startsWith('Execution')) continue;
    if (e.type.startsWith('MapIteration') || (e.state && ITEM_STATES.has(e.state.name))) items += n;
    else topLevel += n;
    if (e.type === 'StateEntered' && (e.state?.name === 'Plan' || e.state?.name === 'LanePlan')) iterations++;
    if (e.type === 'StateEntered' && e.state?.name === 'Route') intents++;
  }
  return { total: topLevel + items + 2, topLevel, items, iterations, intents };
}

/**
 * Largest history of any one execution when rolling a pool of n machines with maxSurge s (maxUnavailable 0), as the
 * plan step paces it (functions/domain/reconcile/history.ts): waves alternate creates and retirements, each capped to the
 * wave budget, and the plan hands over to a fresh execution once its worst-case estimate would pass the hand-over
 * mark. Actual events per iteration and per intent are the measured ones.
 */
export function worstExecutionEvents(n: number, s: number, perIteration: number, perIntent: number, continueAfter: number): number {
  const createWidth = Math.min(s, capWave(Array.from({ length: s }, () => ({ kind: 'CreateMachine' as const }))).wave.length);
  const retireWidth = Math.min(s, capWave(Array.from({ length: s }, () => ({ kind: 'RetireMachine' as const }))).wave.length);
  let estimate = 0;
  let actual = 0;
  let iterations = 0;
  let worst = 0;
  const step = (width: number, kind: 'CreateMachine' | 'RetireMachine') => {
    const waveWorst = width * intentEvents({ kind });
    if (estimate + PLAN_STEP_EVENTS + waveWorst > HISTORY_HANDOVER || iterations + 1 >= continueAfter) {
      worst = Math.max(worst, actual + perIteration); // the hand-over step itself
      estimate = 0;
      actual = 0;
      iterations = 0;
    }
    estimate += PLAN_STEP_EVENTS + waveWorst;
    actual += perIteration + width * perIntent;
    iterations++;
  };
  for (let created = 0; created < n; created += createWidth) step(Math.min(createWidth, n - created), 'CreateMachine');
  for (let retired = 0; retired < n; retired += retireWidth) step(Math.min(retireWidth, n - retired), 'RetireMachine');
  return 2 + Math.max(worst, actual + perIteration);
}

/** maxSurge values to try for a pool of n: the small ones, round ones, the wave caps, and n itself. */
function surges(n: number): number[] {
  return [...new Set([1, 2, 3, 5, 10, 25, 50, 97, 100, 235, 500, 1000, n].filter((s) => s <= n))];
}

/** Largest pool (≤ `ceiling`) for which every tried maxSurge keeps every execution within the limit. */
export function largestSafePool(perIteration: number, perIntent: number, continueAfter: number, limit = HISTORY_LIMIT, ceiling = 100_000): number {
  const fits = (n: number) => surges(n).every((s) => worstExecutionEvents(n, s, perIteration, perIntent, continueAfter) <= limit);
  for (const n of [10, 100, 1000, 10_000, ceiling]) if (!fits(n)) {
    let lo = Math.floor(n / 10);
    let hi = n;
    while (lo + 1 < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (fits(mid)) lo = mid;
      else hi = mid;
    }
    return lo;
  }
  return ceiling;
}

/** Bytes a Plan output carries per intent: (output − output without intents) ÷ intents, over every Act step. */
function bytesPerIntent(executions: readonly RecordedExecution[]): { perIntent: number; empty: number } {
  const samples: { bytes: number; intents: number }[] = [];
  for (const ex of executions) {
    let pending: number | undefined;
    let count = 0;
    for (const e of ex.events) {
      if (e.type === 'StateExited' && e.state?.name === 'Plan' && e.index === undefined) {
        if (pending !== undefined) samples.push({ bytes: pending, intents: count });
        pending = e.outputBytes ?? 0;
        count = 0;
      }
      if (e.type === 'StateEntered' && e.state?.name === 'Route') count++;
    }
    if (pending !== undefined) samples.push({ bytes: pending, intents: count });
  }
  const empty = median(samples.filter((x) => x.intents === 0).map((x) => x.bytes)) || 300;
  const ratios = samples.filter((x) => x.intents > 0).map((x) => (x.bytes - empty) / x.intents);
  return { perIntent: median(ratios), empty };
}

/** Figure 6 lines from figure 1's recorded executions. */
export function historyFigures(runs: readonly RolloutRun[], continueAfter = DEFAULT_SETTINGS.continueAfterIterations): Figure[] {
  const executions = runs.flatMap((r) => r.executions);
  const shapes = executions.map(historyShape);
  const sum = (f: (s: ReturnType<typeof historyShape>) => number) => shapes.reduce((n, s) => n + f(s), 0);
  const perIteration = sum((s) => s.topLevel) / Math.max(1, sum((s) => s.iterations));
  const perIntent = sum((s) => s.items) / Math.max(1, sum((s) => s.intents));
  const oneExecution = Math.floor((HISTORY_LIMIT - 2 - perIteration) / (2 * perIteration + 2 * perIntent));
  const withHandover = largestSafePool(perIteration, perIntent, continueAfter);
  const bytes = bytesPerIntent(executions);
  const widestWave = Math.floor((PAYLOAD_LIMIT_BYTES - bytes.empty) / bytes.perIntent);
  const widestPlanned = capWave(Array.from({ length: 100_000 }, () => ({ kind: 'CreateMachine' as const }))).wave.length;
  const largestExecution = Math.max(...shapes.map((s) => s.total));
  const detail = { perIteration, perIntent, continueAfterIterations: continueAfter, executions: executions.length, largestExecutionEvents: largestExecution, planOutputBytesPerIntent: Math.round(bytes.perIntent), planOutputBytesEmpty: Math.round(bytes.empty) };
  return [
    figure('history.eventsPerIteration', perIteration, 'events', 11, 'baseline', 'Plan 5 + Decide 2 + Map 4 (a lane: LanePlan 5 + LaneDecide 2 + LaneAct 4)'),
    figure('history.eventsPerIntent', perIntent, 'events', 9, 'baseline', 'iteration 2 + Route 2 + Task 5 (+1 with a task token)'),
    figure('history.maxPool.oneExecution.maxSurge1', oneExecution, 'machines', TARGET_POOL, 'min', 'target, no hand-over', detail),
    figure('history.maxPool.withHandover.anyMaxSurge', withHandover, 'machines', TARGET_POOL, 'min', `target; hand-over on a worst-case event budget (${HISTORY_HANDOVER}), waves capped (checked up to 100,000)`, detail),
    figure('history.maxWaveWidth.payload256KiB', widestWave, 'intents', widestPlanned, 'min', `the widest wave a Plan emits (${widestPlanned}, history cap) must fit the payload`, detail),
  ];
}
