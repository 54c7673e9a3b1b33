/**
 * Figure 2, cost per replaced machine: Step Functions transitions, Lambda invocations, DynamoDB request units and
 * provider calls per machine replaced (from figure 1's upgrades), and what a fleet costs a month at the published
 * prices of bench/lib/prices.ts.
 *
 * Lambda invocations per machine = the workflow's task invocations + one Ready callback per new machine (the API
 * function) + the PATCH itself, over the machines replaced. Billed duration per invocation is the run's mean Plan
 * step (≥ 100 ms): locally dynalite is slower than DynamoDB, so this over-states compute.
 * The idle figure runs the real sweep handler over 100 simulated idle clusters (bench/lib/fleet.ts); its read units
 * are the returned bytes in 4 KB units per call (DynamoDB's strongly consistent rounding, the dearer case).
 */
import { figure, type BenchOptions, type Figure } from './lib/figure.js';
import { HOURS_PER_MONTH, PRICES, usd } from './lib/prices.js';
import type { RolloutRun } from './rollout.js';
import { sweepOnce } from './sweep-bench.js';

/** Targets of figure 2. */
export const COST_TARGETS = { transitionsPerMachine: 12, idleMonthlyUsd: 2, eksManagementMonthlyUsd: PRICES.eksClusterMonthlyUsd } as const;

/** Sweeps per month at one every 5 minutes. */
export const SWEEPS_PER_MONTH = 12 * HOURS_PER_MONTH;

function perMachine(r: RolloutRun) {
  const invocations = r.invocations + r.callbacks + 1;
  const providerCalls = Object.values(r.providerCalls).reduce((n, v) => n + v, 0);
  // The fewest invocations the workflow's design needs: one per intent, one callback per new machine, one Plan per wave + the final one.
  const floor = r.replaced * 2 + r.callbacks + r.waves + 1;
  return { invocations, providerCalls, floor, invocationMs: Math.max(100, r.profile.meanPlanMs ?? 0) };
}

/** Figure 2 lines. */
export async function runCostBench(runs: readonly RolloutRun[], options: BenchOptions): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const r of runs) {
    figures.push(figure(`cost.transitionsPerMachine.${r.label}`, r.transitions / r.replaced, 'transitions', COST_TARGETS.transitionsPerMachine, 'max', 'target', { transitions: r.transitions, replaced: r.replaced }));
  }
  const total = (f: (r: RolloutRun) => number) => runs.reduce((n, r) => n + f(r), 0);
  const replaced = total((r) => r.replaced);
  const invocations = total((r) => perMachine(r).invocations);
  const floor = total((r) => perMachine(r).floor);
  const providerCalls = total((r) => perMachine(r).providerCalls);
  figures.push(figure('cost.invocationsPerMachine', invocations / replaced, 'invocations', floor / replaced, 'baseline', 'floor of the workflow design', { invocations, replaced }));
  figures.push(figure('cost.providerCallsPerMachine', providerCalls / replaced, 'calls', 4, 'baseline', 'floor (create, cordon, drain, delete)', { byMethod: Object.fromEntries(runs.map((r) => [r.label, r.providerCalls])) }));
  const small = runs[0]!;
  const large = runs.reduce((a, b) => (b.replaced > a.replaced ? b : a));
  figures.push(figure(`cost.dynamoReadUnitsPerMachine.${large.label}`, large.dynamo.readUnits / large.replaced, 'RRU', small.dynamo.readUnits / small.replaced, 'baseline', `RRU at ${small.label}`, { requests: large.dynamo.requests }));
  figures.push(figure(`cost.dynamoWriteUnitsPerMachine.${large.label}`, large.dynamo.writeUnits / large.replaced, 'WRU', small.dynamo.writeUnits / small.replaced, 'baseline', `WRU at ${small.label}`));

  const machineUsd =
    usd({
      transitions: total((r) => r.transitions),
      invocations,
      invocationMs: Math.max(...runs.map((r) => perMachine(r).invocationMs)),
      readUnits: total((r) => r.dynamo.readUnits),
      writeUnits: total((r) => r.dynamo.writeUnits),
    }) / replaced;

  // Idle: the sweep handler over 100 converged clusters in 10 accounts, every 5 minutes for a month.
  const idle = await sweepOnce(small.cluster, small.machines.slice(0, 6), { clusters: 100, accounts: 10 });
  const readCalls = idle.storeReads;
  // Billed duration: the simulated provider answers at once; on AWS each account-region list costs ~200 ms (STS +
  // paginated DescribeInstances) and each node check (one node LIST per cluster) ~20 ms, at the sweep's
  // concurrency (8 scopes, 16 per scope).
  const nodeChecksPerScope = idle.nodeChecks / idle.shape.accounts;
  const awsMs = Math.ceil(idle.shape.accounts / 8) * (200 + Math.ceil(nodeChecksPerScope / 16) * 20);
  const sweepUsd = usd({
    transitions: idle.counts.rolloutsStarted * 8,
    invocations: 1 + idle.counts.rolloutsStarted,
    invocationMs: Math.max(100, idle.ms, awsMs),
    readUnits: Math.ceil(idle.counts.storeBytes / 4096) + readCalls,
    writeUnits: idle.counts.storeWrites,
    scheduled: 1,
  });
  const idleMonthly = sweepUsd * SWEEPS_PER_MONTH;
  options.log?.(`  idle sweep of 100 clusters: ${readCalls} store reads, ${JSON.stringify(idle.counts.provider)} provider calls, $${sweepUsd.toExponential(2)} per sweep`);
  figures.push(
    figure('cost.idle100.monthly', idleMonthly, 'USD/month', COST_TARGETS.idleMonthlyUsd, 'max', 'target', {
      perSweepUsd: sweepUsd,
      sweepsPerMonth: SWEEPS_PER_MONTH,
      storeReads: readCalls,
      storeBytes: idle.counts.storeBytes,
      providerCalls: idle.counts.provider,
      billedSweepMs: Math.max(100, idle.ms, awsMs),
      rolloutsStarted: idle.counts.rolloutsStarted,
      sweepMs: Math.round(idle.ms),
      prices: PRICES,
    }),
  );
  // A fleet: those 100 clusters idle all month, and each replaces 10 machines once (a monthly upgrade).
  const fleetMonthly = idleMonthly + 100 * 10 * machineUsd;
  figures.push(figure('cost.fleet100.monthly', fleetMonthly, 'USD/month', COST_TARGETS.eksManagementMonthlyUsd, 'max', 'EKS management cluster before nodes', { usdPerReplacedMachine: machineUsd, idleMonthly, replacedPerMonth: 1000 }));
  return figures;
}
