/**
 * `npm run bench`: runs every benchmark, prints one line per figure (`name: value unit (bound, ratio)`) and writes
 * bench/results.json. `--quick` runs each at a small size (the test suite uses it to check that every benchmark
 * still works; it checks the output's shape, never a speed). `--only rollout,api` runs a subset.
 *
 * Order: the rollouts first (figure 1); figures 2 and 6 are computed from their counts and event logs, figure 4
 * and the idle cost use their converged cluster as the template of the simulated fleet.
 *
 * Nothing one benchmark does ends the run (issue 16): a group, or one case of the rollout group, that throws or runs
 * past its timeout (`--timeout-seconds`, 20 min by default) is printed `name: FAILED (Error: message)` and stored as a
 * figure marked `failed` (bench/figure-guard.ts); the next one runs. The exit code is 1 at the end if any failed.
 */
import '../infra/local/quiet-warnings.js';
import { writeFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runApiBench } from './api.js';
import { runCliStartupBench } from './cli-startup.js';
import { runColdStartBench } from './cold-start.js';
import { runCostBench } from './cost.js';
import { causeOf, closeLocalStacks, failedFigure, guard, guardFigures, isFailed } from './figure-guard.js';
import { historyFigures } from './history.js';
import { runLatencyBench } from './latency.js';
import { formatFigure, type BenchOptions, type Figure } from './lib/figure.js';
import { peerFigures } from './peers.js';
import { caseLabel, overheadFigures, rolloutCases, runRolloutCase, type RolloutCase, type RolloutRun } from './rollout.js';
import { runSweepBench } from './sweep-bench.js';

/** Limit of one group, and of each case of the rollout group: a full run takes 7–15 min in all. */
export const DEFAULT_TIMEOUT_SECONDS = 1200;

/** What every group is given. */
export interface GroupContext {
  readonly bench: BenchOptions;
  /** The groups asked for (`--only`; every group by default). */
  readonly selected: ReadonlySet<string>;
  /** Limit of a group, and of each rollout case. */
  readonly timeoutMs: number;
  /** The upgrades the rollout group ran (filled by it; without the failed cases). */
  readonly runs: RolloutRun[];
}

/** One benchmark group: a name for `--only`, and its figures. */
export interface BenchGroup {
  readonly name: string;
  /** Computes from the rollout group's runs: the rollout group then runs even when not asked for. @default false */
  readonly needsRollouts?: boolean;
  /** Limits each of its cases itself (the rollout group): no limit around the whole group. @default false */
  readonly limitsItsCases?: boolean;
  readonly run: (context: GroupContext) => Promise<readonly Figure[]>;
}

/** The benchmark groups, in the order they run. A new group is one more entry (and its figures in test/bench). */
export const GROUPS = [
  { name: 'rollout', limitsItsCases: true, run: (c) => rolloutFigures(c) },
  { name: 'cost', needsRollouts: true, run: (c) => runCostBench(c.runs, c.bench) },
  { name: 'latency', run: (c) => runLatencyBench(c.bench) },
  {
    name: 'sweep',
    needsRollouts: true,
    run: async (c) => {
      // The fleet's clusters are copies of a converged cluster with (at most) 6 machines, 3+3 in the full run.
      const template = c.runs.find((r) => r.case.controlPlane === 3 && r.case.workers === 3) ?? c.runs[0]!;
      return (await runSweepBench(template.cluster, template.machines.slice(0, 6), c.bench)).figures;
    },
  },
  { name: 'api', run: (c) => runApiBench(c.bench) },
  { name: 'history', needsRollouts: true, run: async (c) => historyFigures(c.runs) },
  { name: 'cli', run: (c) => runCliStartupBench(c.bench) },
  { name: 'cold', run: (c) => runColdStartBench(c.bench) },
] as const satisfies readonly BenchGroup[];

/** A group's name, as `--only` takes it. */
export type BenchmarkName = (typeof GROUPS)[number]['name'];

/** The group names, in the order they run. */
export const BENCHMARKS: readonly BenchmarkName[] = GROUPS.map((g) => g.name);

/** Without figure 1, one small upgrade (3+3, fast boots) supplies the counts, event logs and template. */
const TEMPLATE_CASE: RolloutCase = { controlPlane: 3, workers: 3, maxSurge: 1, bootMs: 200, drainMsPerPod: 20 };

/** How `rolloutFigures` runs a case and makes its figures (tests pass stand-ins). */
export interface RolloutSeams {
  readonly runCase: (c: RolloutCase, log?: (line: string) => void) => Promise<RolloutRun>;
  readonly figuresOf: (runs: readonly RolloutRun[]) => Figure[];
}

/**
 * Figure 1: every case on its own limit, so that one slow or failing case is one failed figure and the others
 * still count (and feed the groups after).
 */
export async function rolloutFigures(context: GroupContext, seams: RolloutSeams = { runCase: runRolloutCase, figuresOf: (runs) => [...overheadFigures(runs), ...peerFigures(runs)] }): Promise<Figure[]> {
  const asked = context.selected.has('rollout');
  const figures: Figure[] = [];
  for (const c of asked ? rolloutCases(context.bench.quick) : [TEMPLATE_CASE]) {
    const run = await guard(`rollout.overhead.${caseLabel(c)}`, context.timeoutMs, () => seams.runCase(c, context.bench.log));
    if (!run.ok) figures.push(run.failed);
    else {
      context.runs.push(run.value);
      if (asked) figures.push(...seams.figuresOf([run.value]));
    }
  }
  return figures;
}

/** Options of `runBenchmarks`. */
export interface RunOptions {
  readonly quick: boolean;
  /** @default every benchmark */
  readonly only?: readonly BenchmarkName[];
  /** Progress lines. @default silent */
  readonly log?: (line: string) => void;
  /** Limit of each group, and of each rollout case. @default DEFAULT_TIMEOUT_SECONDS */
  readonly timeoutSeconds?: number;
  /** The groups to run (tests). @default GROUPS */
  readonly groups?: readonly BenchGroup[];
}

/** What `npm run bench` writes to bench/results.json. */
export interface BenchResults {
  readonly quick: boolean;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly machine: { readonly cpus: number; readonly memoryGiB: number; readonly node: string; readonly platform: string };
  /** Every figure in the order measured, the failed ones among them (`failed: true`, `cause`). */
  readonly figures: readonly Figure[];
  /** The failed figures in short: the run went on without their values (issue 16: a bench that cannot crash). */
  readonly failures: readonly BenchFailure[];
}

/** A figure (a group, or a case of the rollout group) that failed, with its cause. */
export interface BenchFailure {
  /** The failed figure's name: a group's (`cost`) or a rollout case's (`rollout.overhead.3+3.boot1s`). */
  readonly benchmark: string;
  readonly cause: string;
}

/**
 * Runs one group: a throw, or a run past the limit, becomes one failed figure named after the group, so that the
 * groups after it still run. A group that needs the rollouts fails at once, saying why, when none succeeded.
 */
export function runGroup(group: BenchGroup, context: GroupContext): Promise<readonly Figure[]> {
  return guardFigures(group.name, group.limitsItsCases ? undefined : context.timeoutMs, async () => {
    if (group.needsRollouts && context.runs.length === 0) throw new Error('no rollout run to compute from (see the failed rollout figures)');
    return group.run(context);
  });
}

/** Runs the benchmarks in-process and returns every figure (the CLI prints and stores them). */
export async function runBenchmarks(options: RunOptions): Promise<BenchResults> {
  const groups: readonly BenchGroup[] = options.groups ?? GROUPS;
  const selected = new Set<string>(options.only ?? groups.map((g) => g.name));
  const log = options.log ?? (() => undefined);
  const context: GroupContext = { bench: { quick: options.quick, log }, selected, timeoutMs: (options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000, runs: [] };
  // Figures 2, 4 and 6 need a rollout (its counts, event logs, converged cluster).
  const rolloutsNeeded = groups.some((g) => g.needsRollouts && selected.has(g.name));
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const figures: Figure[] = [];
  for (const group of groups) {
    if (!selected.has(group.name) && !(group.name === 'rollout' && rolloutsNeeded)) continue;
    log(group.name);
    figures.push(...(await runGroup(group, context)));
  }
  return {
    quick: options.quick,
    startedAt,
    durationSeconds: Math.round((performance.now() - t0) / 100) / 10,
    machine: { cpus: availableParallelism(), memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform },
    figures,
    failures: figures.filter(isFailed).map((f) => ({ benchmark: f.name, cause: f.cause })),
  };
}

/** Parses `--quick`, `--only a,b`, `--out path`, `--timeout-seconds n`. */
export function parseArgs(argv: readonly string[]): { quick: boolean; only?: BenchmarkName[]; out?: string; timeoutSeconds?: number } {
  const quick = argv.includes('--quick');
  const at = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const onlyRaw = at('--only');
  const only = onlyRaw?.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of only ?? []) {
    if (!(BENCHMARKS as readonly string[]).includes(name)) throw new Error(`--only: unknown benchmark ${JSON.stringify(name)}; known: ${BENCHMARKS.join(', ')}`);
  }
  const out = at('--out');
  const timeoutRaw = at('--timeout-seconds');
  const timeoutSeconds = timeoutRaw === undefined ? undefined : Number(timeoutRaw);
  if (timeoutSeconds !== undefined && !(timeoutSeconds > 0)) throw new Error(`--timeout-seconds: must be a positive number of seconds, got ${JSON.stringify(timeoutRaw)}`);
  return { quick, ...(only ? { only: only as BenchmarkName[] } : {}), ...(out ? { out } : {}), ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}) };
}

/** The line `npm run bench` prints for a figure: `formatFigure`'s, or `name: FAILED (cause)`. */
export function resultLine(f: Figure): string {
  return isFailed(f) ? `${f.name}: FAILED (${f.cause})` : formatFigure(f);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // A rejection nobody handled (a bug in some benchmark) must not end the run either: it fails the run at the end.
  const unhandled: unknown[] = [];
  process.on('unhandledRejection', (reason) => {
    unhandled.push(reason);
    process.stderr.write(`bench: unhandled rejection: ${causeOf(reason)}\n`);
  });
  const measured = await runBenchmarks({
    quick: args.quick,
    ...(args.only ? { only: args.only } : {}),
    ...(args.timeoutSeconds !== undefined ? { timeoutSeconds: args.timeoutSeconds } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const stray = unhandled.length ? [failedFigure('bench.unhandledRejection', unhandled.length === 1 ? unhandled[0] : new AggregateError(unhandled, `${unhandled.length} unhandled rejections`))] : [];
  const results: BenchResults = { ...measured, figures: [...measured.figures, ...stray], failures: [...measured.failures, ...stray.map((f) => ({ benchmark: f.name, cause: f.cause }))] };
  for (const f of results.figures) process.stdout.write(`${resultLine(f)}\n`);
  // --quick writes nowhere unless asked: the committed results come from a full run.
  const out = args.out ?? (args.quick ? undefined : fileURLToPath(new URL('./results.json', import.meta.url)));
  if (out) writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stderr.write(`bench: ${results.figures.length - results.failures.length} figures, ${results.failures.length} failed in ${results.durationSeconds} s${out ? `, written to ${out}` : ''}\n`);
  // Work of a figure that timed out may still run: with a failure, stop its stacks and exit rather than wait on it.
  if (results.failures.length > 0) {
    await closeLocalStacks();
    process.exit(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
