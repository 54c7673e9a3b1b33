/**
 * The sweep's cost over 1,000 clusters in 20 accounts (real DynamoDbStore on dynalite, counting fake provider):
 * provider list calls per account-region, every cluster record read at most once, machine records read and
 * workflows started only for the clusters that differ, and a failing account reported without holding back the rest.
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

  it('reads each cluster record at most once and never one cluster at a time', () => {
    expect(run.counts.clusterRecordsRead).toBe(1000);
    expect(run.counts.maxReadsOfOneRecord).toBe(1);
    expect(run.counts.store.getCluster ?? 0).toBe(0);
    expect(run.counts.store.listClusters).toBeLessThanOrEqual(2); // pages of 1,000
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

  it('checks node health with one getNode per running machine of converged, unchanged clusters (the documented cost)', () => {
    // 19 healthy accounts × 50 clusters × 3 machines, minus the changed clusters' machines, minus the checks skipped
    // after the first NotReady node of a cluster.
    expect(run.counts.provider.getNode).toBe(run.report.nodeChecks);
    expect(run.report.nodeChecks).toBeGreaterThan(2700);
    expect(run.report.nodeChecks).toBeLessThanOrEqual(19 * 50 * 3);
  });
});

describe('sweep without node health', () => {
  it('makes no provider call but one listing per account-region', async () => {
    const run = await measureSweep({ clusters: 200, accounts: 20, nodeHealth: false });
    expect(run.counts.provider).toEqual({ listMachines: 20, deleteMachine: 1 });
    expect(run.counts.started.map((s) => s.reason).sort()).toEqual(['converge', 'converge', 'drift', 'drift', 'drift', 'drift', 'drift', 'orphan', 'orphan', 'orphan']);
  }, 60_000);
});
