/**
 * The CLI's start-up: wall time of `capstan --version`, as the package ships it and, for comparison, from a checkout.
 *
 *  - built: `bin/capstan.js` in the layout of an installed package (package.json, bin/, the CLI bundle in dist/cli/,
 *    no sources), so it runs the esbuild bundle exactly as `npm i -g capstan-<version>.tgz` does. The bundle is made
 *    by the build's own `bundleCli` into a temporary directory (never the repository's dist/: a test may be packing);
 *  - source: the repository's `bin/capstan.js`, which runs cli/main.ts through tsx (`npm run -s capstan`);
 *  - bare node (`node -e 0`), in the detail: the floor every command pays, and what makes absolute times on a loaded
 *    machine move.
 *
 * The three are sampled in turns (one of each per round), so that load on a shared machine falls on all of them.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { figure, median, type BenchOptions, type Figure } from './lib/figure.js';

/** Target of the built CLI's start-up (issue: "start-up < 300 ms"). */
export const CLI_STARTUP_TARGET_MS = 300;

const REPOSITORY = fileURLToPath(new URL('../', import.meta.url));

/** Runs `node ...args` once and returns its wall time; throws unless it exits 0 printing `expected`. */
function timeRun(args: readonly string[], expected: string): number {
  const t0 = performance.now();
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: tmpdir() } });
  const ms = performance.now() - t0;
  if (result.status !== 0 || result.stdout !== expected) {
    throw new Error(`node ${args.join(' ')}: exit ${result.status}, stdout ${JSON.stringify(result.stdout)}, stderr ${JSON.stringify(result.stderr)}`);
  }
  return ms;
}

/** Runs the CLI start-up benchmark: 3 rounds with `--quick`, else 15. */
export async function runCliStartupBench(options: BenchOptions): Promise<Figure[]> {
  const rounds = options.quick ? 3 : 15;
  const manifest = JSON.parse(readFileSync(join(REPOSITORY, 'package.json'), 'utf8')) as { name: string; version: string; type: string };
  const dir = mkdtempSync(join(tmpdir(), 'capstan-cli-bench-'));
  try {
    // Loaded here, not at the top: it imports esbuild and the CDK constructs, which the other benchmarks do not need.
    const { bundleCli } = await import('../infra/build-package.js');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: manifest.name, version: manifest.version, type: manifest.type }));
    mkdirSync(join(dir, 'bin'));
    copyFileSync(join(REPOSITORY, 'bin', 'capstan.js'), join(dir, 'bin', 'capstan.js'));
    await bundleCli(join(dir, 'dist', 'cli'));

    const expected = `${manifest.version}\n`;
    const built = join(dir, 'bin', 'capstan.js');
    const source = join(REPOSITORY, 'bin', 'capstan.js');
    // One unmeasured run of each: the first start reads the files from disk.
    timeRun([built, '--version'], expected);
    timeRun([source, '--version'], expected);
    const samples = { built: [] as number[], source: [] as number[], bare: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      samples.bare.push(timeRun(['-e', '0'], ''));
      samples.built.push(timeRun([built, '--version'], expected));
      samples.source.push(timeRun([source, '--version'], expected));
    }
    const builtMs = median(samples.built);
    const detail = { rounds, bareNodeMs: round(median(samples.bare)), builtMinMs: round(Math.min(...samples.built)), sourceMinMs: round(Math.min(...samples.source)) };
    return [
      figure('cli.startup.built', round(builtMs), 'ms', CLI_STARTUP_TARGET_MS, 'max', 'target', detail),
      figure('cli.startup.source', round(median(samples.source)), 'ms', round(builtMs), 'baseline', 'built CLI', detail),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
