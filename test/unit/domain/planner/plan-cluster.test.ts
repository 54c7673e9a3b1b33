/**
 * Single decisions of planCluster, table-driven.
 */
import type { Cluster } from '../../../../functions/domain/cluster.js';
import type { Machine } from '../../../../functions/domain/machine.js';
import { planCluster, templateHash, type Intent, type Plan } from '../../../../functions/domain/planner/index.js';
import { cluster, machine, machines, pool, T0 } from './fixtures.js';

function summary(plan: Plan): string[] {
  return plan.intents.map((i: Intent) => {
    switch (i.kind) {
      case 'CreateMachine':
        return `create ${i.machine.name}@${i.machine.failureDomain ?? '-'}#${i.machine.bootAttempt}`;
      case 'RetireMachine':
      case 'DeleteMachine':
        return `${i.kind === 'RetireMachine' ? 'retire' : 'delete'} ${i.machine} (${i.reason})`;
      default:
        return i.kind;
    }
  });
}

const noInfra = (c: Cluster): Cluster => ({ ...c, status: { ...c.status, controlPlaneEndpoint: undefined, conditions: [] } });
const withWorkers = cluster({ workers: [pool('md-0', 2)] });
const sick = new Date(T0.getTime() - 3_600_000).toISOString();

const cases: [string, Cluster, Machine[], string, string[]][] = [
  ['is Paused with no intents when spec.paused', cluster({ paused: true }), [], 'Paused', []],
  ['ensures infrastructure alone when nothing exists', noInfra(withWorkers), [], 'Act', ['EnsureInfrastructure']],
  ['creates the first control-plane machine alone once infrastructure is ready', withWorkers, [], 'Act', ['create demo-cp-1@a#1']],
  ['waits for the first control-plane machine before anything else', withWorkers, [machine('control-plane', 1, { phase: 'Provisioning', readyAt: undefined, createdAt: T0.toISOString() })], 'Wait', []],
  ['joins control-plane machines one at a time, spread over failure domains, and starts workers', withWorkers, [machine('control-plane', 1, { failureDomain: 'a' })], 'Act', ['create demo-cp-2@b#1', 'create demo-md-0-1@a#1', 'create demo-md-0-2@b#1']],
  ['names new machines after the highest ordinal ever recorded', cluster({ workers: [pool('md-0', 3)] }), [...machines('control-plane', 3), machine('md-0', 7, { failureDomain: 'a' }), machine('md-0', 9, { phase: 'Deleted' })], 'Act', ['create demo-md-0-10@b#1', 'create demo-md-0-11@c#1']],
  ['deletes a failed control-plane machine', cluster(), [...machines('control-plane', 2), machine('control-plane', 3, { phase: 'Failed', readyAt: undefined, failedAt: T0.toISOString(), failureReason: 'NodeStartupTimeout' })], 'Act', ['delete demo-cp-3 (Failed)']],
  ['remediates an unhealthy control-plane machine when quorum holds', cluster(), [...machines('control-plane', 2), machine('control-plane', 3, { failureDomain: 'c', notReadySince: sick })], 'Act', ['retire demo-cp-3 (Unhealthy)']],
  ['never remediates a control-plane machine when quorum would break', cluster({ healthCheck: { nodeStartupTimeout: '10m', unhealthyTimeout: '5m', maxUnhealthy: '100%' } }), [machine('control-plane', 1), machine('control-plane', 2, { notReadySince: sick }), machine('control-plane', 3, { notReadySince: sick })], 'Blocked', []],
  ['removes the user-requested control-plane machine after surging', cluster(), [...machines('control-plane', 3).map((m) => (m.ordinal === 2 ? { ...m, deleteRequested: true } : m)), machine('control-plane', 4, { failureDomain: 'b' })], 'Act', ['retire demo-cp-2 (DeleteRequested)']],
  ['scales the control plane down one at a time from the fullest failure domain', cluster({ controlPlane: { replicas: 3, machine: { instanceType: 't3.large' }, rollout: { maxSurge: 1 } } }), machines('control-plane', 5), 'Act', ['retire demo-cp-1 (ScaleDown)']],
  ['keeps outdated workers until the control plane is upgraded', { ...withWorkers, spec: { ...withWorkers.spec, version: 'v1.19.1' } }, [...machines('control-plane', 3), ...machines('md-0', 2)], 'Act', ['create demo-cp-4@a#1']],
  ['removes machines of a pool no longer in the spec', cluster(), [...machines('control-plane', 3), machine('old', 1)], 'Act', ['retire demo-old-1 (ScaleDown)']],
  ['ignores machine records of another cluster incarnation', cluster(), [...machines('control-plane', 3), machine('md-9', 1, { clusterUid: 'uid-0' })], 'Done', []],
  ['rolls out workers created before rollout.after', cluster({ workers: [pool('md-0', 2, {}, { rollout: { strategy: 'RollingUpdate', maxSurge: 1, maxUnavailable: 0, deletionOrder: 'Oldest', after: T0.toISOString() } })] }), [...machines('control-plane', 3), ...machines('md-0', 2)], 'Act', ['create demo-md-0-3@c#1']],
  ['is Done when the cluster matches its spec', withWorkers, [...machines('control-plane', 3), ...machines('md-0', 2)], 'Done', []],
];

describe('planCluster', () => {
  it.each(cases)('%s', (_name, c, ms, action, intents) => {
    // Act
    const plan = planCluster({ cluster: c, machines: ms, now: T0 });

    // Assess
    expect(plan.action).toBe(action);
    expect(summary(plan)).toEqual(intents);
    expect(plan.notes.length).toBeGreaterThan(0);
  });

  it('returns the same plan for the same input', () => {
    // Prepare
    const c = cluster({ version: 'v1.19.1', workers: [pool('md-0', 4, { deletionOrder: 'Random' })] });
    const ms = [...machines('control-plane', 3, { version: 'v1.19.1' }), ...machines('md-0', 6)];

    // Act
    const first = planCluster({ cluster: c, machines: ms, now: T0 });
    const second = planCluster({ cluster: c, machines: [...ms].reverse(), now: T0 });

    // Assess
    expect(second).toEqual(first);
  });

  it.each([
    ['Oldest', ['demo-md-0-1', 'demo-md-0-2']],
    ['Newest', ['demo-md-0-5', 'demo-md-0-4']],
  ] as const)('scales down by deletionOrder %s', (order, victims) => {
    // Prepare
    const c = cluster({ workers: [pool('md-0', 3, { deletionOrder: order })] });
    const ms = [...machines('control-plane', 3), ...machines('md-0', 5)];

    // Act
    const plan = planCluster({ cluster: c, machines: ms, now: T0 });

    // Assess
    expect(plan.intents.map((i) => (i.kind === 'RetireMachine' ? i.machine : i.kind))).toEqual(victims);
  });

  it('scales down not-ready machines before healthy ones, and uses the seeded random source for Random', () => {
    // Prepare
    const c = cluster({ workers: [pool('md-0', 3, { deletionOrder: 'Random' })] });
    const ms = [...machines('control-plane', 3), ...machines('md-0', 5).map((m) => (m.ordinal === 4 ? { ...m, notReadySince: T0.toISOString() } : m))];
    let seed = 0;
    const random = (): number => [0.9, 0.1, 0.5, 0.3, 0.7][seed++ % 5]!;

    // Act
    const plan = planCluster({ cluster: c, machines: ms, now: T0, random });

    // Assess: demo-md-0-4 first (not ready); then the lowest random key among the rest (md-0-2 got 0.1)
    expect(plan.intents.map((i) => (i.kind === 'RetireMachine' ? i.machine : i.kind))).toEqual(['demo-md-0-4', 'demo-md-0-2']);
  });

  it('surges a new worker, then retires an outdated one only after it is Ready', () => {
    // Prepare
    const c = cluster({ workers: [pool('md-0', 2, {}, { machine: { instanceType: 'm5.large' } })] });
    const ms = [...machines('control-plane', 3), ...machines('md-0', 2)];
    const booting = machine('md-0', 3, { phase: 'Provisioning', readyAt: undefined, createdAt: T0.toISOString(), templateHash: templateHash({ instanceType: 'm5.large' }) });

    // Act
    const start = planCluster({ cluster: c, machines: ms, now: T0 });
    const whileBooting = planCluster({ cluster: c, machines: [...ms, booting], now: T0 });
    const afterReady = planCluster({ cluster: c, machines: [...ms, { ...booting, phase: 'Ready', readyAt: T0.toISOString() }], now: T0 });

    // Assess
    expect(summary(start)).toEqual(['create demo-md-0-3@c#1']);
    expect(whileBooting.action).toBe('Wait');
    expect(summary(afterReady)).toEqual(['retire demo-md-0-1 (Outdated)']);
  });

  it.each([
    ['workers first', [...machines('control-plane', 3), ...machines('md-0', 2)], ['retire demo-md-0-1 (ClusterDeleting)', 'retire demo-md-0-2 (ClusterDeleting)']],
    ['then the control plane', [...machines('control-plane', 3), ...machines('md-0', 2, { phase: 'Deleted' })], ['delete demo-cp-1 (ClusterDeleting)', 'delete demo-cp-2 (ClusterDeleting)', 'delete demo-cp-3 (ClusterDeleting)']],
    ['then the infrastructure', machines('control-plane', 3, { phase: 'Deleted' }), ['DeleteInfrastructure']],
  ])('deletes a cluster: %s', (_name, ms, intents) => {
    // Prepare
    const c = cluster({ workers: [pool('md-0', 2)] }, { deletionTimestamp: T0.toISOString() });

    // Act
    const plan = planCluster({ cluster: c, machines: ms, now: T0 });

    // Assess
    expect(summary(plan)).toEqual(intents);
  });

  it('deletes the cluster record once the infrastructure is recorded deleted', () => {
    // Prepare
    const c = cluster({}, { deletionTimestamp: T0.toISOString() });
    const gone = { ...c, status: { ...c.status, controlPlaneEndpoint: undefined, conditions: [{ type: 'InfrastructureReady', status: 'False' as const, reason: 'Deleted', lastTransitionTime: T0.toISOString() }] } };

    // Act
    const plan = planCluster({ cluster: gone, machines: machines('control-plane', 1, { phase: 'Deleted' }), now: T0 });

    // Assess
    expect(summary(plan)).toEqual(['DeleteCluster']);
  });

  it('carries the node startup timeout on CreateMachine for the workflow', () => {
    // Act
    const plan = planCluster({ cluster: cluster(), machines: [], now: T0 });

    // Assess
    expect(plan.intents[0]).toMatchObject({ kind: 'CreateMachine', timeoutSeconds: 600 });
  });
});

describe('templateHash', () => {
  it.each([
    ['key order', { instanceType: 't3.large', imageId: 'ami-1' }, { imageId: 'ami-1', instanceType: 't3.large' }, true],
    ['instance type', { instanceType: 't3.large' }, { instanceType: 't3.xlarge' }, false],
    ['image', { instanceType: 't3.large' }, { instanceType: 't3.large', imageId: 'ami-1' }, false],
    ['volume size', { instanceType: 't3.large', rootVolumeSizeGiB: 20 }, { instanceType: 't3.large', rootVolumeSizeGiB: 30 }, false],
  ])('is %s sensitive as it should be', (_name, a, b, same) => {
    // Act
    const [x, y] = [templateHash(a), templateHash(b)];

    // Assess
    expect(x).toMatch(/^[0-9a-f]{10}$/);
    expect(x === y).toBe(same);
  });
});
