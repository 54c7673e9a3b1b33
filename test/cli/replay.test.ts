/**
 * replayGuarantees: the rollout guarantees checked from an event log alone (no I/O).
 */
import { replayGuarantees, type ReplayEvent, type ReplaySpec } from '../../cli/replay.js';

const CP = 'control-plane';

/** Builds a log from compact steps `[type, machine, pool, version?]`, one second apart. */
function log(steps: readonly (readonly [string, string?, string?, string?])[]): ReplayEvent[] {
  return steps.map(([type, machine, pool, version], i) => ({
    seq: i + 1,
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    type,
    ...(machine ? { machine } : {}),
    ...(pool ? { pool } : {}),
    ...(version ? { data: { version, role: pool === CP ? 'control-plane' : 'worker' } } : {}),
  }));
}

const SPEC: ReplaySpec = {
  controlPlane: { replicas: 3, rollout: { maxSurge: 1 } },
  workers: [{ name: 'md-0', replicas: 2, rollout: { maxSurge: 1, maxUnavailable: 0 } }],
};

/** Replace one machine: create new, Ready, drain old, (control plane: remove its etcd member,) delete old. */
const replace = (old: string, next: string, pool: string) =>
  [
    ['MachineCreated', next, pool, 'v2'],
    ['MachineReady', next, pool, 'v2'],
    ['MachineDraining', old, pool, 'v1'],
    ...(pool === CP ? ([['EtcdMemberRemoved', old, pool, 'v1']] as const) : []),
    ['MachineDeleted', old, pool, 'v1'],
  ] as const;

const GOOD = log([
  ['ClusterUpdated'],
  ...replace('cp-1', 'cp-4', CP),
  ...replace('cp-2', 'cp-5', CP),
  ...replace('cp-3', 'cp-6', CP),
  ...replace('md-1', 'md-3', 'md-0'),
  ...replace('md-2', 'md-4', 'md-0'),
  ['RolloutCompleted'],
]);

describe('replayGuarantees', () => {
  it('accepts a one-at-a-time upgrade, control plane first, and measures it', () => {
    // Act
    const r = replayGuarantees(GOOD, SPEC, { toVersion: 'v2' });
    // Assess
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.checks.every((c) => c.ok)).toBe(true);
    expect(r.completed).toBe(true);
    expect(r.waves).toBe(5);
    expect(r.replaced).toEqual(['cp-1', 'cp-2', 'cp-3', 'md-1', 'md-2']);
    expect(r.medianBootSeconds).toBe(1);
    expect(r.medianDrainSeconds).toBe(2);
    expect(r.lowerBoundSeconds).toBe(15);
    expect(r.durationSeconds).toBe(24);
    expect(r.ratio).toBeCloseTo(1.6);
    expect(r.checks.find((c) => c.rule === 'EtcdMembership')).toMatchObject({ ok: true, detail: expect.stringContaining('peak 4 members') });
    expect(r.pools).toEqual([
      expect.objectContaining({ pool: CP, peakMachines: 4, maxMachines: 4, lowestAvailable: 3, minAvailable: 3 }),
      expect.objectContaining({ pool: 'md-0', peakMachines: 3, maxMachines: 3, lowestAvailable: 2, minAvailable: 2 }),
    ]);
  });

  it.each([
    {
      name: 'two surge machines in a maxSurge 1 pool',
      steps: [['MachineCreated', 'md-3', 'md-0', 'v2'], ['MachineCreated', 'md-4', 'md-0', 'v2'], ['MachineDraining', 'md-1', 'md-0', 'v1']],
      rule: 'MaxSurge',
      seq: 2,
    },
    {
      name: 'a drain before the replacement is Ready in a maxUnavailable 0 pool',
      steps: [['MachineDraining', 'md-1', 'md-0', 'v1'], ['MachineCreated', 'md-3', 'md-0', 'v2']],
      rule: 'MaxUnavailable',
      seq: 1,
    },
    {
      name: 'two control-plane machines draining at once',
      steps: [['MachineDraining', 'cp-1', CP, 'v1'], ['MachineDraining', 'cp-2', CP, 'v1']],
      rule: 'Quorum',
      seq: 2,
    },
    {
      name: 'a control-plane machine deleted while still an etcd member',
      steps: [['MachineCreated', 'cp-4', CP, 'v2'], ['MachineReady', 'cp-4', CP, 'v2'], ['MachineDraining', 'cp-1', CP, 'v1'], ['MachineDeleted', 'cp-1', CP, 'v1']],
      rule: 'EtcdMembership',
      seq: 4,
    },
    {
      name: 'etcd members up below quorum (two members down of four)',
      steps: [['MachineCreated', 'cp-4', CP, 'v2'], ['MachineReady', 'cp-4', CP, 'v2'], ['MachineUnhealthy', 'cp-1', CP, 'v1'], ['MachineUnhealthy', 'cp-2', CP, 'v1']],
      rule: 'EtcdMembership',
      seq: 4,
    },
    {
      name: 'a control-plane machine replaced after a worker',
      steps: [...replace('md-1', 'md-3', 'md-0'), ['MachineCreated', 'cp-4', CP, 'v2']],
      rule: 'ControlPlaneFirst',
      seq: 5,
    },
  ] as const)('fails when the log shows $name', ({ steps, rule, seq }) => {
    // Prepare: the cluster was converged before the window (inferred from first events being non-creates).
    const initial = [
      ...['cp-1', 'cp-2', 'cp-3'].map((name) => ({ name, pool: CP, version: 'v1', ready: true })),
      ...['md-1', 'md-2'].map((name) => ({ name, pool: 'md-0', version: 'v1', ready: true })),
    ];
    // Act
    const r = replayGuarantees(log(steps as never), SPEC, { initial });
    // Assess
    expect(r.ok).toBe(false);
    expect(r.violations).toContainEqual(expect.objectContaining({ rule, seq }));
    expect(r.checks.find((c) => c.rule === rule)?.ok).toBe(false);
  });

  it('infers machines that existed before the window from their first event', () => {
    const r = replayGuarantees(log([['MachineDraining', 'md-1', 'md-0', 'v1'], ['MachineDeleted', 'md-1', 'md-0', 'v1']]), {
      controlPlane: { replicas: 1 },
      workers: [{ name: 'md-0', replicas: 1, rollout: { maxSurge: 0, maxUnavailable: 1 } }],
    });
    expect(r.ok).toBe(true);
    expect(r.replaced).toEqual(['md-1']);
    expect(r.pools[1]).toMatchObject({ pool: 'md-0', peakMachines: 1, lowestAvailable: 0, minAvailable: 0 });
  });

  it('does not hold a pool being created, or a cluster being deleted, to availability', () => {
    const r = replayGuarantees(
      log([
        ['MachineCreated', 'cp-1', CP, 'v1'],
        ['MachineReady', 'cp-1', CP, 'v1'],
        ['ClusterDeleting'],
        ['MachineDraining', 'cp-1', CP, 'v1'],
        ['MachineDeleted', 'cp-1', CP, 'v1'],
      ]),
      { controlPlane: { replicas: 1 }, workers: [] },
    );
    expect(r.violations).toEqual([]);
    expect(r.waves).toBe(1);
  });

  it('reads percentages like Cluster API: maxSurge rounds up, maxUnavailable down', () => {
    const r = replayGuarantees([], { controlPlane: { replicas: 3, rollout: { maxSurge: 0 } }, workers: [{ name: 'md-0', replicas: 10, rollout: { maxSurge: '25%', maxUnavailable: '25%' } }] });
    expect(r.pools).toEqual([
      expect.objectContaining({ pool: CP, maxMachines: 3, minAvailable: 2 }),
      expect.objectContaining({ pool: 'md-0', maxMachines: 13, minAvailable: 8 }),
    ]);
  });
});
