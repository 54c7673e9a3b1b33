/**
 * One Capstan Lambda function: a handler file under `functions/` bundled by esbuild into an ESM module for Node.js 22
 * on arm64, with its own log group, X-Ray tracing and the common environment every handler reads.
 *
 * Note: the defaults live here so that the twenty-odd functions of the control plane cannot drift apart.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The repository root: handler entries are given relative to it (`functions/api/healthz.ts`). */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The Lambda runtime of every Capstan function (Node.js 22, the oldest non-deprecated LTS the code targets). */
export const CAPSTAN_RUNTIME = Runtime.NODEJS_22_X;

/**
 * Defines `require` in the ESM bundle: a few dependencies (the AWS SDK's CommonJS parts) still call it, and an ESM
 * module has no `require` of its own.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as capstanCreateRequire } from 'node:module'; const require = capstanCreateRequire(import.meta.url);";

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
 */
export class CapstanFunction extends NodejsFunction {
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
    super(scope, id, {
      role,
      entry: path.join(REPOSITORY_ROOT, props.entry),
      handler: 'handler',
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
      projectRoot: REPOSITORY_ROOT,
      depsLockFilePath: path.join(REPOSITORY_ROOT, 'package-lock.json'),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        CAPSTAN_ENABLE_AWS: '1',
        POWERTOOLS_SERVICE_NAME: 'capstan',
        ...props.environment,
      },
      bundling: {
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
      },
    });
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
