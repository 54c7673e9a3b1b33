/**
 * The whole control plane in one process: the API handlers behind a loopback HTTP server, dynalite as the table,
 * the ASL interpreter running the rollout workflow with the phase handlers, the local provider, and the
 * reconcile timer. `npm start` runs this; integration tests, the CLI tests, the demo and the benchmarks start it
 * in-process.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { installDeps, resetDeps, DEFAULT_SETTINGS, type Deps, type Settings } from '../../functions/adapters/deps.js';
import { createLogger, silentLogger, type Logger } from '../../functions/adapters/logger.js';
import { DynamoDbStore } from '../../functions/adapters/store/dynamodb-store.js';
import { systemClock, type Clock, type Principal } from '../../functions/domain/ports.js';
import { LocalProvider, localOnlyRegistry, type ProviderRegistry } from '../../providers/index.js';
import type { LocalFaults } from '../../providers/local/faults.js';
import { INSTANCE_EVENT_FUNCTION, SWEEP_FUNCTION } from '../catalog/index.js';
import { bearerAuthenticator, ensureSecretFile, resolveToken } from './auth.js';
import { connectLocalDynamo, startLocalDynamo, type LocalDynamo } from './dynamo.js';
import { startHttpServer } from './http-server.js';
import { localPhases, TRIGGER_RUNS, type LocalHosting } from './local-functions.js';
import { startMachineWatch, type MachineWatch } from './machine-watch.js';
import { LocalWorkflow } from './workflow-runner.js';

export type { LocalHosting } from './local-functions.js';

export interface LocalStackOptions {
  /** CAPSTAN_HOME: table files, token, machines. @default ./.capstan */
  readonly home?: string;
  /** Loopback port of the API. @default 0 (a free port) */
  readonly port?: number;
  /** Explicit API token. @default the one in `$home/token` (generated on first start) */
  readonly token?: string;
  /** Keep the table on disk under `$home/dynamodb` (survives restarts). @default true */
  readonly persist?: boolean;
  /**
   * A DynamoDB-compatible endpoint on loopback to use instead of the embedded dynalite (another process, Amazon's
   * DynamoDB Local). `persist` is then ignored: the table lives wherever that server keeps it.
   */
  readonly dynamoEndpoint?: string;
  /** Boot time of local machines. @default CAPSTAN_LOCAL_BOOT_MS or 2000 */
  readonly bootMs?: number;
  /** Time to evict one simulated pod. @default provider default */
  readonly drainMsPerPod?: number;
  /** How long a hung machine keeps its last health before its node reads Ready=Unknown. @default CAPSTAN_NODE_MONITOR_GRACE_MS or 40000 */
  readonly nodeMonitorGraceMs?: number;
  readonly faults?: LocalFaults;
  /** Seconds between reconcile sweeps; 0 disables the timer. @default 60 */
  readonly reconcileSeconds?: number;
  readonly settings?: Partial<Settings>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Extra bearer tokens and their principals (tenancy). */
  readonly principals?: ReadonlyMap<string, Principal>;
  /** Provider registry override (tests); @default local only */
  readonly providers?: (local: LocalProvider) => ProviderRegistry;
  /** Resume unfinished rollouts on start. @default true */
  readonly resume?: boolean;
  /** Watch machine processes and reconcile a cluster as soon as one exits (infra/local/machine-watch.ts). @default on when the reconcile timer is */
  readonly watchMachines?: boolean;
}

export interface LocalStack {
  readonly url: string;
  readonly token: string;
  /** Where the token is kept (undefined when given explicitly). */
  readonly tokenPath: string | undefined;
  readonly home: string;
  readonly deps: Deps;
  readonly provider: LocalProvider;
  readonly workflow: LocalWorkflow;
  readonly dynamo: LocalDynamo;
  /** The machine watcher (the local event path), when on. */
  readonly machineWatch: MachineWatch | undefined;
  /** What this stack hosts, by catalog ID (infra/catalog/). */
  readonly hosting: LocalHosting;
  /** Runs one reconcile sweep now. */
  sweep(): Promise<unknown>;
  /**
   * Stops the timer, the machine watch, the workflow (bounded: see LocalWorkflow.close), the server and the table, each
   * even if one before it failed. Safe to call again: every call returns the first call's promise.
   */
  close(): Promise<void>;
}

/** Stacks started in this process and not closed yet. */
const open = new Set<LocalStack>();

/** Starts the local control plane. Only loopback addresses are used. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const home = resolve(options.home ?? '.capstan');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const log = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const { token, path: tokenPath } = resolveToken(home, options.token);
  const callbackSecret = Buffer.from(ensureSecretFile(join(home, 'callback-secret')), 'base64url');
  const dynamo = options.dynamoEndpoint
    ? await connectLocalDynamo(options.dynamoEndpoint)
    : await startLocalDynamo(options.persist === false ? {} : { path: join(home, 'dynamodb') });
  const store = new DynamoDbStore({ client: dynamo.client, tableName: dynamo.tableName });
  const provider = new LocalProvider({
    home,
    ...(options.bootMs !== undefined ? { bootMs: options.bootMs } : {}),
    ...(options.drainMsPerPod !== undefined ? { drainMsPerPod: options.drainMsPerPod } : {}),
    ...(options.nodeMonitorGraceMs !== undefined ? { nodeMonitorGraceMs: options.nodeMonitorGraceMs } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
    clock,
  });
  const http = await startHttpServer(options.port !== undefined ? { port: options.port } : {});
  const phases = localPhases();
  const workflow = new LocalWorkflow({
    store,
    log,
    functions: Object.fromEntries(Object.entries(phases).map(([substitution, phase]) => [substitution, phase.handler])),
  });
  const deps: Deps = {
    store,
    workflow,
    providers: options.providers ? options.providers(provider) : localOnlyRegistry(provider),
    clock,
    log,
    authenticate: bearerAuthenticator(token, options.principals),
    callbackSecret: async () => callbackSecret,
    callbackBaseUrl: http.url,
    settings: { ...DEFAULT_SETTINGS, pollSeconds: 1, ...options.settings },
  };
  installDeps(deps);

  const sweep = () => TRIGGER_RUNS[SWEEP_FUNCTION.id].run({ source: 'local-timer' }, deps);
  const reconcileSeconds = options.reconcileSeconds ?? 60;
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;
  if (reconcileSeconds > 0) {
    timer = setInterval(() => {
      sweeping ??= sweep()
        .catch((error: unknown) => log.warn('reconcile sweep failed', { error }))
        .finally(() => (sweeping = undefined));
    }, reconcileSeconds * 1000);
    timer.unref();
  }
  const machineWatch = (options.watchMachines ?? reconcileSeconds > 0) ? startMachineWatch({ provider, deps }) : undefined;
  const hosting: LocalHosting = {
    routes: http.routes,
    phases,
    schedules: timer ? [SWEEP_FUNCTION.id] : [],
    events: machineWatch ? [INSTANCE_EVENT_FUNCTION.id] : [],
  };
  if (options.resume !== false) await resumeRollouts(deps, workflow, log);

  let closing: Promise<void> | undefined;
  const stack: LocalStack = {
    url: http.url,
    token,
    tokenPath,
    home,
    deps,
    provider,
    workflow,
    dynamo,
    machineWatch,
    hosting,
    sweep,
    close() {
      closing ??= closeParts([
        () => (timer ? clearInterval(timer) : undefined),
        () => machineWatch?.close(),
        () => sweeping,
        () => workflow.close(),
        () => http.close(),
        () => dynamo.close(),
        () => resetDeps(),
        () => void open.delete(stack),
      ]);
      return closing;
    },
  };
  open.add(stack);
  return stack;
}

/**
 * The local stacks of this process that are not closed yet, oldest first. The benchmarks close the ones a figure
 * left running when it timed out (bench/figure-guard.ts), so that its machines and executions stop.
 */
export function openLocalStacks(): readonly LocalStack[] {
  return [...open];
}

/**
 * Runs every step of a close in order, each even when one before it failed (a server or a table left open keeps
 * the process alive), then fails with what failed.
 */
async function closeParts(steps: readonly (() => unknown)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `local stack: ${errors.length} parts failed to close`);
}

/** Starts a rollout for every cluster that has not converged (an execution died with the previous process). */
export async function resumeRollouts(deps: Deps, workflow: LocalWorkflow, log: Logger): Promise<number> {
  let resumed = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.store.listClusters({ limit: 100, ...(cursor ? { cursor } : {}) });
    for (const cluster of page.items) {
      const converged = cluster.status.phase === 'Ready' && cluster.status.observedGeneration === cluster.metadata.generation && !cluster.metadata.deletionTimestamp;
      if (converged || (cluster.spec.paused && !cluster.metadata.deletionTimestamp)) continue;
      await workflow.startRollout({ cluster: cluster.metadata.name, generation: cluster.metadata.generation, reason: 'resume' });
      resumed++;
    }
    cursor = page.next;
  } while (cursor);
  if (resumed) log.info('resumed unfinished rollouts', { resumed });
  return resumed;
}

export { createLogger };
