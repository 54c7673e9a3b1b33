/**
 * Per-pool pacing (functions/domain/reconcile/lanes.ts and the lane mode of plan-step.ts): an Act runs one lane per
 * pool, a lane's plan step issues only its own pool's intents within its share of the history budget, and the
 * execution's next Plan counts what the lanes spent.
 */
import { DEFAULT_SETTINGS } from '../../../../functions/adapters/deps.js';
import type { Intent } from '../../../../functions/domain/planner/types.js';
import { HISTORY_HANDOVER, LANE_EVENTS, PLAN_STEP_EVENTS } from '../../../../functions/domain/reconcile/history.js';
import { CLUSTER_LANE, groupLanes, laneOf, laneSpending } from '../../../../functions/domain/reconcile/lanes.js';
import { decidePlanStep, type PlanStepCursor } from '../../../../functions/domain/reconcile/plan-step.js';
import { cluster, machines, pool, T0 } from '../planner/fixtures.js';

const retire = (machine: string, p: string): Intent => ({ kind: 'RetireMachine', machine, pool: p, reason: 'Outdated' });

/** A cluster upgraded to v1.19.0 with two pools of 3 (maxSurge 1): the control plane is done, both pools roll. */
function upgrading() {
  const c = cluster({ version: 'v1.19.0', workers: [pool('md-0', 3), pool('md-1', 3)] }, { generation: 2 });
  const records = [...machines('control-plane', 3, { version: 'v1.19.0' }), ...machines('md-0', 3), ...machines('md-1', 3)];
  return { c, records };
}

function step(cursor: Partial<PlanStepCursor>) {
  const { c, records } = upgrading();
  return decidePlanStep({ cluster: c, machines: records, now: T0, settings: DEFAULT_SETTINGS, cursor: { execution: 'x', iteration: 0, historyEvents: 0, ...cursor } });
}

describe('laneOf and groupLanes', () => {
  it.each([
    ['a create', { kind: 'CreateMachine', machine: { pool: 'md-1' } } as unknown as Intent, 'md-1'],
    ['a retirement', retire('m', 'control-plane'), 'control-plane'],
    ['infrastructure', { kind: 'EnsureInfrastructure' } as Intent, CLUSTER_LANE],
  ])('puts %s in its pool\'s lane', (_name, intent, lane) => {
    expect(laneOf(intent)).toBe(lane);
  });

  it('groups a wave by pool in order of appearance and shares what is left of the budget equally', () => {
    // Act
    const lanes = groupLanes([retire('a1', 'md-0'), retire('b1', 'md-1'), retire('a2', 'md-0')], 1000);
    // Assess
    const share = Math.floor((HISTORY_HANDOVER - 1000 - 2 * LANE_EVENTS) / 2);
    expect(lanes.map((l) => [l.lane, l.intents.map((i) => (i as { machine: string }).machine), l.budget])).toEqual([
      ['md-0', ['a1', 'a2'], share],
      ['md-1', ['b1'], share],
    ]);
  });

  it('gives the cluster lane no budget (it never re-plans) and never a negative one', () => {
    expect(groupLanes([{ kind: 'EnsureInfrastructure' } as Intent], 0)[0]!.budget).toBe(0);
    expect(groupLanes([retire('a', 'md-0')], HISTORY_HANDOVER + 5)[0]!.budget).toBe(0);
  });

  it('counts what lanes spent plus each lane\'s own events, and nothing for garbage', () => {
    expect(laneSpending([{ lane: 'md-0', historyEvents: 300 }, { lane: 'md-1', historyEvents: 'x' }])).toBe(300 + 2 * LANE_EVENTS);
    expect(laneSpending(undefined)).toBe(0);
  });
});

describe('decidePlanStep with lanes', () => {
  it('answers the execution\'s Plan with one lane per pool', () => {
    // Act
    const d = step({});
    // Assess
    expect(d.output.plan.action).toBe('Act');
    expect(d.output.plan.lanes?.map((l) => [l.lane, l.intents.length])).toEqual([['md-0', 1], ['md-1', 1]]);
  });

  it('gives a lane only its own pool\'s intents, with its budget handed back', () => {
    // Act
    const d = step({ lane: { name: 'md-1', budget: 5000 }, historyEvents: 100 });
    // Assess
    expect(d.output.plan.action).toBe('Act');
    expect(d.output.plan.intents.map(laneOf)).toEqual(['md-1']);
    expect(d.output).toMatchObject({ lane: 'md-1', budget: 5000, historyEvents: 100 + PLAN_STEP_EVENTS + 51 });
    expect(d.releaseLease).toBe(false);
    expect(d.archive).toEqual([]);
  });

  it('ends a lane with nothing to do, writing nothing', () => {
    // Act: the control plane is up to date
    const d = step({ lane: { name: 'control-plane', budget: 5000 } });
    // Assess
    expect(d.output.plan).toEqual({ action: 'LaneDone', intents: [] });
    expect(d.events).toEqual([]);
    expect(d.status).toBeUndefined();
    expect(d.output.lane).toBe('control-plane');
  });

  it('ends a lane whose next step would not fit its budget', () => {
    const d = step({ lane: { name: 'md-0', budget: PLAN_STEP_EVENTS + 50 } });
    expect(d.output.plan.action).toBe('LaneDone');
  });

  it('adds what the lanes spent to the execution\'s estimate on the next Plan', () => {
    const without = step({ historyEvents: 1000 });
    const withLanes = step({ historyEvents: 1000, laneResults: [{ historyEvents: 700 }, { historyEvents: 0 }] });
    expect(withLanes.output.historyEvents - without.output.historyEvents).toBe(700 + 2 * LANE_EVENTS);
  });
});
