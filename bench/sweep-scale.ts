/**
 * Sweep scale: the real sweep (functions/reconcile/sweep.ts) over N clusters in A simulated accounts, with the real
 * DynamoDbStore on dynalite (in memory), a counting fake provider and a workflow that records starts.
 *
 * `measureSweep({ clusters: 1000, accounts: 20 })` seeds the table, injects a few differences (a lost machine, an
 * orphan, a lost machine and an orphan in the same pool, an unconverged cluster, a NotReady node, an orphan of a
 * deleted cluster; when asked: a failing account, an account-region with no cluster left but an orphan, a table from
 * before the scope registry), runs one sweep and returns its time and the counted calls. `npx tsx bench/sweep-scale.ts 1000 10000` prints them.
 * The integration test test/integration/reconcile-scale.test.ts uses the same fixture.
 */
import { performance } from 'node:perf_hooks';
import { DEFAULT_SETTINGS, type Deps } from '../functions/adapters/deps.js';
import { silentLogger } from '../functions/adapters/logger.js';
import { DeleteItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbStore } from '../functions/adapters/store/dynamodb-store.js';
import type { Cluster, ClusterSpec } from '../functions/domain/cluster.js';
import type { Clock, Store, Workflow } from '../functions/domain/ports.js';
import { machineNamesHash } from '../functions/domain/status.js';
import type { ClusterRef, MachineProvider, NodeHealth, NodeStatus, ProviderMachine, ProviderScope } from '../functions/domain/provider.js';
import { groupByClusterUid } from '../functions/domain/reconcile/compare.js';
import { mapLimit } from '../functions/core/map-limit.js';
import { sweep, type SweepReport } from '../functions/reconcile/sweep.js';
import { startLocalDynamo } from '../infra/local/dynamo.js';

/** The fleet's shape and the differences to inject. */
export interface SweepScaleOptions {
  readonly clusters: number;
  readonly accounts: number;
  /** Accounts whose listMachines fails (by index). @default [] */
  readonly failingAccounts?: readonly number[];
  /** Ask for node health (one listNodes per converged cluster with running machines). @default true */
  readonly nodeHealth?: boolean;
  /** The sweep's page size (cluster records per listClustersByScope). @default the sweep's (500) */
  readonly pageSize?: number;
  /**
   * Register one more account-region (account index `accounts`) that has no cluster, only the machine of a cluster
   * deleted long ago. @default false
   */
  readonly emptyScope?: boolean;
  /** Delete the scope registry after seeding: a table written before it existed (the sweep backfills). @default false */
  readonly dropRegistry?: boolean;
}

/** Calls counted during the sweep (seeding excluded). */
export interface SweepCounts {
  readonly store: Record<string, number>;
  /** Cluster documents returned by any store read (listClusters, listClustersByScope, getCluster). */
  readonly clusterRecordsRead: number;
  /** Per cluster name, how often its record was returned. */
  readonly maxReadsOfOneRecord: number;
  readonly provider: Record<string, number>;
  /** The scopes listMachines was called with (`account/region`). */
  readonly listedScopes: readonly string[];
  /** The most cluster records one store call returned (the sweep holds at most one page per scope in flight). */
  readonly largestPage: number;
  readonly started: readonly { cluster: string; reason: string }[];
}

/** What `measureSweep` returns. */
export interface SweepScaleResult {
  readonly clusters: number;
  readonly accounts: number;
  readonly machines: number;
  readonly seedMs: number;
  readonly sweepMs: number;
  readonly report: SweepReport;
  readonly counts: SweepCounts;
  /** The clusters the fixture changed, by the reason the sweep should give. */
  readonly expected: Readonly<Record<string, string>>;
}

const NOW = new Date('2030-01-01T12:00:00Z');
const clock: Clock = { now: () => NOW };

/** The account id of account index `a`. */
export function accountOf(a: number): string {
  return String(100000000000 + a);
}

function spec(account: string): ClusterSpec {
  return {
    infrastructure: { provider: 'aws', account, region: 'eu-west-1' },
    version: 'v1.30.2',
    network: { podCidr: '192.168.0.0/16', serviceCidr: '10.96.0.0/12' },
    failureDomains: [],
    controlPlane: { replicas: 1, machine: { instanceType: 'm7i.large' }, rollout: { maxSurge: 1 } },
    workers: [{ name: 'md-0', replicas: 2, machine: { instanceType: 'm7i.large' }, rollout: { strategy: 'RollingUpdate', maxSurge: 1, maxUnavailable: 0, deletionOrder: 'Random' } }],
    healthCheck: { nodeStartupTimeout: '10m', unhealthyTimeout: '5m', maxUnhealthy: '40%' },
    drain: { timeout: '10m', policy: 'Wait' },
    paused: false,
  };
}

/** A converged cluster record: cluster `i` lives in account `i % accounts`. */
export function fleetCluster(i: number, accounts: number): Cluster {
  const name = `c${String(i).padStart(5, '0')}`;
  const t = NOW.toISOString();
  const pool = (n: string, replicas: number, prefix: string) => {
    const names = Array.from({ length: replicas }, (_, k) => `${name}-${prefix}-${k + 1}`);
    return { name: n, version: 'v1.30.2', replicas, readyReplicas: replicas, updatedReplicas: replicas, unavailableReplicas: 0, machineNamesHash: machineNamesHash(names) };
  };
  return {
    apiVersion: 'capstan.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name, uid: `uid-${name}`, generation: 1, resourceVersion: '0', creationTimestamp: t },
    spec: spec(accountOf(i % accounts)),
    status: {
      phase: 'Ready',
      observedGeneration: 1,
      controlPlane: pool('control-plane', 1, 'cp'),
      workers: [pool('md-0', 2, 'md-0')],
      conditions: [{ type: 'Ready', status: 'True', reason: 'AllMachinesReady', lastTransitionTime: t }, { type: 'RolloutProgressing', status: 'False', reason: 'RolloutCompleted', lastTransitionTime: t }],
      lastUpdated: t,
    },
  };
}

function machinesOf(c: Cluster): ProviderMachine[] {
  const base = { cluster: c.metadata.name, clusterUid: c.metadata.uid, state: 'running' as const, launchedAt: '2029-12-01T00:00:00Z' };
  return [
    { ...base, name: `${c.metadata.name}-cp-1`, pool: 'control-plane', role: 'control-plane', providerId: `aws:///eu-west-1a/i-${c.metadata.name}cp1` },
    { ...base, name: `${c.metadata.name}-md-0-1`, pool: 'md-0', role: 'worker', providerId: `aws:///eu-west-1a/i-${c.metadata.name}w1` },
    { ...base, name: `${c.metadata.name}-md-0-2`, pool: 'md-0', role: 'worker', providerId: `aws:///eu-west-1a/i-${c.metadata.name}w2` },
  ];
}

/** A store that counts calls and the cluster records it returns. */
function countingStore(inner: Store, counts: { store: Record<string, number>; reads: Map<string, number>; largestPage: number }): Store {
  return new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        counts.store[String(key)] = (counts.store[String(key)] ?? 0) + 1;
        const out = (await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)) as { items?: Cluster[]; metadata?: { name: string } } | undefined;
        const docs = key === 'getCluster' ? (out ? [out as Cluster] : []) : key === 'listClusters' || key === 'listClustersByScope' ? (out?.items ?? []) : [];
        for (const d of docs) counts.reads.set(d.metadata.name, (counts.reads.get(d.metadata.name) ?? 0) + 1);
        counts.largestPage = Math.max(counts.largestPage, docs.length);
        return out;
      };
    },
  });
}

/** Seeds a fleet, runs one sweep, and returns what it cost. */
export async function measureSweep(options: SweepScaleOptions): Promise<SweepScaleResult> {
  const dynamo = await startLocalDynamo({});
  try {
    const store = new DynamoDbStore({ client: dynamo.client, tableName: dynamo.tableName });
    const seedStart = performance.now();
    const clusters = Array.from({ length: options.clusters }, (_, i) => fleetCluster(i, options.accounts));
    // Differences: the first clusters of the fleet (spread over accounts by construction).
    const expected: Record<string, string> = {};
    const byScope = new Map<string, ProviderMachine[]>();
    const notReady = new Set<string>();
    clusters.forEach((c, i) => {
      let ms = machinesOf(c);
      let record = c;
      if (i < 5) {
        ms = ms.slice(0, 2); // a worker is lost
        expected[c.metadata.name] = 'drift';
      } else if (i < 8) {
        ms = [...ms, { ...ms[2]!, name: `${c.metadata.name}-md-0-9`, providerId: `aws:///eu-west-1a/i-${c.metadata.name}w9` }];
        expected[c.metadata.name] = 'orphan';
      } else if (i < 10) {
        // Unconverged; the second one has a rollout in progress (its machine records are read for the deadline).
        const progressing = { type: 'RolloutProgressing', status: 'True' as const, reason: 'RollingOut', lastTransitionTime: NOW.toISOString() };
        record = { ...c, metadata: { ...c.metadata, generation: 2 }, status: { ...c.status, conditions: i === 9 ? [c.status.conditions[0]!, progressing] : c.status.conditions } };
        expected[c.metadata.name] = 'converge';
      } else if (i === 10 && options.nodeHealth !== false) {
        notReady.add(ms[1]!.name);
        expected[c.metadata.name] = 'node-health';
      } else if (i === 11) {
        // A worker is lost and an unknown one runs in the same pool: the counts agree, the names do not.
        ms = [...ms.slice(0, 2), { ...ms[2]!, name: `${c.metadata.name}-md-0-7`, providerId: `aws:///eu-west-1a/i-${c.metadata.name}w7` }];
        expected[c.metadata.name] = 'drift';
      }
      clusters[i] = record;
      const key = accountOf(i % options.accounts);
      if (!byScope.has(key)) byScope.set(key, []);
      byScope.get(key)!.push(...ms);
    });
    // A machine of a cluster deleted long ago, in the first account.
    byScope.get(accountOf(0))!.push({ name: 'gone-md-0-1', cluster: 'gone', clusterUid: 'uid-gone', pool: 'md-0', role: 'worker', providerId: 'aws:///eu-west-1a/i-0gone', state: 'running', launchedAt: '2029-01-01T00:00:00Z' });
    await mapLimit(clusters, 16, (c) => store.createCluster(c));
    if (options.emptyScope) {
      const account = accountOf(options.accounts);
      await store.registerScope({ provider: 'aws', account, region: 'eu-west-1' });
      byScope.set(account, [{ name: 'left-md-0-1', cluster: 'left', clusterUid: 'uid-left', pool: 'md-0', role: 'worker', providerId: 'aws:///eu-west-1a/i-0left', state: 'running', launchedAt: '2029-01-01T00:00:00Z' }]);
    }
    if (options.dropRegistry) {
      const registry = await dynamo.client.send(new QueryCommand({ TableName: dynamo.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': { S: 'SCOPES' } } }));
      for (const item of registry.Items ?? []) await dynamo.client.send(new DeleteItemCommand({ TableName: dynamo.tableName, Key: { PK: item.PK!, SK: item.SK! } }));
    }
    const seedMs = performance.now() - seedStart;

    const counts = { largestPage: 0, store: {} as Record<string, number>, reads: new Map<string, number>(), provider: {} as Record<string, number>, listed: [] as string[], started: [] as { cluster: string; reason: string }[] };
    const count = (what: string) => (counts.provider[what] = (counts.provider[what] ?? 0) + 1);
    const failing = new Set((options.failingAccounts ?? []).map(accountOf));
    // The registered nodes of each cluster (its running machines), for listNodes.
    const byUid = groupByClusterUid([...byScope.values()].flat().filter((m) => m.state === 'running'));
    const provider: MachineProvider = {
      name: 'aws',
      callsBack: true,
      listMachines: async (scope: ProviderScope) => {
        count('listMachines');
        counts.listed.push(`${scope.account}/${scope.region}`);
        if (failing.has(scope.account)) throw Object.assign(new Error(`AccessDenied: cannot assume the member role in ${scope.account}`), { name: 'ProviderRejectedError' });
        return byScope.get(scope.account) ?? [];
      },
      getNode: async (_c: ClusterRef, machine: string): Promise<NodeStatus> => {
        count('getNode');
        return { ready: !notReady.has(machine), cordoned: false, pods: 3 };
      },
      listNodes: async (c: ClusterRef): Promise<ReadonlyMap<string, NodeHealth>> => {
        count('listNodes');
        return new Map((byUid.get(c.uid) ?? []).map((m) => [m.name, { ready: !notReady.has(m.name), cordoned: false }]));
      },
      deleteMachine: async () => {
        count('deleteMachine');
      },
      ensureInfrastructure: async () => {
        throw new Error('not expected');
      },
      deleteInfrastructure: async () => {
        throw new Error('not expected');
      },
      createMachine: async () => {
        throw new Error('not expected');
      },
      cordon: async () => undefined,
      drain: async () => ({ done: true }),
      listEtcdMembers: async () => [],
      removeControlPlaneMember: async () => ({ removed: false, leadershipMoved: false, members: [] }),
      removeEtcdMember: async () => ({ removed: false, leadershipMoved: false, members: [] }),
      deleteNode: async () => undefined,
    };
    const workflow: Workflow = {
      startRollout: async (r) => {
        counts.started.push({ cluster: r.cluster, reason: r.reason });
        return { executionName: `${r.cluster}-x`, started: true };
      },
      sendTaskSuccess: async () => undefined,
      sendTaskFailure: async () => undefined,
    };
    const deps: Deps = {
      store: countingStore(store, counts),
      workflow,
      providers: { get: () => provider },
      clock,
      log: silentLogger,
      authenticate: async () => ({ id: 'local:bench', accounts: ['*'], admin: true }),
      callbackSecret: async () => new Uint8Array(32),
      callbackBaseUrl: 'http://127.0.0.1:9',
      settings: DEFAULT_SETTINGS,
    };
    const t0 = performance.now();
    const report = await sweep({ nodeHealth: options.nodeHealth ?? true, ...(options.pageSize ? { pageSize: options.pageSize } : {}) }, deps);
    const sweepMs = performance.now() - t0;
    const reads = [...counts.reads.values()];
    return {
      clusters: options.clusters,
      accounts: options.accounts,
      machines: [...byScope.values()].reduce((n, l) => n + l.length, 0),
      seedMs: Math.round(seedMs),
      sweepMs: Math.round(sweepMs),
      report,
      counts: {
        store: counts.store,
        clusterRecordsRead: reads.reduce((a, b) => a + b, 0),
        maxReadsOfOneRecord: Math.max(0, ...reads),
        provider: counts.provider,
        listedScopes: counts.listed.sort(),
        largestPage: counts.largestPage,
        started: counts.started.sort((a, b) => a.cluster.localeCompare(b.cluster)),
      },
      expected,
    };
  } finally {
    await dynamo.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  for (const clusters of sizes.length ? sizes : [1000, 10000]) {
    for (const nodeHealth of [false, true]) {
      const r = await measureSweep({ clusters, accounts: 20, nodeHealth });
      process.stdout.write(
        `${JSON.stringify({ clusters, accounts: 20, nodeHealth, machines: r.machines, seedMs: r.seedMs, sweepMs: r.sweepMs, store: r.counts.store, clusterRecordsRead: r.counts.clusterRecordsRead, provider: r.counts.provider, started: r.counts.started.length, orphansTerminated: r.report.orphans.terminated })}\n`,
      );
    }
  }
}
