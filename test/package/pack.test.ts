/**
 * The package as another project gets it. `npm pack` (its `prepack` builds dist/) in a copy of the repository, then
 * the tarball installed two ways, each with npm from its cache and nothing of ours beside it:
 *  - into a scratch CDK app (aws-cdk-lib and constructs at our versions) whose `app.ts` instantiates
 *    CapstanControlPlane, synthesised offline with `node app.ts` and type-checked against the shipped `.d.ts`;
 *  - globally (`npm i -g`, into a scratch prefix) as the `capstan` command.
 *
 * Note: packed from a copy (sources only, node_modules linked) so that the build never writes dist/ into the working
 * tree, where a stale build could be picked up and where a parallel run would race on it. Start-up time is a bench
 * figure (bench/cli-startup.ts), not asserted here: this asserts that the installed command runs the built bundle.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { functionEntries } from '../../infra/build-package.js';
import { PREBUNDLED_DIR, prebundledModule } from '../../infra/constructs/capstan-function.js';

const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));
const MANIFEST = JSON.parse(readFileSync(join(REPOSITORY, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  devDependencies: Record<string, string>;
};
/** Top-level entries of the repository the copy leaves out: installed, generated or local state. */
const NOT_COPIED = new Set(['.git', 'node_modules', 'dist', 'cdk.out', '.capstan', 'coverage', 'scratch']);

/** What a child process did. */
interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * The environment of every child: ours without the variables `npm run` sets (`npm_config_local_prefix` would point
 * an inner npm at the repository instead of its working directory).
 */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== 'INIT_CWD'));
  return { ...env, ...extra };
}

/** Runs a command to completion without blocking the event loop (the fake API below answers meanwhile). */
function exec(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = childEnv()): Promise<Ran> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 }));
  });
}

/** `exec`, failing with the command's output unless it exits 0. */
async function execOk(command: string, args: readonly string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Ran> {
  const ran = await exec(command, args, cwd, env);
  if (ran.code !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${ran.code}\n--- stdout\n${ran.stdout.slice(-4000)}\n--- stderr\n${ran.stderr.slice(-4000)}`);
  return ran;
}

/** The npm that runs this suite (`npm run test:jest` says which), else the one on PATH. */
function npm(args: readonly string[], cwd: string): Promise<Ran> {
  const cli = process.env.npm_execpath;
  return cli && /\.c?js$/.test(cli) ? execOk(process.execPath, [cli, ...args], cwd) : execOk('npm', args, cwd);
}

const INSTALL_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

/** Every file under `dir`, relative to it, sorted. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** A consumer's CDK app, as docs/library.md shows it (run with `node app.ts`: Node 22 strips the types). */
const APP_TS = `import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import { CapstanControlPlane } from 'capstan';

const app = new App();
const stack = new Stack(app, 'Platform');
const controlPlane = new CapstanControlPlane(stack, 'Capstan', {
  adminPrincipals: ['arn:aws:iam::111111111111:role/platform-admin'],
  reconcilePeriod: Duration.minutes(10),
});
const url: string = controlPlane.apiUrl;
new CfnOutput(stack, 'CapstanApiUrl', { value: url });
app.synth();

/** Never called: proves the shipped .d.ts type the construct (with \`any\` types this directive would be unused). */
export function typesOnly(scope: Stack): void {
  // @ts-expect-error reconcilePeriod is a Duration, not a number
  new CapstanControlPlane(scope, 'Wrong', { reconcilePeriod: 10 });
}
`;

let work: string;
let tarball: string;
let packed: { filename: string; size: number; unpackedSize: number; files: { path: string }[] };
let app: string;
let globalPrefix: string;
const timings: Record<string, number> = {};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'capstan-pack-'));
  app = join(work, 'app');
  globalPrefix = join(work, 'global');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer-app', private: true, type: 'module' }));
  writeFileSync(join(app, 'app.ts'), APP_TS);
  const copy = join(work, 'source');
  cpSync(REPOSITORY, copy, { recursive: true, filter: (src) => !NOT_COPIED.has(relative(REPOSITORY, src).split('/')[0] ?? '') });
  symlinkSync(join(REPOSITORY, 'node_modules'), join(copy, 'node_modules'), 'dir');

  // The consumer's own CDK dependencies install while the package builds; then the tarball, as a consumer adds it.
  const [pack, cdk] = await Promise.all([
    npm(['pack', '--pack-destination', work, '--json', '--silent'], copy),
    npm(['install', ...INSTALL_FLAGS, `aws-cdk-lib@${MANIFEST.devDependencies['aws-cdk-lib']}`, `constructs@${MANIFEST.devDependencies.constructs}`], app),
  ]);
  packed = (JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as (typeof packed)[])[0]!;
  tarball = join(work, packed.filename);
  const [install, globalInstall] = await Promise.all([
    npm(['install', ...INSTALL_FLAGS, tarball], app),
    npm(['install', '--global', '--prefix', globalPrefix, ...INSTALL_FLAGS, tarball], work),
  ]);
  Object.assign(timings, { packMs: pack.ms, cdkInstallMs: cdk.ms, installMs: install.ms, globalInstallMs: globalInstall.ms });
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  process.stderr.write(`pack test timings: ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])))}, tarball ${packed?.size} bytes\n`);
});

describe('npm pack', () => {
  it('ships the built library with .d.ts, the CLI bundle, the workflow and every handler prebundled, and no TypeScript sources', () => {
    const paths = packed.files.map((f) => f.path);

    expect(paths).toEqual(expect.arrayContaining(['package.json', 'README.md', 'bin/capstan.js', 'dist/infra/index.js', 'dist/infra/index.d.ts', 'dist/infra/stacks/capstan-app.js', 'dist/cli/main.js', 'dist/cli/main.d.ts', 'dist/infra/workflows/rollout.asl.json']));
    for (const entry of functionEntries()) expect(paths).toContain(`dist/${PREBUNDLED_DIR}/${prebundledModule(entry)}.mjs`);
    expect(paths.filter((p) => /\.[cm]?ts$/.test(p) && !p.endsWith('.d.ts'))).toEqual([]);
  });

  it('declares no dependencies: aws-cdk-lib, constructs and cdk-nag are optional peers, everything else is bundled', () => {
    const shipped = JSON.parse(readFileSync(join(app, 'node_modules', 'capstan', 'package.json'), 'utf8')) as Record<string, unknown>;

    expect(shipped.dependencies).toBeUndefined();
    expect(Object.keys(shipped.peerDependencies as object).sort()).toEqual(['aws-cdk-lib', 'cdk-nag', 'constructs']);
    expect(Object.values(shipped.peerDependenciesMeta as object)).toEqual([{ optional: true }, { optional: true }, { optional: true }]);
  });
});

describe('the shipped .d.ts', () => {
  it('of every export import nothing but the peers and Node.js (a consumer type-checks without our dev dependencies)', () => {
    // Prepare: the export map's type entries, then every .d.ts they reach through relative imports.
    const root = join(app, 'node_modules', 'capstan');
    const exportsMap = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | { types: string }> }).exports;
    const queue = Object.values(exportsMap).flatMap((e) => (typeof e === 'string' ? [] : [join(root, e.types)]));
    const seen = new Set<string>();
    const bare = new Set<string>();

    // Act
    while (queue.length) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      const specs = [...text.matchAll(/^(?:import|export)\b[^'"]*?from ['"]([^'"]+)['"]/gm), ...text.matchAll(/\bimport\(['"]([^'"]+)['"]\)/g)].map((m) => m[1]!);
      for (const spec of specs) {
        if (spec.startsWith('.')) queue.push(join(file, '..', spec.replace(/\.js$/, '.d.ts')));
        else bare.add(spec);
      }
    }

    // Assess
    expect(seen.size).toBeGreaterThan(3);
    expect([...bare].filter((spec) => !/^(aws-cdk-lib(\/.*)?|constructs|cdk-nag|node:.*)$/.test(spec))).toEqual([]);
  });
});

describe('in another CDK app', () => {
  let synth: Ran;
  let typecheck: Ran;

  beforeAll(async () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(REPOSITORY, 'node_modules', '@types')] },
        files: ['app.ts'],
      }),
    );
    // No credentials, no CDK CLI, no network: `node app.ts` with CDK_OUTDIR where the CDK CLI would have it write.
    [synth, typecheck] = await Promise.all([
      exec(process.execPath, ['--disable-warning=ExperimentalWarning', 'app.ts'], app, childEnv({ CDK_OUTDIR: join(app, 'cdk.out') })),
      exec(process.execPath, [join(REPOSITORY, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], app),
    ]);
    Object.assign(timings, { synthMs: synth.ms, typecheckMs: typecheck.ms });
  }, 180_000);

  it('synthesises CapstanControlPlane offline, every function deploying the handlers prebundled in the package', () => {
    expect({ code: synth.code, stderr: synth.stderr }).toEqual({ code: 0, stderr: '' });

    // One asset, the package's dist/lambda, never bundled here (the app has no esbuild, and no lockfile of ours).
    const out = join(app, 'cdk.out');
    const template = JSON.parse(readFileSync(join(out, 'Platform.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };
    const assets = JSON.parse(readFileSync(join(out, 'Platform.assets.json'), 'utf8')) as { files: Record<string, { source: { path: string; packaging: string } }> };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    const handlers = functions.map((f) => f.Properties.Handler as string).sort();
    expect(handlers).toEqual(functionEntries().map((entry) => `${prebundledModule(entry)}.handler`).sort());
    expect(new Set(functions.map((f) => f.Properties.Runtime))).toEqual(new Set(['nodejs22.x']));
    const keys = [...new Set(functions.map((f) => f.Properties.Code.S3Key as string))];
    expect(keys).toHaveLength(1);
    const source = assets.files[keys[0]!.replace(/\.zip$/, '')]!.source;
    expect(source.packaging).toBe('zip');
    expect(filesUnder(join(out, source.path))).toEqual(filesUnder(join(app, 'node_modules', 'capstan', 'dist', PREBUNDLED_DIR)));
    expect(existsSync(join(app, 'node_modules', 'esbuild'))).toBe(false);
    expect(readdirSync(out).filter((f) => f.startsWith('bundling-temp-'))).toEqual([]);
  });

  it('type-checks against the shipped .d.ts', () => {
    expect({ code: typecheck.code, output: typecheck.stdout }).toEqual({ code: 0, output: '' });
  });

  it('loads every prebundled handler, each exporting `handler`', async () => {
    const script = `const root = new URL('./node_modules/capstan/dist/${PREBUNDLED_DIR}/', import.meta.url);
      const out = {};
      for (const m of ${JSON.stringify(functionEntries().map(prebundledModule))}) out[m] = typeof (await import(new URL(m + '.mjs', root))).handler;
      console.log(JSON.stringify(out));`;

    const ran = await execOk(process.execPath, ['--input-type=module', '-e', script], app);

    expect(Object.values(JSON.parse(ran.stdout) as Record<string, string>)).toEqual(functionEntries().map(() => 'function'));
  }, 60_000);

  it('can be required from a CommonJS app too (require of an ES module, Node.js 22.12+)', async () => {
    const ran = await execOk(process.execPath, ['-e', "console.log(typeof require('capstan').CapstanControlPlane)"], app);

    expect(ran.stdout).toBe('function\n');
  }, 60_000);
});

describe('the CLI installed with npm i -g', () => {
  const capstan = () => join(globalPrefix, 'bin', 'capstan');

  it('prints the package version with --version, running the built bundle (no sources, no dependencies installed)', async () => {
    const ran = await exec(capstan(), ['--version'], work);
    timings.versionMs = ran.ms;

    expect({ code: ran.code, stdout: ran.stdout, stderr: ran.stderr }).toEqual({ code: 0, stdout: `${MANIFEST.version}\n`, stderr: '' });
    const installed = join(globalPrefix, 'lib', 'node_modules', 'capstan');
    expect(existsSync(join(installed, 'cli'))).toBe(false);
    expect(existsSync(join(installed, 'node_modules'))).toBe(false);
    expect(readdirSync(join(globalPrefix, 'lib', 'node_modules'))).toEqual(['capstan']);
  });

  it('calls the API with SigV4 (the lazily loaded SDK chunks ship too) and writes only the JSON to stdout', async () => {
    // Prepare: a fake API on loopback that records what it gets.
    const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
    const server: Server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: [{ metadata: { name: 'web' } }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const config = join(work, 'capstan.yaml');
    writeFileSync(config, `endpoint: http://127.0.0.1:${(server.address() as AddressInfo).port}\nauth: sigv4\nregion: eu-west-1\n`);
    try {
      // Act
      const env = childEnv({ HOME: work, AWS_ACCESS_KEY_ID: 'AKIDPACKTEST', AWS_SECRET_ACCESS_KEY: 'pack-test-secret', AWS_EC2_METADATA_DISABLED: 'true' });
      for (const key of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_SESSION_TOKEN']) delete env[key];
      const ran = await exec(capstan(), ['get', 'clusters', '-o', 'json', '--config', config], work, env);

      // Assess
      expect({ code: ran.code, stderr: ran.stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(ran.stdout)).toEqual({ items: [{ metadata: { name: 'web' } }] });
      expect(seen.map((r) => r.url)).toEqual(['/v1/clusters?limit=100']);
      expect(seen[0]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDPACKTEST\/\d{8}\/eu-west-1\/execute-api\/aws4_request/);
    } finally {
      server.close();
    }
  }, 30_000);
});

describe('npm run -s capstan in the repository', () => {
  it('prints only the CLI output (no npm banner), so it can be piped', async () => {
    const ran = await npm(['run', '-s', 'capstan', '--', '--version'], REPOSITORY);

    expect(ran.stdout).toBe(`${MANIFEST.version}\n`);
  }, 60_000);
});
