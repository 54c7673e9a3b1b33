/**
 * The sweep's cost over 1,000 clusters in 20 accounts (real DynamoDbStore on dynalite, counting fake provider):
 * provider list calls per account-region, every cluster record read at most once and page by page per scope, machine
 * records read and workflows started only for the clusters that differ, and a failing account reported without
 * holding back the rest. Then the scope registry: an account-region with no cluster left is still swept for orphans,
 * and a table from before the registry is backfilled once.
 */
import { accountOf, measureSweep, type SweepScaleResult } from '../../bench/sweep-scale.js';

describe('sweep over 1,000 clusters in 20 accounts', () => {
  let run: SweepScaleResult;

  beforeAll(async () => {
    run = await measureSweep({ clusters: 1000, accounts: 20, failingAccounts: [19] });
  }, 60_000);

  it('lists provider machines once per account-region, not per cluster', () => {
    expect(run.counts.provider.listMachines).toBe(20);
    expect(run.counts.listedScopes).toEqual(Array.from({ length: 20 }, (_, a) => `${accountOf(a)}/eu-west-1`).sort());
  });

  it('reads each cluster record at most once, scope by scope from the registry, never one cluster at a time', () => {
    expect(run.counts.clusterRecordsRead).toBe(1000);
    expect(run.counts.maxReadsOfOneRecord).toBe(1);
    expect(run.counts.store.getCluster ?? 0).toBe(0);
    expect(run.counts.store.listScopes).toBe(1);
    expect(run.counts.store.listClusters ?? 0).toBe(0); // the registry is filled: no pass over all clusters
    expect(run.counts.store.listClustersByScope).toBe(20); // 50 clusters per scope: one page of 500 each
  });

  it('reads machine records only for unconverged clusters with a rollout in progress', () => {
    expect(run.counts.store.listMachines).toBe(1); // of 2 unconverged clusters, one has a rollout in progress
    expect(run.counts.store.getMachine ?? 0).toBe(0);
  });

  it('starts workflows exactly for the clusters that differ, with the reason', () => {
    const failing = new Set(Array.from({ length: 1000 }, (_, i) => i).filter((i) => i % 20 === 19).map((i) => `c${String(i).padStart(5, '0')}`));
    const want = Object.entries(run.expected).filter(([c]) => !failing.has(c)).map(([cluster, reason]) => ({ cluster, reason })).sort((a, b) => a.cluster.localeCompare(b.cluster));
    expect(want.length).toBeGreaterThan(8);
    expect(run.counts.started).toEqual(want);
    expect(run.report.started).toBe(want.length);
  });

  it('terminates the machine of a deleted cluster (grace passed) and nothing else', () => {
    expect(run.report.orphans).toEqual({ terminated: 1, waiting: 0 });
    expect(run.counts.provider.deleteMachine).toBe(1);
  });

  it('reports the failing account and sweeps the other 19', () => {
    expect(run.report.failures).toEqual([{ scope: `aws#${accountOf(19)}#eu-west-1`, error: expect.stringMatching(/AccessDenied/) }]);
    expect(run.report.scopes).toBe(20);
    expect(run.report.clusters).toBe(1000);
  });

  it('checks node health with one listNodes per converged, unchanged cluster and no getNode (the documented cost)', () => {
    // 19 healthy accounts × 50 clusters, minus the 11 that differ by their machines or have not converged; the
    // NotReady node's cluster is among those checked. Its 3 machines cost one call, not three.
    expect(run.counts.provider.getNode ?? 0).toBe(0);
    expect(run.counts.provider.listNodes).toBe(run.report.nodeChecks);
    expect(run.report.nodeChecks).toBe(19 * 50 - 11);
    expect(run.report.changes).toContainEqual(expect.objectContaining({ cluster: 'c00010', reason: 'node-health', message: 'node of machine c00010-md-0-1 reports NotReady' }));
  });
});

describe('sweep without node health', () => {
  it('makes no provider call but one listing per account-region', async () => {
    const run = await measureSweep({ clusters: 200, accounts: 20, nodeHealth: false });
    expect(run.counts.provider).toEqual({ listMachines: 20, deleteMachine: 1 });
    expect(run.counts.started.map((s) => s.reason).sort()).toEqual(['converge', 'converge', 'drift', 'drift', 'drift', 'drift', 'drift', 'drift', 'orphan', 'orphan', 'orphan']);
  }, 60_000);
});

describe('sweep in pages', () => {
  it('reads each scope in pages of pageSize, every record once, and finds the same differences', async () => {
    // Act
    const run = await measureSweep({ clusters: 200, accounts: 4, nodeHealth: false, pageSize: 7 });
    // Assess
    expect(run.counts.largestPage).toBe(7);
    expect(run.counts.store.listClustersByScope).toBe(4 * Math.ceil(50 / 7));
    expect(run.counts.clusterRecordsRead).toBe(200);
    expect(run.counts.maxReadsOfOneRecord).toBe(1);
    expect(run.counts.provider.listMachines).toBe(4);
    expect(run.counts.started).toEqual(Object.entries(run.expected).map(([cluster, reason]) => ({ cluster, reason })).sort((a, b) => a.cluster.localeCompare(b.cluster)));
    expect(run.report.orphans).toEqual({ terminated: 1, waiting: 0 });
  }, 60_000);

  it('finds a lost machine and an unknown one in the same pool by name, where the counts agree', async () => {
    // Act
    const run = await measureSweep({ clusters: 20, accounts: 2, nodeHealth: false });
    // Assess
    expect(run.report.changes).toContainEqual(expect.objectContaining({ cluster: 'c00011', reason: 'drift', message: 'machines at the provider differ from the records by name: md-0 2/2' }));
  }, 60_000);
});

describe('the scope registry', () => {
  it('lists an account-region with no cluster left and terminates its orphan', async () => {
    // Act
    const run = await measureSweep({ clusters: 40, accounts: 4, nodeHealth: false, emptyScope: true });
    // Assess
    expect(run.counts.listedScopes).toContain(`${accountOf(4)}/eu-west-1`);
    expect(run.report.scopes).toBe(5);
    expect(run.report.orphans).toEqual({ terminated: 2, waiting: 0 }); // the deleted cluster's in account 0, and this one
    expect(run.counts.provider.deleteMachine).toBe(2);
  }, 60_000);

  it('backfills the registry of a table written before it, reading the records once more', async () => {
    // Act
    const run = await measureSweep({ clusters: 40, accounts: 4, nodeHealth: false, dropRegistry: true });
    // Assess
    expect(run.report.backfilledScopes).toBe(4);
    expect(run.counts.store.registerScope).toBe(4);
    expect(run.counts.store.listClusters).toBe(1);
    expect(run.counts.provider.listMachines).toBe(4);
    expect(run.counts.maxReadsOfOneRecord).toBe(2);
    expect(run.counts.started).toHaveLength(Object.keys(run.expected).length);
  }, 60_000);
});
