/**
 * Node health with one `listNodes` per cluster (contract P6a): the plan's observation and the sweep read the node
 * view of a whole cluster in one provider call, never one `getNode` per machine, and keep their semantics
 * (notReadySince and MachineUnhealthy, the polling fallback, NodeNotReady drift, a failure is no information).
 */
import { accountOf, fleetCluster } from '../../../bench/sweep-scale.js';
import { DEFAULT_SETTINGS, type Deps } from '../../../functions/adapters/deps.js';
import { silentLogger } from '../../../functions/adapters/logger.js';
import type { Cluster } from '../../../functions/domain/cluster.js';
import type { Machine, NewEvent } from '../../../functions/domain/machine.js';
import type { Store } from '../../../functions/domain/ports.js';
import type { MachineProvider, NodeHealth, ProviderMachine } from '../../../functions/domain/provider.js';
import { reconcileMachines } from '../../../functions/core/act.js';
import { observeClusterScope, type ObserveInput } from '../../../functions/core/observe-scope.js';
import { sweepScope } from '../../../functions/reconcile/sweep.js';

const NOW = new Date('2030-01-01T12:00:00Z');

/** The plan step's observation: observe the scope once (core/observe-scope.ts), then the machine phases (core/act.ts). */
async function observeMachines(deps: Deps, cluster: Cluster, provider: MachineProvider, records: readonly Machine[], providerMachines?: readonly ProviderMachine[], options: Pick<ObserveInput, 'forceNodeCheck'> = {}) {
  const scope = await observeClusterScope(deps, { cluster, provider, records, ...(providerMachines ? { providerMachines } : {}), ...options });
  return reconcileMachines(deps, provider, scope);
}
/** Where `fleetCluster(i, 1)` lives. */
const SCOPE = { provider: 'aws', account: accountOf(0), region: 'eu-west-1' } as const;
const READY: NodeHealth = { ready: true, cordoned: false };
const NOT_READY: NodeHealth = { ready: false, cordoned: false };
/** A node whose kubelet stopped reporting for longer than the node-monitor grace period. */
const UNKNOWN: NodeHealth = { ready: false, readyStatus: 'Unknown', cordoned: false };

/** Cluster `i` of the sweep-scale fleet (one account) with its three machines: records and provider view. */
function clusterWithMachines(i: number, phase: Machine['phase'] = 'Ready') {
  const cluster = fleetCluster(i, 1);
  const name = cluster.metadata.name;
  const names = [`${name}-cp-1`, `${name}-md-0-1`, `${name}-md-0-2`];
  const pool = (n: string) => (n.includes('-cp-') ? 'control-plane' : 'md-0');
  const records: Machine[] = names.map((n, k) => ({
    name: n,
    cluster: name,
    clusterUid: cluster.metadata.uid,
    role: pool(n) === 'control-plane' ? 'control-plane' : 'worker',
    pool: pool(n),
    ordinal: k === 0 ? 1 : k,
    version: 'v1.30.2',
    templateHash: 't',
    phase,
    providerId: `aws:///eu-west-1a/i-${n}`,
    createdAt: '2029-12-01T00:00:00Z',
    ...(phase === 'Ready' ? { readyAt: '2029-12-01T00:05:00Z' } : {}),
    recordVersion: 1,
  }));
  const machines: ProviderMachine[] = records.map((m) => ({ name: m.name, cluster: name, clusterUid: m.clusterUid, pool: m.pool, role: m.role, providerId: m.providerId!, state: 'running', launchedAt: m.createdAt }));
  return { cluster, names, records, machines };
}

/** A provider whose node view is `nodes` (or fails with it), counting calls; getNode must not be called. */
function fakeProvider(machines: readonly ProviderMachine[], nodes: Record<string, NodeHealth> | Error, callsBack = true) {
  const calls: Record<string, number> = {};
  const count = (method: string) => (calls[method] = (calls[method] ?? 0) + 1);
  const provider = {
    name: 'aws',
    callsBack,
    listMachines: async () => (count('listMachines'), [...machines]),
    listNodes: async () => {
      count('listNodes');
      if (nodes instanceof Error) throw nodes;
      return new Map(Object.entries(nodes));
    },
    getNode: async () => {
      count('getNode');
      throw new Error('node health must be read with listNodes');
    },
    deleteMachine: async () => void count('deleteMachine'),
  } as unknown as MachineProvider;
  return { provider, calls };
}

/** Deps over in-memory machine records and clusters; events are collected. */
function memoryDeps(records: readonly Machine[], provider: MachineProvider, clusters: readonly Cluster[] = []) {
  const machines = new Map(records.map((m) => [m.name, m]));
  const events: NewEvent[] = [];
  const started: { cluster: string; reason: string }[] = [];
  const store = {
    getMachine: async (_c: string, name: string) => machines.get(name),
    putMachine: async (m: Machine) => {
      const stored = { ...m, recordVersion: m.recordVersion + 1 };
      machines.set(m.name, stored);
      return stored;
    },
    appendEvents: async (_c: string, e: readonly NewEvent[]) => (events.push(...e), []),
    listClustersByScope: async () => ({ items: [...clusters] }),
  } as unknown as Store;
  const deps: Deps = {
    store,
    workflow: { startRollout: async (r) => (started.push({ cluster: r.cluster, reason: r.reason }), { executionName: 'x', started: true }), sendTaskSuccess: async () => undefined, sendTaskFailure: async () => undefined },
    providers: { get: () => provider },
    clock: { now: () => NOW },
    log: silentLogger,
    authenticate: async () => ({ id: 'x', accounts: [], admin: false }),
    callbackSecret: async () => new Uint8Array(1),
    callbackBaseUrl: '',
    settings: DEFAULT_SETTINGS,
  };
  return { deps, machines, events, started };
}

describe('observeMachines node health', () => {
  it('reads the node health of a cluster of 3 Ready machines with exactly 1 listNodes call and no getNode', async () => {
    // Prepare
    const c = clusterWithMachines(0);
    const { provider, calls } = fakeProvider(c.machines, Object.fromEntries(c.names.map((n) => [n, READY])));
    const { deps } = memoryDeps(c.records, provider);

    // Act
    const observed = await observeMachines(deps, c.cluster, provider, c.records, c.machines);

    // Assess
    expect(calls).toEqual({ listNodes: 1 });
    expect(observed.changed).toBe(0);
  });

  it('marks a Ready machine whose node is NotReady (notReadySince, MachineUnhealthy) and clears it when Ready again', async () => {
    // Prepare
    const c = clusterWithMachines(1);
    const sick = c.names[1]!;
    const first = fakeProvider(c.machines, { ...Object.fromEntries(c.names.map((n) => [n, READY])), [sick]: NOT_READY });
    const { deps, machines, events } = memoryDeps(c.records, first.provider);

    // Act
    const marked = await observeMachines(deps, c.cluster, first.provider, c.records, c.machines);
    const second = fakeProvider(c.machines, Object.fromEntries(c.names.map((n) => [n, READY])));
    const cleared = await observeMachines(deps, c.cluster, second.provider, [...machines.values()], c.machines);

    // Assess
    expect({ first: first.calls, second: second.calls }).toEqual({ first: { listNodes: 1 }, second: { listNodes: 1 } });
    expect(marked.machines.find((m) => m.name === sick)?.notReadySince).toBe(NOW.toISOString());
    expect(events.map((e) => `${e.type}/${e.machine}`)).toEqual([`MachineUnhealthy/${sick}`]);
    expect({ changed: cleared.changed, notReadySince: machines.get(sick)?.notReadySince }).toEqual({ changed: 1, notReadySince: undefined });
  });

  it('treats a node that stopped reporting (Ready=Unknown) as NotReady: notReadySince and MachineUnhealthy saying so', async () => {
    // Prepare
    const c = clusterWithMachines(5);
    const hung = c.names[2]!;
    const { provider } = fakeProvider(c.machines, { ...Object.fromEntries(c.names.map((n) => [n, READY])), [hung]: UNKNOWN });
    const { deps, events } = memoryDeps(c.records, provider);

    // Act
    const observed = await observeMachines(deps, c.cluster, provider, c.records, c.machines);

    // Assess
    expect(observed.machines.find((m) => m.name === hung)?.notReadySince).toBe(NOW.toISOString());
    expect(events.map((e) => [e.type, e.machine, e.message])).toEqual([['MachineUnhealthy', hung, `node of machine ${hung} stopped reporting (Ready=Unknown)`]]);
  });

  it.each([
    ['the node list fails', new Error('API server unreachable')],
    ['a machine has no registered node', {}],
  ])('changes nothing when %s (no information)', async (_name, nodes) => {
    // Prepare
    const c = clusterWithMachines(2);
    const { provider, calls } = fakeProvider(c.machines, nodes);
    const { deps, events } = memoryDeps(c.records, provider);

    // Act
    const observed = await observeMachines(deps, c.cluster, provider, c.records, c.machines);

    // Assess
    expect({ calls, changed: observed.changed, events }).toEqual({ calls: { listNodes: 1 }, changed: 0, events: [] });
  });

  it('makes Provisioning machines Ready by polling one listNodes when the provider cannot call back', async () => {
    // Prepare
    const c = clusterWithMachines(3, 'Provisioning');
    const { provider, calls } = fakeProvider(c.machines, Object.fromEntries(c.names.map((n) => [n, READY])), false);
    const { deps, events } = memoryDeps(c.records, provider);

    // Act
    const observed = await observeMachines(deps, c.cluster, provider, c.records, c.machines);

    // Assess
    expect(calls).toEqual({ listNodes: 1 });
    expect(observed.machines.map((m) => m.phase)).toEqual(['Ready', 'Ready', 'Ready']);
    expect(events.map((e) => e.type)).toEqual(['MachineReady', 'MachineReady', 'MachineReady']);
  });

  it('makes no node call when no record needs a node view (callbacks on, node check not due)', async () => {
    // Prepare
    const c = clusterWithMachines(4);
    const { provider, calls } = fakeProvider(c.machines, {});
    const { deps } = memoryDeps(c.records, provider);
    await observeMachines(deps, c.cluster, provider, c.records, c.machines); // checks now: the next is not due

    // Act
    await observeMachines(deps, c.cluster, provider, c.records, c.machines, { forceNodeCheck: false });

    // Assess
    expect(calls).toEqual({ listNodes: 1 });
  });
});

describe('sweepScope node health', () => {
  it('checks a converged cluster of 3 Ready machines with exactly 1 listNodes call and no getNode, and starts nothing', async () => {
    // Prepare
    const c = clusterWithMachines(0);
    const { provider, calls } = fakeProvider(c.machines, Object.fromEntries(c.names.map((n) => [n, READY])));
    const { deps, started } = memoryDeps([], provider, [c.cluster]);

    // Act
    const report = await sweepScope(deps, SCOPE);

    // Assess
    expect(calls).toEqual({ listMachines: 1, listNodes: 1 });
    expect({ nodeChecks: report.nodeChecks, changes: report.changes, started }).toEqual({ nodeChecks: 1, changes: [], started: [] });
  });

  it('starts a cluster whose node of a running machine is NotReady (NodeNotReady), naming the machine', async () => {
    // Prepare
    const c = clusterWithMachines(0);
    const { provider, calls } = fakeProvider(c.machines, { [c.names[0]!]: READY, [c.names[2]!]: NOT_READY });
    const { deps, started } = memoryDeps([], provider, [c.cluster]);

    // Act
    const report = await sweepScope(deps, SCOPE);

    // Assess
    expect(calls).toEqual({ listMachines: 1, listNodes: 1 });
    expect(report.changes).toEqual([{ cluster: c.cluster.metadata.name, reason: 'node-health', message: `node of machine ${c.names[2]} reports NotReady`, started: true }]);
    expect(started).toEqual([{ cluster: c.cluster.metadata.name, reason: 'node-health' }]);
  });

  it('starts a cluster whose node of a running machine stopped reporting (Ready=Unknown), saying so', async () => {
    // Prepare
    const c = clusterWithMachines(0);
    const { provider } = fakeProvider(c.machines, { [c.names[0]!]: READY, [c.names[1]!]: UNKNOWN, [c.names[2]!]: READY });
    const { deps, started } = memoryDeps([], provider, [c.cluster]);

    // Act
    const report = await sweepScope(deps, SCOPE);

    // Assess
    expect(report.changes).toEqual([{ cluster: c.cluster.metadata.name, reason: 'node-health', message: `node of machine ${c.names[1]} stopped reporting (Ready=Unknown)`, started: true }]);
    expect(started).toEqual([{ cluster: c.cluster.metadata.name, reason: 'node-health' }]);
  });
});
