/**
 * Figure 1, rollout overhead: upgrade wall time ÷ the lower bound the pacing rules allow, both from the same run.
 *
 * The lower bound is the per-pool critical path of the times this run actually drew (bench/lib/critical-path.ts):
 * every replaced machine's measured boot (record createdAt → readyAt) and retirement (drainStartedAt → deletedAt);
 * control-plane replicas one at a time, then each pool its own chain of maxSurge-wide waves, a wave lasting as long
 * as its slowest boot plus its slowest retirement (maxUnavailable 0). Whatever the wall time exceeds that by is
 * Capstan's: plan steps, the Map state's barrier, callback and event-loop latency. The former bound, the planner's
 * `simulateRollout` at the median times (steps × (boot + drain)), is kept beside it as `medianBoundMs`.
 *
 * Cases run at fixed boots (1 s, 5 s) and at EC2-shaped boots scaled down to a 3 s median (`bootSpread: 'ec2'`,
 * seeded: the same machines draw the same times on every run). The same runs feed figure 2 (what each replaced
 * machine costs), figure 6 (history events per wave) and the peer figures (bench/peers.ts).
 */
import { performance } from 'node:perf_hooks';
import type { Cluster } from '../functions/domain/cluster.js';
import type { Machine } from '../functions/domain/machine.js';
import { simulateRollout } from '../functions/domain/planner/index.js';
import type { DurationSpread } from '../providers/local/local-options.js';
import { criticalPath, rolloutTimes, type CriticalPath, type RolloutTimes } from './lib/critical-path.js';
import { figure, median, type BenchOptions, type Figure } from './lib/figure.js';
import { countDynamo, countProvider, recordExecutions, type DynamoCounts, type RecordedExecution } from './lib/instrument.js';
import { clusterDoc, startBenchStack, waitConverged } from './lib/stack.js';

/** One rollout case: control-plane replicas + one worker pool. */
export interface RolloutCase {
  readonly controlPlane: number;
  readonly workers: number;
  readonly maxSurge: number;
  /** The median when `bootSpread` is set. */
  readonly bootMs: number;
  /** Per simulated pod (each machine has 5); the median when `drainSpread` is set. */
  readonly drainMsPerPod: number;
  /** How boots spread (CAPSTAN_LOCAL_BOOT_SPREAD). @default 0: every machine boots in exactly `bootMs` */
  readonly bootSpread?: DurationSpread;
  /** How evictions spread, a log-normal sigma (CAPSTAN_LOCAL_DRAIN_SPREAD). @default 0 */
  readonly drainSpread?: number;
  /** Seed of the draws (CAPSTAN_LOCAL_SEED). @default 1 */
  readonly seed?: number;
}

/** The target of figure 1. */
export const OVERHEAD_TARGET = 1.05;

/** What one upgrade run measured (figures 1, 2 and 6 read it). */
export interface RolloutRun {
  readonly label: string;
  readonly case: RolloutCase;
  readonly wallMs: number;
  /** The per-pool critical path of the drawn times (`criticalPath.totalMs`). */
  readonly lowerBoundMs: number;
  readonly criticalPath: CriticalPath;
  /** Every replaced machine's measured boot and retirement, by pool (the peers replay them). */
  readonly times: RolloutTimes;
  /** The former bound: `simulateRollout` at the median boot and retirement, steps × (boot + drain). */
  readonly medianBoundMs: number;
  /** Sequential create→ready→drain→delete steps the pacing rules force. */
  readonly steps: number;
  readonly waves: number;
  readonly medianBootMs: number;
  readonly medianDrainMs: number;
  readonly replaced: number;
  readonly transitions: number;
  readonly invocations: number;
  /** Machine Ready callbacks: each is one API (Lambda) invocation on AWS. */
  readonly callbacks: number;
  readonly dynamo: DynamoCounts;
  readonly providerCalls: Record<string, number>;
  readonly executions: RecordedExecution[];
  /** Where the wall time went (ms). */
  readonly profile: Record<string, number>;
  /** The converged cluster and its live machines (the idle-cost figure clones them). */
  readonly cluster: Cluster;
  readonly machines: Machine[];
}

/** The cases `npm run bench` runs; `--quick` runs one small case. */
export function rolloutCases(quick: boolean): RolloutCase[] {
  if (quick) return [{ controlPlane: 1, workers: 2, maxSurge: 1, bootMs: 200, drainMsPerPod: 20 }];
  const sizes = [
    { controlPlane: 3, workers: 3, maxSurge: 1 },
    { controlPlane: 3, workers: 30, maxSurge: 3 },
    { controlPlane: 5, workers: 100, maxSurge: 10 },
  ];
  const fixed = [1000, 5000].flatMap((bootMs) => sizes.map((s) => ({ ...s, bootMs, drainMsPerPod: 100 })));
  // EC2's shape (p10 0.73×, p90 1.38×, a tail to 10×) at a 3 s median, evictions log-normal σ 0.5: minutes, not hours.
  const spread = sizes.map((s) => ({ ...s, bootMs: 3000, drainMsPerPod: 100, bootSpread: 'ec2' as const, drainSpread: 0.5, seed: 1 }));
  return [...fixed, ...spread];
}

/** `3+30.boot1s`, `3+30.boot3s.ec2` (a spread boot: its median and shape). */
export function caseLabel(c: RolloutCase): string {
  const spread = c.bootSpread ? `.${c.bootSpread === 'ec2' ? 'ec2' : `sigma${c.bootSpread}`}` : '';
  return `${c.controlPlane}+${c.workers}.boot${c.bootMs / 1000}s${spread}`;
}

/** The provider settings of a case that only the environment carries through `startLocalStack`. */
function caseEnv(c: RolloutCase): Record<string, string> {
  return {
    ...(c.bootSpread ? { CAPSTAN_LOCAL_BOOT_SPREAD: String(c.bootSpread) } : {}),
    ...(c.drainSpread ? { CAPSTAN_LOCAL_DRAIN_SPREAD: String(c.drainSpread) } : {}),
    ...(c.seed !== undefined ? { CAPSTAN_LOCAL_SEED: String(c.seed) } : {}),
  };
}

function pairDurations(events: RecordedExecution['events'], stateName: string): { start: number; end: number }[] {
  const open = new Map<string, number>();
  const out: { start: number; end: number }[] = [];
  for (const e of events) {
    if (e.state?.name !== stateName) continue;
    const key = String(e.index ?? '-');
    if (e.type === 'StateEntered') open.set(key, e.timestamp);
    else if ((e.type === 'StateExited' || e.type === 'StateFailed' || e.type === 'StateCaught') && open.has(key)) {
      out.push({ start: open.get(key)!, end: e.timestamp });
      open.delete(key);
    }
  }
  return out;
}

/** Where the wall time of the upgrade went, from the interpreter's event logs. */
function profileOf(executions: readonly RecordedExecution[], wallMs: number, lowerBoundMs: number): Record<string, number> {
  const sum = (xs: { start: number; end: number }[]) => xs.reduce((n, x) => n + (x.end - x.start), 0);
  let planMs = 0;
  let actMs = 0;
  let barrierMs = 0;
  let acts = 0;
  let plans = 0;
  for (const ex of executions) {
    const planSpans = pairDurations(ex.events, 'Plan').filter(Boolean);
    planMs += sum(planSpans);
    plans += planSpans.length;
    const maps = pairDurations(ex.events, 'Act');
    actMs += sum(maps);
    acts += maps.length;
    // The barrier: each Act lasts as long as its slowest item; the time items wait for the slowest is lockstep.
    const items = ['CreateMachine', 'RetireMachine', 'DeleteMachine', 'EnsureInfrastructure'].flatMap((s) => pairDurations(ex.events, s));
    for (const m of maps) {
      const inside = items.filter((i) => i.start >= m.start && i.end <= m.end + 1);
      if (inside.length) barrierMs += inside.reduce((n, i) => n + (m.end - m.start) - (i.end - i.start), 0) / inside.length;
    }
  }
  return {
    wallMs,
    lowerBoundMs,
    planMs: Math.round(planMs),
    plans,
    meanPlanMs: plans ? Math.round(planMs / plans) : 0,
    actMs: Math.round(actMs),
    acts,
    actBeyondBoundMs: Math.round(actMs - lowerBoundMs),
    meanItemWaitAtBarrierMs: acts ? Math.round(barrierMs / acts) : 0,
    otherMs: Math.round(wallMs - planMs - actMs),
  };
}

/** Runs one case: create the cluster, upgrade it, measure. */
export async function runRolloutCase(c: RolloutCase, log: (line: string) => void = () => undefined): Promise<RolloutRun> {
  const label = caseLabel(c);
  const name = `bench-${c.controlPlane}-${c.workers}`;
  const stack = await startBenchStack({ bootMs: c.bootMs, drainMsPerPod: c.drainMsPerPod, settings: { pollSeconds: 1 }, env: caseEnv(c) });
  const recorder = recordExecutions();
  try {
    const spec = {
      controlPlane: { replicas: c.controlPlane },
      workers: [{ name: 'md-0', replicas: c.workers, rollout: { maxSurge: c.maxSurge, maxUnavailable: 0 } }],
      drain: { timeout: '5m', policy: 'Wait' },
    };
    const put = await stack.call('PUT', `/v1/clusters/${name}`, clusterDoc(name, spec));
    if (put.status !== 201) throw new Error(`bench: PUT ${name} → ${put.status} ${JSON.stringify(put.body)}`);
    // As long as the upgrade may take: on a loaded 2-core machine creating 5+100 took over 5 min.
    await waitConverged(stack, name, 900_000);
    log(`  ${label}: created`);

    const before = await stack.deps.store.listMachines(name);
    const dynamo = countDynamo(stack.dynamo.client);
    const calls = countProvider(stack.provider);
    recorder.reset();
    const started = Date.now();
    const t0 = performance.now();
    const patch = await stack.call('PATCH', `/v1/clusters/${name}`, { spec: { version: 'v1.19.1' } }, { 'content-type': 'application/merge-patch+json' });
    if (patch.status !== 200) throw new Error(`bench: PATCH ${name} → ${patch.status}`);
    await waitConverged(stack, name, 900_000);
    const wallMs = performance.now() - t0;
    dynamo.restore();
    calls.restore();

    const cluster = (await stack.deps.store.getCluster(name))!;
    const all = await stack.deps.store.listMachines(name, { includeDeleted: true });
    const fresh = all.filter((m) => m.version === 'v1.19.1' && m.readyAt);
    const retired = all.filter((m) => before.some((b) => b.name === m.name) && m.deletedAt && m.drainStartedAt);
    const medianBootMs = median(fresh.map((m) => Date.parse(m.readyAt!) - Date.parse(m.createdAt)));
    const medianDrainMs = median(retired.map((m) => Date.parse(m.deletedAt!) - Date.parse(m.drainStartedAt!)));
    const upgraded: Cluster = { ...cluster, spec: cluster.spec };
    const sim = simulateRollout(
      { cluster: upgraded, machines: before, now: new Date(started) },
      { bootSeconds: medianBootMs / 1000, drainSeconds: medianDrainMs / 1000, maxSteps: 2000 },
    );
    if (sim.outcome !== 'Done') throw new Error(`bench: simulation of ${label} ended ${sim.outcome}`);
    const times = rolloutTimes(cluster.spec, before, all);
    const path = criticalPath(times);
    const lowerBoundMs = path.totalMs;
    const executions = stack.workflow.executions().filter((e) => e.cluster === name && e.name.startsWith(`${name}-g2-`));
    const recorded = recorder.counts.filter((e) => e.name.startsWith(`${name}-g2-`));
    log(`  ${label}: upgraded in ${Math.round(wallMs)} ms (bound ${Math.round(lowerBoundMs)} ms)`);
    return {
      label,
      case: c,
      wallMs,
      lowerBoundMs,
      criticalPath: path,
      times,
      medianBoundMs: sim.estimatedSeconds * 1000,
      steps: path.steps,
      waves: sim.waves.length,
      medianBootMs,
      medianDrainMs,
      replaced: retired.length,
      transitions: executions.reduce((n, e) => n + e.transitions, 0),
      invocations: executions.reduce((n, e) => n + e.invocations, 0),
      callbacks: fresh.length,
      dynamo: dynamo.counts,
      providerCalls: { ...calls.counts.calls },
      executions: recorded,
      profile: profileOf(recorded, wallMs, lowerBoundMs),
      cluster,
      machines: all.filter((m) => m.phase !== 'Deleted'),
    };
  } finally {
    recorder.restore();
    await stack.destroy();
  }
}

/** Figure 1 lines from the runs. */
export function overheadFigures(runs: readonly RolloutRun[]): Figure[] {
  return runs.map((r) =>
    figure(`rollout.overhead.${r.label}`, r.wallMs / r.lowerBoundMs, '× bound', OVERHEAD_TARGET, 'max', 'target', {
      wallMs: Math.round(r.wallMs),
      lowerBoundMs: Math.round(r.lowerBoundMs),
      controlPlaneMs: Math.round(r.criticalPath.controlPlaneMs),
      poolMs: Object.fromEntries(Object.entries(r.criticalPath.poolMs).map(([p, ms]) => [p, Math.round(ms)])),
      medianBoundMs: Math.round(r.medianBoundMs),
      steps: r.steps,
      waves: r.waves,
      medianBootMs: Math.round(r.medianBootMs),
      medianDrainMs: Math.round(r.medianDrainMs),
      maxSurge: r.case.maxSurge,
      profile: r.profile,
    }),
  );
}

/** Runs every rollout case in turn (one stack each). */
export async function runRollouts(options: BenchOptions): Promise<RolloutRun[]> {
  const runs: RolloutRun[] = [];
  for (const c of rolloutCases(options.quick)) runs.push(await runRolloutCase(c, options.log));
  return runs;
}
