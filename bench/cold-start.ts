/**
 * Lambda cold starts (issue 16): the size of every catalog function's bundle and its init time, the time Node.js takes
 * from `import()` of the bundle to its `handler` export being there (read, parse, evaluate). What a Lambda cold start
 * adds to the runtime's own start-up, without the first invocation's work.
 *
 *  - bundles: built the way `NodejsFunction` builds them from source (functionBundleOptions of infra/build-package.ts:
 *    the construct's own esbuild options and build-time constants), each into its own temporary directory;
 *  - init: each bundle loaded in a fresh `node` with the construct's `--enable-source-maps`, sampled in turns (one of
 *    each function per round) so that load on a shared machine falls on all of them; the median is the figure;
 *  - before: the first function built with the providers forced in, i.e. every bundle before issue 16, as a baseline.
 *
 * Its own module: it needs esbuild and child processes, the other benchmarks the local stack.
 *
 * Note: no request can leave the machine. The child gets the loopback guard (infra/local/network-guard.ts, bundled
 * into the temporary directory and loaded with `--import`), no CAPSTAN_ENABLE_AWS (a bundle refuses to build AWS
 * clients), dummy credentials, a region and no instance metadata service; loading a bundle makes no request anyway.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { API_FUNCTIONS, PHASE_FUNCTIONS, TRIGGERED_FUNCTIONS } from '../infra/catalog/functions.js';
import { figure, median, type BenchOptions, type Figure } from './lib/figure.js';

/** How a function is invoked: behind an API route, as a workflow phase, or by EventBridge. */
export type FunctionKind = 'api' | 'phase' | 'triggered';

/** The bounds of one class of function: bundle size and init time. */
export interface ColdStartTarget {
  readonly maxKB: number;
  readonly maxInitMs: number;
  /** Why this bound, for the figure's label. */
  readonly label: string;
}

/**
 * Targets. API handlers answer a caller: < 500 KB and < 150 ms (issue 16). The other functions without providers hold
 * the same clients (store, workflow, secret) and less handler code, so the same bound holds for them. The functions
 * that call a provider carry the EC2, ELB, STS and Kubernetes clients they use, and run only in the workflow (phase
 * timeouts 100–840 s) and the sweep (every 5 min): a cold start is paid once per container and is small beside the
 * AWS calls of one step. Their bounds: no growth (≤ 6.5 MB; every bundle had 6.3–6.4 MB before issue 16), and an
 * init of ≤ 1.5 s, 1.5 % of the shortest phase timeout (Lambda's own init limit is 10 s).
 */
export const COLD_START_TARGETS = {
  api: { maxKB: 500, maxInitMs: 150, label: 'API target' },
  noProvider: { maxKB: 500, maxInitMs: 150, label: 'target without providers' },
  provider: { maxKB: 6_500, maxInitMs: 1_500, label: 'target with providers' },
} as const satisfies Record<string, ColdStartTarget>;

/** Options of {@link runColdStartBench}. */
export interface ColdStartOptions extends BenchOptions {
  /** Loads of each bundle. @default 3 with `quick`, else 10 */
  readonly runs?: number;
}

/** One function to measure. */
interface Subject {
  readonly id: string;
  readonly entry: string;
  readonly kind: FunctionKind;
  readonly providers: boolean;
  /** The built bundle (`index.mjs`). */
  file: string;
}

/** The child's script: time the import of the bundle given as argument; fail unless it exports `handler`. */
const LOAD_SCRIPT = `const t0 = performance.now();
const c0 = process.cpuUsage();
const m = await import(process.argv[1]);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(c0);
if (typeof m.handler !== 'function') { console.error('no handler export'); process.exit(3); }
process.stdout.write(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000 }));`;

/** One load: wall time to the `handler` export, and the CPU time the process spent meanwhile (all its threads). */
interface Load {
  readonly ms: number;
  readonly cpuMs: number;
}

/** Loads `file` once in a fresh node. */
function loadOnce(file: string, guard: string, home: string): Load {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDCOLDSTART',
    AWS_SECRET_ACCESS_KEY: 'cold-start-bench',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const args = ['--enable-source-maps', '--import', pathToFileURL(guard).href, '--input-type=module', '-e', LOAD_SCRIPT, pathToFileURL(file).href];
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', env });
  if (result.status !== 0) throw new Error(`loading ${file}: exit ${result.status}, stderr ${result.stderr.slice(-2000)}`);
  return JSON.parse(result.stdout) as Load;
}

/** Every catalog function with its kind, or (quick) the first of each kind. */
function subjects(quick: boolean): Subject[] {
  const kinds: [FunctionKind, readonly { id: string; entry: string; callsProvider: boolean }[]][] = [
    ['api', API_FUNCTIONS],
    ['phase', PHASE_FUNCTIONS],
    ['triggered', TRIGGERED_FUNCTIONS],
  ];
  return kinds.flatMap(([kind, list]) => (quick ? list.slice(0, 1) : list).map((f) => ({ id: f.id, entry: f.entry, kind, providers: f.callsProvider, file: '' })));
}

function targetOf(s: Pick<Subject, 'kind' | 'providers'>): ColdStartTarget {
  return s.providers ? COLD_START_TARGETS.provider : s.kind === 'api' ? COLD_START_TARGETS.api : COLD_START_TARGETS.noProvider;
}

/**
 * Runs the cold-start benchmark: per function `cold.size.<id>` (KB, 1,000 bytes) and `cold.init.<id>` (ms, median),
 * each against its target; then `cold.size.before` and `cold.init.before`, the first function with the providers
 * forced in, against its bundle of today. `--quick`: the first function of each kind, 3 runs.
 */
export async function runColdStartBench(options: ColdStartOptions): Promise<Figure[]> {
  const log = options.log ?? (() => undefined);
  const runs = options.runs ?? (options.quick ? 3 : 10);
  const dir = mkdtempSync(join(tmpdir(), 'capstan-cold-start-'));
  try {
    // Loaded here, not at the top: esbuild and the build's options, which the other benchmarks do not need.
    const [{ build }, { functionBundleOptions, functionEsbuildOptions }, { REPOSITORY_ROOT }] = await Promise.all([
      import('esbuild'),
      import('../infra/build-package.js'),
      import('../infra/constructs/capstan-function.js'),
    ]);
    const list = subjects(options.quick);
    const first = list[0]!;
    const before: Subject = { ...first, id: `${first.id}.withProviders`, providers: true };
    const guard = join(dir, 'guard.mjs');
    log(`cold: bundling ${list.length + 1} functions`);
    await Promise.all([
      build({
        stdin: { contents: "import { installLoopbackGuard } from './infra/local/network-guard.ts'; installLoopbackGuard();", resolveDir: REPOSITORY_ROOT, loader: 'ts' },
        bundle: true,
        platform: 'node',
        format: 'esm',
        outfile: guard,
        logLevel: 'warning',
      }),
      ...list.map((s) => build(functionBundleOptions(s.entry, join(dir, s.id))).then(() => (s.file = join(dir, s.id, 'index.mjs')))),
      build({ ...functionEsbuildOptions(true), entryPoints: [join(REPOSITORY_ROOT, before.entry)], outfile: join(dir, before.id, 'index.mjs') }).then(() => (before.file = join(dir, before.id, 'index.mjs'))),
    ]);

    const all = [...list, before];
    const samples = new Map<Subject, Load[]>(all.map((s) => [s, []]));
    // One unmeasured load of each: the first reads the file from disk.
    for (const s of all) loadOnce(s.file, guard, dir);
    for (let round = 0; round < runs; round++) {
      log(`cold: round ${round + 1} of ${runs}`);
      for (const s of all) samples.get(s)!.push(loadOnce(s.file, guard, dir));
    }

    const kb = (s: Subject) => round(statSync(s.file).size / 1000);
    const ms = (s: Subject) => samples.get(s)!.map((l) => l.ms);
    const initMs = (s: Subject) => round(median(ms(s)));
    const detail = (s: Subject) => ({
      kind: s.kind,
      entry: s.entry,
      providers: s.providers,
      bytes: statSync(s.file).size,
      runs,
      initMinMs: round(Math.min(...ms(s))),
      initCpuMs: round(median(samples.get(s)!.map((l) => l.cpuMs))),
    });
    const figures = list.flatMap((s) => {
      const t = targetOf(s);
      return [figure(`cold.size.${s.id}`, kb(s), 'KB', t.maxKB, 'max', t.label, detail(s)), figure(`cold.init.${s.id}`, initMs(s), 'ms', t.maxInitMs, 'max', t.label, detail(s))];
    });
    const label = `${first.id} without providers`;
    figures.push(
      figure('cold.size.before', kb(before), 'KB', kb(first), 'baseline', label, detail(before)),
      figure('cold.init.before', initMs(before), 'ms', initMs(first), 'baseline', label, detail(before)),
    );
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
