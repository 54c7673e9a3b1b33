/**
 * Figure 4, sweep scale: the scheduled reconcile sweep (functions/reconcile/sweep.ts, the handler EventBridge
 * runs) over 1k, 10k and 100k idle clusters in 10, 100 and 1,000 accounts: time, store reads, provider calls,
 * peak heap. The fleet is simulated (bench/lib/fleet.ts): a store that generates converged clusters from one real
 * template, a provider that lists each account-region's machines, a workflow that counts starts.
 *
 * Targets: one provider list call per account-region (contract P3: cost grows with accounts, not clusters), one
 * node list per cluster (P6a: not one node read per machine), and memory flat as clusters grow (the sweep streams
 * each account-region's records page by page; it must not hold the fleet). The fleet's store gets a scope registry
 * here (`withScopeRegistry`): the account-regions of the shape.
 * Note: bench/sweep-scale.ts (the reconcile engineer's harness) counts the same sweep on the real DynamoDbStore.
 */
import { performance } from 'node:perf_hooks';
import { DEFAULT_SETTINGS, type Deps } from '../functions/adapters/deps.js';
import { silentLogger } from '../functions/adapters/logger.js';
import type { Cluster, PoolStatus } from '../functions/domain/cluster.js';
import type { Machine } from '../functions/domain/machine.js';
import { systemClock, type Page, type ProviderScopeKey, type Store } from '../functions/domain/ports.js';
import { machineNamesHash } from '../functions/domain/status.js';
import { figure, type BenchOptions, type Figure } from './lib/figure.js';
import { accountId, SimulatedFleet, type FleetCounts, type FleetShape } from './lib/fleet.js';
import { collectGarbage } from './lib/gc.js';

/** What one sweep over a simulated fleet measured. */
export interface SweepRun {
  readonly shape: FleetShape;
  readonly ms: number;
  readonly storeReads: number;
  readonly providerCalls: number;
  /** provider.listMachines calls (the target: one per account-region). */
  readonly listCalls: number;
  /** Node calls of the sweep: listNodes (one per converged cluster, whatever its machines), plus any getNode. */
  readonly nodeChecks: number;
  /**
   * Highest heap still in use after a full GC, sampled while pages are held (about 20 samples per sweep), above the
   * floor before the sweep: what the sweep retains. The figure judged "flat".
   */
  readonly liveHeapBytes: number;
  /** Highest `heapUsed` seen at any call, garbage included (grows with the work done between V8's collections). */
  readonly peakHeapBytes: number;
  readonly counts: FleetCounts;
  readonly machinesPerCluster: number;
  readonly result: unknown;
}

/** Live-heap sampling: a full GC after every `every`-th page, keeping the highest heap left in use. */
export interface LiveHeapProbe {
  readonly every: number;
  pages: number;
  peak: number;
  /** Time spent in those collections (taken out of the sweep time). */
  gcMs: number;
}

/**
 * The fleet's store with a scope registry (one scope per simulated account), and cluster records whose pool name
 * fingerprints match the names the fleet's provider lists (the fleet renames the template's machines per cluster).
 * Also samples the heap after each page, when the page is held (and the live heap, when a probe is given).
 */
export function withScopeRegistry(fleet: SimulatedFleet, machines: readonly Pick<Machine, 'name' | 'pool'>[], templateName: string, probe?: LiveHeapProbe): Store {
  const inner = fleet.store();
  const region = fleet.shape.region ?? 'us-east-1';
  const sample = () => {
    const used = process.memoryUsage().heapUsed;
    if (used > fleet.counts.peakHeap) fleet.counts.peakHeap = used;
    if (probe && ++probe.pages % probe.every === 0) {
      const t0 = performance.now();
      probe.peak = Math.max(probe.peak, collectGarbage());
      probe.gcMs += performance.now() - t0;
    }
  };
  const fingerprinted = (c: Cluster): Cluster => {
    const names = (pool: string) => machines.filter((m) => m.pool === pool).map((m) => m.name.replace(templateName, c.metadata.name));
    const fix = (p: PoolStatus): PoolStatus => (p.machineNamesHash === undefined ? p : { ...p, machineNamesHash: machineNamesHash(names(p.name)) });
    return { ...c, status: { ...c.status, controlPlane: fix(c.status.controlPlane), workers: c.status.workers.map(fix) } };
  };
  const page = async (p: Promise<Page<Cluster>>): Promise<Page<Cluster>> => {
    const got = await p;
    const out = { ...got, items: got.items.map(fingerprinted) };
    sample();
    return out;
  };
  return {
    ...inner,
    listClusters: (options) => page(inner.listClusters(options)),
    listClustersByScope: (scope, options) => page(inner.listClustersByScope(scope, options)),
    listScopes: async (): Promise<ProviderScopeKey[]> => {
      fleet.counts.store.listScopes = (fleet.counts.store.listScopes ?? 0) + 1;
      return Array.from({ length: fleet.shape.accounts }, (_, a) => ({ provider: 'aws', account: accountId(a), region }));
    },
    registerScope: async () => {
      fleet.counts.store.registerScope = (fleet.counts.store.registerScope ?? 0) + 1;
      fleet.counts.storeWrites++;
    },
  };
}

/** Deps for a handler over the simulated fleet (`machines`: the template's, renamed per cluster by the fleet). */
export function fleetDeps(fleet: SimulatedFleet, machines: readonly Pick<Machine, 'name' | 'pool'>[] = [], templateName = '', probe?: LiveHeapProbe): Deps & { readonly metrics: (line: string) => void } {
  const provider = fleet.provider();
  return {
    metrics: () => undefined,
    store: withScopeRegistry(fleet, machines, templateName, probe),
    workflow: fleet.workflow(),
    providers: { get: () => provider },
    clock: systemClock,
    log: silentLogger,
    authenticate: async () => ({ id: 'local:bench', accounts: ['*'], admin: true }),
    callbackSecret: async () => new Uint8Array(32),
    callbackBaseUrl: 'http://127.0.0.1:9',
    settings: DEFAULT_SETTINGS,
  };
}

/** Runs the real sweep handler once over a simulated fleet. */
export async function sweepOnce(template: Cluster, machines: readonly Machine[], shape: FleetShape): Promise<SweepRun> {
  const { sweep } = await import('../functions/reconcile/sweep.js');
  const fleet = new SimulatedFleet(template, machines, shape);
  // About 20 live samples per sweep whatever its size (one page per account-region at 100 clusters each).
  const probe: LiveHeapProbe = { every: Math.max(1, Math.round(shape.accounts / 20)), pages: 0, peak: 0, gcMs: 0 };
  const deps = fleetDeps(fleet, machines, template.metadata.name, probe);
  const floor = collectGarbage();
  fleet.counts.peakHeap = floor;
  probe.peak = floor;
  const t0 = performance.now();
  const result = await (sweep as (input: unknown, deps: Deps) => Promise<unknown>)({ source: 'bench' }, deps);
  const ms = performance.now() - t0 - probe.gcMs;
  const reads = Object.entries(fleet.counts.store).reduce((n, [, v]) => n + v, 0) - fleet.counts.storeWrites;
  const providerCalls = Object.values(fleet.counts.provider).reduce((n, v) => n + v, 0);
  const listCalls = fleet.counts.provider.listMachines ?? 0;
  const nodeChecks = (fleet.counts.provider.listNodes ?? 0) + (fleet.counts.provider.getNode ?? 0);
  return { shape, ms, storeReads: reads, providerCalls, listCalls, nodeChecks, machinesPerCluster: machines.length, liveHeapBytes: Math.max(0, probe.peak - floor), peakHeapBytes: Math.max(0, fleet.counts.peakHeap - floor), counts: fleet.counts, result };
}

/** The fleet sizes `npm run bench` sweeps. */
export function sweepShapes(quick: boolean): FleetShape[] {
  return quick
    ? [{ clusters: 500, accounts: 5 }, { clusters: 1000, accounts: 10 }]
    : [{ clusters: 1000, accounts: 10 }, { clusters: 10_000, accounts: 100 }, { clusters: 100_000, accounts: 1000 }];
}

const label = (s: FleetShape) => `${s.clusters >= 1000 ? `${s.clusters / 1000}k` : s.clusters}x${s.accounts}acct`;

/** Figure 4 lines: per fleet size, provider calls vs account-regions, store reads vs pages, heap and time vs the smallest fleet. */
export function sweepFigures(runs: readonly SweepRun[]): Figure[] {
  const base = runs[0]!;
  return runs.flatMap((r) => {
    const l = label(r.shape);
    // DynamoDB returns at most 1 MB per Query page: the fewest reads that can return these clusters.
    const pages = Math.max(1, Math.ceil(r.counts.storeBytes / 2 ** 20));
    const detail = { clusters: r.shape.clusters, accounts: r.shape.accounts, store: r.counts.store, provider: r.counts.provider, rolloutsStarted: r.counts.rolloutsStarted, storeItems: r.counts.storeItems, storeBytes: r.counts.storeBytes, ms: Math.round(r.ms) };
    return [
      figure(`sweep.providerListCalls.${l}`, r.listCalls, 'calls', r.shape.accounts, 'max', 'account-regions', detail),
      // One node LIST per idle cluster, not one node read per machine (P6a).
      figure(`sweep.nodeChecks.${l}`, r.nodeChecks, 'calls', r.shape.clusters, 'max', 'clusters'),
      figure(`sweep.storeReads.${l}`, r.storeReads, 'reads', pages, 'baseline', 'reads of 1 MB pages'),
      // Flat: what the sweep retains (after a full GC) within twice the smallest fleet's (and 4 MiB, the noise).
      figure(`sweep.peakHeap.${l}`, r.liveHeapBytes / 2 ** 20, 'MiB', Math.max((2 * base.liveHeapBytes) / 2 ** 20, 4), 'max', `MiB live: 2× ${label(base.shape)}'s or 4`),
      // heapUsed with garbage: grows with the work between collections, not with what is held (no pass or fail).
      figure(`sweep.heapUsed.${l}`, r.peakHeapBytes / 2 ** 20, 'MiB', Math.max(base.peakHeapBytes / 2 ** 20, 1), 'baseline', `MiB incl. garbage, ${label(base.shape)}'s`),
      figure(`sweep.time.${l}`, r.ms, 'ms', (base.ms * r.shape.clusters) / base.shape.clusters, 'baseline', `ms linear from ${label(base.shape)}`),
    ];
  });
}

/** Runs figure 4 from a converged cluster template. */
export async function runSweepBench(template: Cluster, machines: readonly Machine[], options: BenchOptions): Promise<{ figures: Figure[]; runs: SweepRun[] }> {
  const runs: SweepRun[] = [];
  for (const shape of sweepShapes(options.quick)) {
    runs.push(await sweepOnce(template, machines, shape));
    options.log?.(`  sweep ${label(shape)}: ${Math.round(runs.at(-1)!.ms)} ms`);
  }
  return { figures: sweepFigures(runs), runs };
}
