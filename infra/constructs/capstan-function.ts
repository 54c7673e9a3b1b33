/**
 * One Capstan Lambda function: a handler file under `functions/` bundled by esbuild into an ESM module for Node.js 22
 * on arm64, with its own log group, X-Ray tracing and the common environment every handler reads.
 *
 * Note: the defaults live here so that the twenty-odd functions of the control plane cannot drift apart.
 *
 * Note: two ways to the same code. From source (this repository: tsx, jest, `cdk synth`) each function is bundled by
 * `NodejsFunction` from its entry, against the repository's `package-lock.json`. From the built package
 * (`dist/`, what `npm pack` ships and another CDK app installs) the source and the lockfile are absent: the handlers
 * were prebundled at pack time with the same {@link CAPSTAN_BUNDLING} options into one directory
 * (`dist/lambda/`, see infra/build-package.ts) and are deployed as they are, so a consumer needs neither esbuild nor
 * our lockfile, and deploys the code this repository tested (a lockfile of a dependency is ignored by `npm install`;
 * bundling in the consumer's app would pick the consumer's versions of our dependencies).
 *
 * Note: bundles differ in one build-time constant, {@link PROVIDERS_BUNDLED_DEFINE}: only the functions the catalog
 * marks `callsProvider` bundle the providers (issue 16, cold starts: the EC2, ELB, STS and Kubernetes clients were
 * 5.8 MB of every 6.3 MB bundle). Both ways above define it from the catalog, so a function gets the same modules
 * either way (test/infra/bundles.test.ts).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Architecture, Code, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CATALOG_FUNCTIONS } from '../catalog/functions.js';

/**
 * The root handler entries (`functions/api/healthz.ts`) and workflow files are resolved against: the repository when
 * run from source, the package's `dist/` directory when run from the built package.
 */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The directory (under {@link REPOSITORY_ROOT}) the built package keeps every prebundled handler in. */
export const PREBUNDLED_DIR = 'lambda';

/**
 * The module of `entry`'s prebundled handler, relative to the prebundled directory and without extension:
 * `functions/api/healthz.ts` → `functions/api/healthz/index` (the file is `index.mjs`).
 */
export function prebundledModule(entry: string): string {
  return `${entry.replace(/\.[cm]?[jt]s$/, '')}/index`;
}

/** Where a function's code comes from (see {@link resolveFunctionCode}). */
export type FunctionCodeSource =
  | { readonly kind: 'prebundled'; readonly dir: string; readonly handler: string }
  | { readonly kind: 'source'; readonly file: string };

/**
 * How a function's code is found: its prebundled module when it exists (the built package), else the source entry,
 * bundled by esbuild at synth (this repository).
 *
 * Note: the prebundled handlers share one directory (esbuild code splitting: the AWS SDK clients are in shared chunks
 * once instead of in every bundle, 16 MB instead of 260 MB); every function deploys that one asset, uploaded once,
 * with its own handler `functions/api/healthz/index.handler`. Lambda resolves a handler's module path relative to the
 * code root and loads `index.mjs` as ES module:
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html
 *
 * @throws Error when neither exists, naming both paths (a package built without `npm run build`).
 */
export function resolveFunctionCode(entry: string, root = REPOSITORY_ROOT): FunctionCodeSource {
  const dir = path.join(root, PREBUNDLED_DIR);
  const module = prebundledModule(entry);
  if (existsSync(path.join(dir, `${module}.mjs`))) return { kind: 'prebundled', dir, handler: `${module}.handler` };
  const file = path.join(root, entry);
  if (existsSync(file)) return { kind: 'source', file };
  throw new Error(
    `CapstanFunction ${entry}: no prebundled handler at ${path.join(dir, `${module}.mjs`)} and no source at ${file}; build the package with \`npm run build\` (npm pack runs it)`,
  );
}

/** The Lambda runtime of every Capstan function (Node.js 22, the oldest non-deprecated LTS the code targets). */
export const CAPSTAN_RUNTIME = Runtime.NODEJS_22_X;

/**
 * Defines `require` in the ESM bundle: a few dependencies (the AWS SDK's CommonJS parts) still call it, and an ESM
 * module has no `require` of its own.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as capstanCreateRequire } from 'node:module'; const require = capstanCreateRequire(import.meta.url);";

/**
 * The esbuild options of every Capstan function: ESM for Node.js 22 with a `require` banner, minified with class names
 * kept (Step Functions Retry/Catch match on error names), source maps without sources, the AWS SDK bundled.
 * `NodejsFunction` applies them when bundling from source; infra/build-package.ts applies the same to the prebundle.
 * Each function adds its build-time constants to them ({@link functionBundling}).
 */
export const CAPSTAN_BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node22',
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  minify: true,
  keepNames: true,
  // Note: bundle the SDK (pinned by package-lock.json) instead of using the runtime's copy, so that what is tested is what runs.
  bundleAwsSDK: true,
  sourceMap: true,
  sourceMapMode: SourceMapMode.DEFAULT,
  sourcesContent: false,
} as const satisfies BundlingOptions;

/**
 * The build-time constant (esbuild `define`) that says whether a bundle holds the providers, as
 * functions/adapters/aws-deps.ts declares it: it imports the EC2 provider only behind it, and esbuild drops that
 * branch, `import()` included, where it is `false`.
 */
export const PROVIDERS_BUNDLED_DEFINE = 'CAPSTAN_PROVIDERS_BUNDLED';

/**
 * Whether `entry`'s bundle holds the providers: its catalog entry's `callsProvider` (infra/catalog/functions.ts);
 * true for an entry the catalog does not list, which is bundled with every provider as before.
 */
export function bundlesProviders(entry: string): boolean {
  return CATALOG_FUNCTIONS.find((f) => f.entry === entry)?.callsProvider ?? true;
}

/** The build-time constants of a bundle with or without the providers (esbuild `define`: name → JavaScript). */
export function bundleDefines(providers: boolean): Readonly<Record<string, string>> {
  return { [PROVIDERS_BUNDLED_DEFINE]: String(providers) };
}

/**
 * {@link CAPSTAN_BUNDLING} for `entry`: the common options with the entry's build-time constants
 * ({@link bundlesProviders}). What `NodejsFunction` bundles a function from source with.
 */
export function functionBundling(entry: string): BundlingOptions {
  return { ...CAPSTAN_BUNDLING, mainFields: [...CAPSTAN_BUNDLING.mainFields], define: { ...bundleDefines(bundlesProviders(entry)) } };
}

/** Properties of a {@link CapstanFunction}. */
export interface CapstanFunctionProps {
  /** The handler file relative to the repository root, e.g. `functions/api/healthz.ts`; it exports `handler`. */
  readonly entry: string;
  /** What the function does, shown in the Lambda console. */
  readonly description: string;
  /** Environment variables on top of the common ones (`NODE_OPTIONS`, `CAPSTAN_ENABLE_AWS`, `POWERTOOLS_SERVICE_NAME`). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * How long one invocation may run.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Memory (and so CPU) of the function.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * How long the function's logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * IAM path of the function's execution role. Member accounts trust roles by path (`/capstan/workflow/*`), so only
   * the functions that act in member accounts get the workflow path.
   * @default '/capstan/'
   */
  readonly rolePath?: string;
  /**
   * Queue receiving asynchronous invocations that failed every retry (schedules, event rules).
   * @default - none: the function is only invoked synchronously (API Gateway, Step Functions)
   */
  readonly deadLetterQueue?: IQueue;
  /**
   * Retries of a failed asynchronous invocation before it goes to the dead-letter queue.
   * @default 2 when `deadLetterQueue` is set, else the Lambda default
   */
  readonly retryAttempts?: number;
}

/**
 * A `NodejsFunction` with Capstan's defaults: ESM output with a `require` banner, source maps, minification that keeps
 * class names (Step Functions Retry/Catch match on error names), JSON logs, active tracing, a log group with retention.
 * Its bundle holds the providers only when the catalog says the function calls one ({@link functionBundling}).
 */
export class CapstanFunction extends NodejsFunction {
  /** The handler file this function runs, relative to the repository root (`functions/api/healthz.ts`). */
  public readonly entry: string;

  constructor(scope: Construct, id: string, props: CapstanFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Note: our own role instead of the default one: it gets an IAM path (member trust), and log write access to
    // exactly its log group instead of the AWSLambdaBasicExecutionRole managed policy.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      path: props.rolePath ?? '/capstan/',
      description: `Execution role of ${props.entry}`,
    });
    logGroup.grantWrite(role);
    const code = resolveFunctionCode(props.entry);
    super(scope, id, {
      role,
      ...(code.kind === 'prebundled'
        ? // Note: NodejsFunction ignores every bundling property when `code` is given; the bundle was made with them.
          { code: Code.fromAsset(code.dir), handler: code.handler }
        : { entry: code.file, handler: 'handler', projectRoot: REPOSITORY_ROOT, depsLockFilePath: path.join(REPOSITORY_ROOT, 'package-lock.json') }),
      description: props.description,
      runtime: CAPSTAN_RUNTIME,
      architecture: Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 512,
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      logGroup,
      deadLetterQueue: props.deadLetterQueue,
      retryAttempts: props.retryAttempts ?? (props.deadLetterQueue ? 2 : undefined),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        CAPSTAN_ENABLE_AWS: '1',
        POWERTOOLS_SERVICE_NAME: 'capstan',
        ...props.environment,
      },
      bundling: functionBundling(props.entry),
    });
    this.entry = props.entry;
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 (LTS until 2027-04) is the runtime the handlers are built and tested for (esbuild target node22, local mode on Node 20/22); Node.js 24 is adopted together with the toolchain.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
    });
  }
}
