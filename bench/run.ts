/**
 * `npm run bench`: runs every benchmark, prints one line per figure (`name: value unit (bound, ratio)`) and writes
 * bench/results.json. `--quick` runs each at a small size (the test suite uses it to check that every benchmark
 * still works; it checks the output's shape, never a speed). `--only rollout,api` runs a subset.
 *
 * Order: the rollouts first (figure 1); figures 2 and 6 are computed from their counts and event logs, figure 4
 * and the idle cost use their converged cluster as the template of the simulated fleet.
 */
import '../infra/local/quiet-warnings.js';
import { writeFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runApiBench } from './api.js';
import { runCliStartupBench } from './cli-startup.js';
import { runCostBench } from './cost.js';
import { historyFigures } from './history.js';
import { runLatencyBench } from './latency.js';
import { formatFigure, type Figure } from './lib/figure.js';
import { overheadFigures, runRolloutCase, runRollouts } from './rollout.js';
import { runSweepBench } from './sweep-bench.js';

/** The benchmark groups, in the order they run. */
export const BENCHMARKS = ['rollout', 'cost', 'latency', 'sweep', 'api', 'history', 'cli'] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];

/** Options of `runBenchmarks`. */
export interface RunOptions {
  readonly quick: boolean;
  /** @default every benchmark */
  readonly only?: readonly BenchmarkName[];
  /** Progress lines. @default silent */
  readonly log?: (line: string) => void;
}

/** What `npm run bench` writes to bench/results.json. */
export interface BenchResults {
  readonly quick: boolean;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly machine: { readonly cpus: number; readonly memoryGiB: number; readonly node: string; readonly platform: string };
  readonly figures: readonly Figure[];
  /** Benchmarks that threw: the run went on without their figures (issue 16: a bench that cannot crash). */
  readonly failures: readonly BenchFailure[];
}

/** A benchmark group that failed, with its cause. */
export interface BenchFailure {
  readonly benchmark: string;
  readonly cause: string;
}

/**
 * Runs one benchmark group; a group that throws is recorded in `failures` with its cause and yields no figures,
 * so the groups after it still run.
 */
export async function runGroup(name: string, failures: BenchFailure[], fn: () => Promise<readonly Figure[]>): Promise<readonly Figure[]> {
  try {
    return await fn();
  } catch (error) {
    failures.push({ benchmark: name, cause: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    return [];
  }
}

/** Runs the benchmarks in-process and returns every figure (the CLI prints and stores them). */
export async function runBenchmarks(options: RunOptions): Promise<BenchResults> {
  const only = new Set<BenchmarkName>(options.only ?? BENCHMARKS);
  const log = options.log ?? (() => undefined);
  const bench = { quick: options.quick, log };
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const figures: Figure[] = [];
  const failures: BenchFailure[] = [];
  const group = async (name: BenchmarkName, fn: () => Promise<readonly Figure[]>) => {
    if (!only.has(name)) return;
    log(name);
    figures.push(...(await runGroup(name, failures, fn)));
  };
  // Figures 2, 4 and 6 need a rollout (its counts, event logs, converged cluster).
  const needsRollout = ['rollout', 'cost', 'history', 'sweep'].some((b) => only.has(b as BenchmarkName));
  // Without figure 1, one small upgrade (3+3, fast boots) supplies the counts, event logs and template.
  let runs: Awaited<ReturnType<typeof runRollouts>> = [];
  if (needsRollout) {
    const rolloutFigures = await runGroup('rollout', failures, async () => {
      runs = only.has('rollout') ? (log('rollout'), await runRollouts(bench)) : [await runRolloutCase({ controlPlane: 3, workers: 3, maxSurge: 1, bootMs: 200, drainMsPerPod: 20 }, log)];
      return only.has('rollout') ? overheadFigures(runs) : [];
    });
    figures.push(...rolloutFigures);
  }
  const needRuns = () => {
    if (runs.length === 0) throw new Error('no rollout run to compute from (see the rollout failure)');
  };
  await group('cost', async () => (needRuns(), runCostBench(runs, bench)));
  await group('latency', () => runLatencyBench(bench));
  await group('sweep', async () => {
    needRuns();
    // The fleet's clusters are copies of a converged cluster with (at most) 6 machines, 3+3 in the full run.
    const template = runs.find((r) => r.case.controlPlane === 3 && r.case.workers === 3) ?? runs[0]!;
    return (await runSweepBench(template.cluster, template.machines.slice(0, 6), bench)).figures;
  });
  await group('api', () => runApiBench(bench));
  await group('history', async () => (needRuns(), historyFigures(runs)));
  await group('cli', () => runCliStartupBench(bench));
  return {
    quick: options.quick,
    startedAt,
    durationSeconds: Math.round((performance.now() - t0) / 100) / 10,
    machine: { cpus: availableParallelism(), memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform },
    figures,
    failures,
  };
}

/** Parses `--quick`, `--only a,b`, `--out path`. */
export function parseArgs(argv: readonly string[]): { quick: boolean; only?: BenchmarkName[]; out?: string } {
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
  return { quick, ...(only ? { only: only as BenchmarkName[] } : {}), ...(out ? { out } : {}) };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const results = await runBenchmarks({ quick: args.quick, ...(args.only ? { only: args.only } : {}), log: (line) => process.stderr.write(`${line}\n`) });
  for (const f of results.figures) process.stdout.write(`${formatFigure(f)}\n`);
  // --quick writes nowhere unless asked: the committed results come from a full run.
  const out = args.out ?? (args.quick ? undefined : fileURLToPath(new URL('./results.json', import.meta.url)));
  if (out) writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  for (const f of results.failures) process.stdout.write(`${f.benchmark}: FAILED (${f.cause})\n`);
  process.stderr.write(`bench: ${results.figures.length} figures, ${results.failures.length} failed benchmarks in ${results.durationSeconds} s${out ? `, written to ${out}` : ''}\n`);
  if (results.failures.length > 0) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
