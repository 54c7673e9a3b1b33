/**
 * A simulated fleet of idle clusters for the sweep benchmarks: a Store that generates N converged clusters (and
 * their machines) from one real template on demand, a provider whose `listMachines` returns exactly those machines
 * per account-region, and a workflow that only counts starts. Everything counts its calls.
 *
 * Why generated, not stored: 100k cluster documents held in memory would dwarf what the sweep itself keeps, and
 * "memory flat as clusters grow" is a claim about the sweep. Each page is built when asked for and dropped after.
 */
import type { Cluster } from '../../functions/domain/cluster.js';
import type { Machine } from '../../functions/domain/machine.js';
import type { Page, Store, Workflow } from '../../functions/domain/ports.js';
import type { ClusterRef, MachineProvider, NodeHealth, ProviderMachine, ProviderScope } from '../../functions/domain/provider.js';

/** Calls seen by the simulated store, provider and workflow. */
export interface FleetCounts {
  /** Store calls by method. */
  readonly store: Record<string, number>;
  /** Items the store returned (clusters, machines, events). */
  storeItems: number;
  /** Bytes of the JSON of the items returned (DynamoDB bills reads by item size, 4 KB per unit). */
  storeBytes: number;
  /** Store writes (an idle sweep should make none). */
  storeWrites: number;
  readonly provider: Record<string, number>;
  rolloutsStarted: number;
  /** Highest heap in use seen at any call (bytes). */
  peakHeap: number;
}

/** Shape of the fleet. */
export interface FleetShape {
  readonly clusters: number;
  readonly accounts: number;
  /** @default 'us-east-1' */
  readonly region?: string;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** The 12-digit id of simulated account `i`. */
export function accountId(i: number): string {
  return `1000${pad(i, 8)}`;
}

/** Builds the simulated fleet around one converged cluster and its live machines. */
export class SimulatedFleet {
  readonly counts: FleetCounts = { store: {}, storeItems: 0, storeBytes: 0, storeWrites: 0, provider: {}, rolloutsStarted: 0, peakHeap: 0 };
  private readonly templateBytes: number;
  private readonly machineBytes: number;

  constructor(
    private readonly template: Cluster,
    private readonly machines: readonly Machine[],
    readonly shape: FleetShape,
  ) {
    this.templateBytes = Buffer.byteLength(JSON.stringify(template));
    this.machineBytes = machines.length ? Buffer.byteLength(JSON.stringify(machines[0])) : 0;
  }

  private sample(): void {
    const used = process.memoryUsage().heapUsed;
    if (used > this.counts.peakHeap) this.counts.peakHeap = used;
  }

  private count(kind: 'store' | 'provider', method: string): void {
    this.counts[kind][method] = (this.counts[kind][method] ?? 0) + 1;
    this.sample();
  }

  private get region(): string {
    return this.shape.region ?? 'us-east-1';
  }

  /**
   * Cluster `i` (0-based): a deep copy of the template, renamed, in account `i mod accounts`. Deep, because a record
   * read from DynamoDB shares nothing with its neighbours: a shallow copy would hide what holding it costs.
   */
  cluster(i: number): Cluster {
    const name = `idle-${pad(i, 6)}`;
    const account = accountId(i % this.shape.accounts);
    const copy = structuredClone(this.template);
    return {
      ...copy,
      metadata: { ...copy.metadata, name, uid: `uid-${pad(i, 6)}` },
      spec: { ...copy.spec, infrastructure: { provider: 'aws', account, region: this.region } },
    };
  }

  private index(name: string): number | undefined {
    const m = /^idle-(\d+)$/.exec(name);
    const i = m ? Number(m[1]) : NaN;
    return Number.isInteger(i) && i < this.shape.clusters ? i : undefined;
  }

  private machinesOf(i: number): Machine[] {
    const c = this.cluster(i);
    return this.machines.map((m) => ({ ...m, cluster: c.metadata.name, clusterUid: c.metadata.uid, name: m.name.replace(this.template.metadata.name, c.metadata.name) }));
  }

  private returned<T>(items: T[], bytesEach: number): T[] {
    this.counts.storeItems += items.length;
    this.counts.storeBytes += items.length * bytesEach;
    return items;
  }

  /** The store port over the generated clusters (reads generate; writes are counted and ignored). */
  store(): Store {
    const page = (indices: number[], limit: number, cursor?: string): Page<Cluster> => {
      const from = cursor ? Number(cursor) : 0;
      const slice = indices.slice(from, from + limit);
      const items = this.returned(slice.map((i) => this.cluster(i)), this.templateBytes);
      return from + limit < indices.length ? { items, next: String(from + limit) } : { items };
    };
    const all = (n: number) => Array.from({ length: n }, (_, i) => i);
    const write = (method: string) => async (): Promise<never> => {
      this.count('store', method);
      this.counts.storeWrites++;
      throw new Error(`simulated fleet: an idle sweep called ${method}`);
    };
    return {
      getCluster: async (name) => {
        this.count('store', 'getCluster');
        const i = this.index(name);
        return i === undefined ? undefined : this.returned([this.cluster(i)], this.templateBytes)[0];
      },
      listClusters: async (options = {}) => {
        this.count('store', 'listClusters');
        return page(all(this.shape.clusters), Math.min(options.limit ?? 100, 1000), options.cursor);
      },
      listClustersByScope: async (scope, options = {}) => {
        this.count('store', 'listClustersByScope');
        const a = Number(scope.account.slice(4));
        const indices: number[] = [];
        for (let i = a; i < this.shape.clusters; i += this.shape.accounts) indices.push(i);
        return page(scope.region === this.region ? indices : [], Math.min(options.limit ?? 100, 1000), options.cursor);
      },
      getMachine: async (cluster, name) => {
        this.count('store', 'getMachine');
        const i = this.index(cluster);
        return i === undefined ? undefined : this.returned(this.machinesOf(i).filter((m) => m.name === name), this.machineBytes)[0];
      },
      listMachines: async (cluster) => {
        this.count('store', 'listMachines');
        const i = this.index(cluster);
        return i === undefined ? [] : this.returned(this.machinesOf(i), this.machineBytes);
      },
      listEvents: async () => {
        this.count('store', 'listEvents');
        return { items: [] };
      },
      getLease: async () => {
        this.count('store', 'getLease');
        return undefined;
      },
      getPrincipal: async () => undefined,
      listPrincipals: async () => [],
      createCluster: write('createCluster'),
      updateCluster: write('updateCluster'),
      deleteCluster: write('deleteCluster'),
      putMachine: write('putMachine'),
      deleteMachines: write('deleteMachines'),
      appendEvents: write('appendEvents'),
      acquireLease: write('acquireLease'),
      releaseLease: write('releaseLease'),
      putPrincipal: write('putPrincipal'),
      deletePrincipal: write('deletePrincipal'),
    };
  }

  /** A provider that lists the fleet's machines per account-region and reports every node Ready; other calls are refused. */
  provider(): MachineProvider {
    const refuse = (method: string) => async (): Promise<never> => {
      this.count('provider', method);
      throw new Error(`simulated fleet: an idle sweep called provider.${method}`);
    };
    return {
      name: 'aws',
      callsBack: true,
      listMachines: async (scope: ProviderScope, filter: { readonly cluster?: string } = {}): Promise<ProviderMachine[]> => {
        this.count('provider', 'listMachines');
        const a = Number(scope.account.slice(4));
        const out: ProviderMachine[] = [];
        for (let i = a; i < this.shape.clusters; i += this.shape.accounts) {
          const c = this.cluster(i);
          if (filter.cluster && filter.cluster !== c.metadata.name) continue;
          for (const m of this.machinesOf(i)) {
            out.push({ name: m.name, cluster: m.cluster, clusterUid: m.clusterUid, pool: m.pool, role: m.role, providerId: `aws:///${m.name}`, state: 'running', launchedAt: m.createdAt, ...(m.failureDomain ? { failureDomain: m.failureDomain } : {}) });
          }
        }
        return out;
      },
      ensureInfrastructure: refuse('ensureInfrastructure'),
      deleteInfrastructure: refuse('deleteInfrastructure'),
      createMachine: refuse('createMachine'),
      deleteMachine: refuse('deleteMachine'),
      // Every node is healthy: an idle fleet.
      getNode: async () => {
        this.count('provider', 'getNode');
        return { ready: true, cordoned: false, pods: 5 };
      },
      listNodes: async (cluster: ClusterRef): Promise<ReadonlyMap<string, NodeHealth>> => {
        this.count('provider', 'listNodes');
        const i = this.index(cluster.name);
        // Names only (no record copies): what a node LIST returns is a name and two flags per node.
        const names = i === undefined ? [] : this.machines.map((m) => m.name.replace(this.template.metadata.name, cluster.name));
        return new Map(names.map((n) => [n, { ready: true, cordoned: false }]));
      },
      cordon: refuse('cordon'),
      drain: refuse('drain'),
      listEtcdMembers: refuse('listEtcdMembers'),
      removeControlPlaneMember: refuse('removeControlPlaneMember'),
      removeEtcdMember: refuse('removeEtcdMember'),
      deleteNode: refuse('deleteNode'),
    } as unknown as MachineProvider;
  }

  /** A workflow that counts starts (an idle sweep should start none). */
  workflow(): Workflow {
    return {
      startRollout: async (r) => {
        this.counts.rolloutsStarted++;
        return { executionName: `${r.cluster}-sim`, started: true };
      },
      sendTaskSuccess: async () => undefined,
      sendTaskFailure: async () => undefined,
    };
  }
}
