/**
 * `npm run build` (and `npm pack`, through `prepack`): builds the package's `dist/` —
 * 1. the library as JavaScript with `.d.ts`, and the CLI's `.d.ts` (tsc with tsconfig.build.json);
 * 2. the workflow definitions the construct deploys (`dist/infra/workflows/*.asl.json`);
 * 3. every Lambda handler prebundled (`dist/lambda/<entry>/index.mjs`), so that a CDK app installing the package
 *    needs neither our sources nor our lockfile nor esbuild;
 * 4. the CLI as one esbuild bundle, `dist/cli/main.js` (in place of tsc's files): it loads in about 60 ms where tsc's
 *    output, resolving and loading its modules one by one, took 270–350 ms (docs/performance.md §7), and an
 *    installed CLI needs no dependencies.
 *
 * Note: step 3 bundles the handlers with code splitting into one directory, so the AWS SDK clients most handlers
 * share are there once (16 MB instead of 19 bundles of 14 MB each): two esbuild runs, the functions that call a
 * provider and those that do not (the catalog's `callsProvider`), since only the first may bundle providers/aws-ec2/.
 * The options are {@link CAPSTAN_BUNDLING}, the ones `NodejsFunction` applies when the repository bundles from source,
 * translated to esbuild's API as aws-lambda-nodejs/lib/bundling.ts (aws-cdk-lib) translates them to esbuild's command
 * line, with the same build-time constants per function.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { CAPSTAN_BUNDLING, ESM_REQUIRE_BANNER, PREBUNDLED_DIR, REPOSITORY_ROOT, bundleDefines, bundlesProviders, prebundledModule } from './constructs/capstan-function.js';
import { CATALOG_FUNCTIONS } from './catalog/index.js';

const DIST = path.join(REPOSITORY_ROOT, 'dist');

/** Every handler entry the control plane deploys (infra/catalog/). */
export function functionEntries(): string[] {
  return [...new Set(CATALOG_FUNCTIONS.map((f) => f.entry))].sort();
}

/**
 * {@link CAPSTAN_BUNDLING} in esbuild's API, with the build-time constants of a bundle with or without the providers
 * (see bundleDefines): what `NodejsFunction` passes on esbuild's command line.
 */
export function functionEsbuildOptions(providers: boolean): BuildOptions {
  const b = CAPSTAN_BUNDLING;
  return {
    absWorkingDir: REPOSITORY_ROOT,
    bundle: true,
    platform: 'node',
    format: b.format,
    target: b.target,
    mainFields: [...b.mainFields],
    banner: { js: b.banner },
    minify: b.minify,
    keepNames: b.keepNames,
    sourcemap: b.sourceMap,
    sourcesContent: b.sourcesContent,
    // bundleAwsSDK: true means no externals at all.
    external: [],
    define: { ...bundleDefines(providers) },
    logLevel: 'warning',
  };
}

/**
 * One function's bundle as `NodejsFunction` makes it from source (functionBundling): `outDir/index.mjs` and its map.
 * The bench (bench/cold-start.ts) and the bundle tests build with it.
 */
export function functionBundleOptions(entry: string, outDir: string): BuildOptions {
  return { ...functionEsbuildOptions(bundlesProviders(entry)), entryPoints: [path.join(REPOSITORY_ROOT, entry)], outfile: path.join(outDir, 'index.mjs') };
}

/**
 * The esbuild options for the prebundle of `entries` that all hold the providers, or all not: {@link CAPSTAN_BUNDLING}
 * with that build-time constant, plus code splitting into `outDir`.
 */
export function prebundleOptions(entries: readonly string[], outDir: string, providers: boolean): BuildOptions {
  return {
    ...functionEsbuildOptions(providers),
    entryPoints: Object.fromEntries(entries.map((entry) => [prebundledModule(entry), path.join(REPOSITORY_ROOT, entry)])),
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    splitting: true,
  };
}

/**
 * The esbuild runs of the prebundle: one per value of the providers constant (a `define` holds for a whole run), both
 * into `outDir`. Chunk names carry a hash of their content, so the runs' chunks never overwrite one another.
 */
export function prebundleRuns(entries: readonly string[], outDir: string): BuildOptions[] {
  return [true, false]
    .map((providers) => ({ providers, group: entries.filter((entry) => bundlesProviders(entry) === providers) }))
    .filter(({ group }) => group.length > 0)
    .map(({ providers, group }) => prebundleOptions(group, outDir, providers));
}

/** Bundles every handler into `outDir`; returns the entries. */
export async function prebundleFunctions(outDir: string): Promise<string[]> {
  const entries = functionEntries();
  rmSync(outDir, { recursive: true, force: true });
  await Promise.all(prebundleRuns(entries, outDir).map((options) => build(options)));
  return entries;
}

/**
 * The esbuild options of the CLI bundle: cli/main.ts with everything it imports (commander, yaml, the domain's
 * Cluster API importer) in `outDir/main.js`; what it imports only when signing with SigV4 (the AWS SDK's credential
 * chain and signer) in `outDir/chunks/`, loaded on first use.
 */
export function cliBundleOptions(outDir: string): BuildOptions {
  return {
    entryPoints: { main: path.join(REPOSITORY_ROOT, 'cli', 'main.ts') },
    absWorkingDir: REPOSITORY_ROOT,
    outdir: outDir,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    minify: true,
    // Error names are what reportError and tests match on.
    keepNames: true,
    external: [],
    logLevel: 'warning',
  };
}

/**
 * Bundles the CLI into `outDir` (see {@link cliBundleOptions}), first removing the JavaScript tsc emitted there: the
 * bundle replaces it, the `.d.ts` files stay (the `capstan/cli` export's types).
 */
export async function bundleCli(outDir: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  for (const file of readdirSync(outDir, { recursive: true, encoding: 'utf8' })) {
    if (file.endsWith('.js')) rmSync(path.join(outDir, file));
  }
  rmSync(path.join(outDir, 'chunks'), { recursive: true, force: true });
  await build(cliBundleOptions(outDir));
}

async function main(): Promise<void> {
  const t0 = performance.now();
  rmSync(DIST, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(REPOSITORY_ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  const workflows = path.join(REPOSITORY_ROOT, 'infra', 'workflows');
  mkdirSync(path.join(DIST, 'infra', 'workflows'), { recursive: true });
  for (const file of readdirSync(workflows).filter((f) => f.endsWith('.asl.json'))) cpSync(path.join(workflows, file), path.join(DIST, 'infra', 'workflows', file));
  const entries = await prebundleFunctions(path.join(DIST, PREBUNDLED_DIR));
  await bundleCli(path.join(DIST, 'cli'));
  process.stderr.write(`build: dist/ with ${entries.length} prebundled functions and the CLI bundle in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
