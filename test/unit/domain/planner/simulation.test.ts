/**
 * Whole-rollout simulations of planCluster: every step is checked against the Cluster API bounds.
 */
import fc from 'fast-check';
import type { Cluster } from '../../../../functions/domain/cluster.js';
import type { Machine } from '../../../../functions/domain/machine.js';
import { planCluster, simulateRollout, estimateWaves, planSummary } from '../../../../functions/domain/planner/index.js';
import { cluster, machine, machines, pool, simulate, T0 } from './fixtures.js';

const UPGRADE = 'v1.19.1';

function upgraded(c: Cluster): Cluster {
  return { ...c, spec: { ...c.spec, version: UPGRADE } };
}

function baseline(): { c: Cluster; ms: Machine[] } {
  const c = cluster({ workers: [pool('md-0', 4, { maxSurge: 1, maxUnavailable: 0 }), pool('md-1', 3, { maxSurge: 0, maxUnavailable: 1 })] });
  return { c, ms: [...machines('control-plane', 3), ...machines('md-0', 4), ...machines('md-1', 3)] };
}

describe('planCluster simulation', () => {
  it.each([
    ['control plane maxSurge 1', 1 as const],
    ['control plane maxSurge 0', 0 as const],
  ])('upgrades v1.18.8 → v1.19.1 within the bounds (%s)', (_name, cpSurge) => {
    // Prepare
    const { c, ms } = baseline();
    const start = upgraded({ ...c, spec: { ...c.spec, controlPlane: { ...c.spec.controlPlane, rollout: { maxSurge: cpSurge } } } });

    // Act
    const result = simulate(start, ms, { checkWorkersAfterControlPlane: true });

    // Assess
    expect(result.violations).toEqual([]);
    expect(result.final.action).toBe('Done');
    for (const m of ms) expect(result.removals.get(m.name)).toBe(1);
    const live = result.machines.filter((m) => m.phase !== 'Deleted');
    expect(live).toHaveLength(10);
    expect(live.every((m) => m.version === UPGRADE && m.phase === 'Ready')).toBe(true);
  });

  it.each([
    ['scales md-0 up from 4 to 6 and md-1 down from 3 to 1', 6, 1],
    ['scales md-0 down from 4 to 2 and md-1 up from 3 to 5', 2, 5],
  ])('%s', (_name, md0, md1) => {
    // Prepare
    const { c, ms } = baseline();
    const start = { ...c, spec: { ...c.spec, workers: [pool('md-0', md0, { maxSurge: 1, maxUnavailable: 0 }), pool('md-1', md1, { maxSurge: 0, maxUnavailable: 1 })] } };

    // Act
    const result = simulate(start, ms);

    // Assess
    expect(result.violations).toEqual([]);
    expect(result.final.action).toBe('Done');
    expect(result.machines.filter((m) => m.pool === 'md-0' && m.phase !== 'Deleted')).toHaveLength(md0);
    expect(result.machines.filter((m) => m.pool === 'md-1' && m.phase !== 'Deleted')).toHaveLength(md1);
    const oldest = (pool: string) => result.machines.filter((m) => m.pool === pool && m.phase === 'Deleted').map((m) => m.ordinal);
    if (md0 < 4) expect(oldest('md-0')).toEqual([1, 2]);
  });

  it('replaces OnDelete machines only after the user asks', () => {
    // Prepare
    const c = upgraded(cluster({ workers: [pool('md-0', 3, { strategy: 'OnDelete' })] }));
    const before = [...machines('control-plane', 3, { version: UPGRADE }), ...machines('md-0', 3)];

    // Act
    const untouched = simulate(c, before);
    const asked = simulate(c, before.map((m) => (m.name === 'demo-md-0-2' ? { ...m, deleteRequested: true } : m)));

    // Assess
    expect(untouched.final.action).toBe('Done');
    expect(untouched.removals.size).toBe(0);
    expect(asked.violations).toEqual([]);
    expect(asked.final.action).toBe('Done');
    expect([...asked.removals.keys()]).toEqual(['demo-md-0-2']);
    const live = asked.machines.filter((m) => m.pool === 'md-0' && m.phase !== 'Deleted');
    expect(live.map((m) => [m.name, m.version])).toEqual([
      ['demo-md-0-1', 'v1.18.8'],
      ['demo-md-0-3', 'v1.18.8'],
      ['demo-md-0-4', UPGRADE],
    ]);
  });

  it('deletes workers, then the control plane, then the infrastructure, then the cluster', () => {
    // Prepare
    const { c, ms } = baseline();
    const deleting = { ...c, metadata: { ...c.metadata, deletionTimestamp: T0.toISOString() } };

    // Act
    const result = simulate(deleting, ms);

    // Assess
    expect(result.deletedCluster).toBe(true);
    const kinds = result.plans.filter((p) => p.action === 'Act').map((p) => [...new Set(p.intents.map((i) => (i.kind === 'RetireMachine' || i.kind === 'DeleteMachine' ? `${i.kind}:${i.pool === 'control-plane' ? 'cp' : 'worker'}` : i.kind)))].join('+'));
    expect(kinds).toEqual(['RetireMachine:worker', 'DeleteMachine:cp', 'DeleteInfrastructure', 'DeleteCluster']);
  });

  it('blocks a pool after 3 boot failures while other pools go on', () => {
    // Prepare
    const c = cluster({ workers: [pool('md-0', 2, { maxSurge: 1, maxUnavailable: 0 }), pool('md-1', 2, { maxSurge: 1, maxUnavailable: 0 })] });
    const broken = { ...c, spec: { ...c.spec, workers: [pool('md-0', 2, {}, { machine: { instanceType: 'broken.large' } }), pool('md-1', 2, {}, { machine: { instanceType: 'm5.large' } })] } };
    const before = [...machines('control-plane', 3), ...machines('md-0', 2), ...machines('md-1', 2)];

    // Act
    const result = simulate(broken, before, { boot: (m) => (m.pool === 'md-0' ? 'Fail' : 'Ready'), maxSteps: 200 });

    // Assess
    expect(result.violations).toEqual([]);
    expect(result.final.action).toBe('Blocked');
    expect(result.final.blocked?.reason).toBe('MachineBootstrapFailed');
    const attempts = result.plans.flatMap((p) => p.intents).flatMap((i) => (i.kind === 'CreateMachine' && i.machine.pool === 'md-0' ? [i.machine.bootAttempt] : []));
    expect(attempts).toEqual([1, 2, 3]);
    expect(result.machines.filter((m) => m.pool === 'md-0' && m.phase === 'Ready')).toHaveLength(2);
    expect(result.machines.filter((m) => m.pool === 'md-1' && m.phase === 'Ready').every((m) => m.templateHash !== before[5]!.templateHash)).toBe(true);
  });

  it('waits 5 × 2^(attempt−1) seconds after a boot failure', () => {
    // Prepare
    const c = cluster({ workers: [pool('md-0', 1)] });
    const failedAt = T0.toISOString();
    const ms = [...machines('control-plane', 3), machine('md-0', 1, { phase: 'Deleted', readyAt: undefined, failedAt, deletedAt: failedAt, failureReason: 'NodeStartupTimeout', bootAttempt: 2 })];

    // Act
    const early = planCluster({ cluster: c, machines: ms, now: new Date(T0.getTime() + 4_000) });
    const later = planCluster({ cluster: c, machines: ms, now: new Date(T0.getTime() + 10_000) });

    // Assess
    expect(early.action).toBe('Wait');
    expect(early.waitSeconds).toBe(6);
    expect(later.intents).toEqual([expect.objectContaining({ kind: 'CreateMachine', machine: expect.objectContaining({ name: 'demo-md-0-2', bootAttempt: 3 }) })]);
  });

  it.each([
    ['3 of 5 unhealthy with maxUnhealthy 40% → nothing replaced', 3, 0],
    ['1 of 5 unhealthy → replaced', 1, 1],
  ])('%s', (_name, unhealthy, remediated) => {
    // Prepare
    const c = cluster({ workers: [pool('md-0', 5)] });
    const sick = new Date(T0.getTime() - 600_000).toISOString();
    const ms = [...machines('control-plane', 3), ...machines('md-0', 5).map((m, i) => (i < unhealthy ? { ...m, notReadySince: sick } : m))];

    // Act
    const plan = planCluster({ cluster: c, machines: ms, now: T0 });

    // Assess
    const fixes = plan.intents.filter((i) => (i.kind === 'RetireMachine' || i.kind === 'DeleteMachine') && i.reason === 'Unhealthy');
    expect(fixes).toHaveLength(remediated);
    if (remediated === 0) expect(plan.blocked?.reason).toBe('TooManyUnhealthy');
  });

  it('keeps the bounds for random pools, strategies and changes (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          cpReplicas: fc.constantFrom(1, 3, 5),
          cpSurge: fc.constantFrom(0 as const, 1 as const),
          pools: fc.array(
            fc.record({ replicas: fc.integer({ min: 0, max: 6 }), newReplicas: fc.integer({ min: 0, max: 6 }), surge: fc.integer({ min: 0, max: 3 }), unavailable: fc.integer({ min: 0, max: 3 }), percent: fc.boolean() }),
            { minLength: 1, maxLength: 3 },
          ),
          change: fc.constantFrom('version', 'template', 'none'),
        }),
        (s) => {
          const workers = s.pools.map((p, i) => pool(`md-${i}`, p.newReplicas, { maxSurge: p.percent ? `${p.surge * 25}%` : p.surge, maxUnavailable: p.surge === 0 && p.unavailable === 0 ? 1 : p.unavailable }));
          const c0 = cluster({ workers, controlPlane: { replicas: s.cpReplicas, machine: { instanceType: s.change === 'template' ? 'm5.xlarge' : 't3.large' }, rollout: { maxSurge: s.cpSurge } } });
          const c = s.change === 'version' ? upgraded(c0) : c0;
          const before = [...machines('control-plane', s.cpReplicas), ...s.pools.flatMap((p, i) => machines(`md-${i}`, p.replicas))];
          const result = simulate(c, before, { checkWorkersAfterControlPlane: s.change === 'version' });
          expect(result.violations).toEqual([]);
          expect(result.final.action).toBe('Done');
          for (const [name, count] of result.removals) expect([name, count]).toEqual([name, 1]);
        },
      ),
      { numRuns: 60, seed: 42 },
    );
  });
});

describe('simulateRollout', () => {
  it('lists the waves of an upgrade and their time', () => {
    // Prepare
    const { c, ms } = baseline();

    // Act
    const estimate = simulateRollout({ cluster: upgraded(c), machines: ms, now: T0 }, { bootSeconds: 120, drainSeconds: 30 });

    // Assess
    expect(estimate.outcome).toBe('Done');
    expect(estimate.waves[0]).toEqual({ creates: ['demo-cp-4'], removes: [] });
    expect(estimate.waves[1]).toEqual({ creates: [], removes: ['demo-cp-1'] });
    const removed = estimate.waves.flatMap((w) => w.removes).sort();
    expect(removed).toEqual(ms.map((m) => m.name).sort());
    expect(estimate.estimatedSeconds).toBe(estimate.waves.reduce((t, w) => t + Math.max(w.creates.length ? 120 : 0, w.removes.length ? 30 : 0), 0));
  });

  it('estimates nothing to do for a converged cluster', () => {
    // Prepare
    const { c, ms } = baseline();

    // Act
    const estimate = estimateWaves(c, ms);

    // Assess
    expect(estimate).toEqual({ waves: [], estimatedSeconds: 0, outcome: 'Done' });
  });
});

describe('planSummary', () => {
  it('names what a plan does', () => {
    // Prepare
    const { c, ms } = baseline();

    // Act
    const summary = planSummary(planCluster({ cluster: upgraded(c), machines: ms, now: T0 }));

    // Assess
    expect(summary).toEqual({ action: 'Act', creates: ['demo-cp-4'], retires: [], deletes: [], text: 'Act: create demo-cp-4' });
  });
});
