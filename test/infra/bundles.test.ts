/**
 * What each function's bundle holds (issue 16, cold starts), read from real esbuild output: the bundles of functions
 * the catalog says call no provider leave providers/aws-ec2/ and the EC2 client out, those that call one hold them,
 * the bundling from source (NodejsFunction) and the prebundle give a function the same build-time constants, and a
 * bundle without providers fails clearly when one is used.
 *
 * Its own file: it runs esbuild (a few seconds), the other infra tests only synthesise.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { functionBundleOptions, functionEntries, functionEsbuildOptions, prebundleRuns } from '../../infra/build-package.js';
import { CATALOG_FUNCTIONS } from '../../infra/catalog/index.js';
import { PROVIDERS_BUNDLED_DEFINE, REPOSITORY_ROOT, bundlesProviders, functionBundling } from '../../infra/constructs/capstan-function.js';

/**
 * The source files and packages one entry's bundle is made of (metafile inputs), built with the real options, kept in
 * memory, without the source map (which changes no input and doubles the time).
 */
async function bundleInputs(entry: string): Promise<string[]> {
  const result = await build({ ...functionBundleOptions(entry, path.join(tmpdir(), 'capstan-bundles-unused')), write: false, metafile: true, sourcemap: false });
  return Object.keys((result.metafile as Metafile).inputs);
}

const isProviderCode = (input: string) => input.startsWith('providers/aws-ec2/') || input.includes('node_modules/@aws-sdk/client-ec2/');

describe('function bundles', () => {
  let inputs: Record<string, string[]>;
  const entries = ['functions/api/clusters.ts', 'functions/phases/plan.ts', 'functions/phases/create-machine.ts'];

  beforeAll(async () => {
    inputs = Object.fromEntries(await Promise.all(entries.map(async (entry) => [entry, await bundleInputs(entry)] as const)));
  }, 120_000);

  it('leaves providers/aws-ec2/ and @aws-sdk/client-ec2 out of an API handler', () => {
    const api = inputs['functions/api/clusters.ts']!;

    expect(api).toContain('functions/adapters/aws-deps.ts');
    expect(api.filter(isProviderCode)).toEqual([]);
  });

  it.each(['functions/phases/plan.ts', 'functions/phases/create-machine.ts'])('holds the EC2 provider and its client in %s', (entry) => {
    const held = inputs[entry]!;

    expect(held).toContain('providers/aws-ec2/ec2-provider.ts');
    expect(held.some((input) => input.includes('node_modules/@aws-sdk/client-ec2/'))).toBe(true);
  });
});

describe('bundlesProviders', () => {
  it('follows the catalog, and bundles the providers for an entry the catalog does not list', () => {
    for (const f of CATALOG_FUNCTIONS) expect(bundlesProviders(f.entry)).toBe(f.callsProvider);
    expect(bundlesProviders('functions/elsewhere/custom.ts')).toBe(true);
  });
});

describe('the two ways to a bundle', () => {
  it('give every function the same build-time constants: NodejsFunction from source and the prebundle', () => {
    // Prepare: which prebundle run builds each entry, with which constants.
    const prebundled = new Map<string, unknown>();
    for (const run of prebundleRuns(functionEntries(), '/unused')) {
      for (const file of Object.values(run.entryPoints as Record<string, string>)) prebundled.set(path.relative(REPOSITORY_ROOT, file), run.define);
    }

    // Assess
    expect([...prebundled.keys()].sort()).toEqual(functionEntries());
    for (const entry of functionEntries()) {
      expect({ entry, define: prebundled.get(entry) }).toEqual({ entry, define: functionBundling(entry).define });
      expect(functionBundling(entry).define).toEqual({ [PROVIDERS_BUNDLED_DEFINE]: String(bundlesProviders(entry)) });
    }
  });
});

describe('a bundle without providers', () => {
  let dir: string;

  beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'capstan-bundles-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails with ProviderDisabledError naming why when a provider is used, and still knows aws exists', async () => {
    // Prepare: functions/adapters/aws-deps.ts bundled as a function without providers is.
    const file = path.join(dir, 'aws-deps.mjs');
    await build({ ...functionEsbuildOptions(false), entryPoints: [path.join(REPOSITORY_ROOT, 'functions/adapters/aws-deps.ts')], outfile: file, sourcemap: false });
    const script = `const { buildAwsDeps } = await import(${JSON.stringify(pathToFileURL(file).href)});
      const deps = await buildAwsDeps({ CAPSTAN_ENABLE_AWS: '1', TABLE_NAME: 'capstan' });
      const aws = deps.providers.get('aws');
      try { await aws.listMachines({ provider: 'aws', account: '111111111111', region: 'us-east-1' }); console.log(JSON.stringify({ listed: true })); }
      catch (error) { console.log(JSON.stringify({ name: aws.name, error: error.name, message: error.message })); }`;

    // Act: in a child without network use (clients are built, never called) and without real credentials.
    const env = { PATH: process.env.PATH ?? '', HOME: dir, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDBUNDLETEST', AWS_SECRET_ACCESS_KEY: 'bundle-test', AWS_EC2_METADATA_DISABLED: 'true' };
    const ran = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env });

    // Assess
    expect({ status: ran.status, stderr: ran.stderr }).toEqual({ status: 0, stderr: '' });
    const outcome = JSON.parse(ran.stdout) as { name: string; error: string; message: string };
    expect(outcome).toEqual({ name: 'aws', error: 'ProviderDisabledError', message: expect.stringContaining("provider 'aws' is not in this function's bundle") });
    expect(outcome.message).toContain('callsProvider: false');
  }, 30_000);
});
