/**
 * The local Step Functions: the SAME ASL file CDK deploys, run by aws-local-stepfunctions in-process, with the
 * phase handlers as task overrides (by state name).
 *
 * Differences from AWS, and how they are bridged:
 * - `$$.Task.Token` is not provided by the interpreter; CreateMachine gets a per-machine token made here, and
 *   `sendTaskSuccess` resolves the promise the CreateMachine override is waiting on (keyed by that token).
 * - AWS reads `TimeoutSecondsPath` from the state input; the interpreter reads it from the effective input
 *   (after `Parameters`). Locally the path is rewritten to the same value inside `Parameters.Payload`.
 * - Retry intervals are shortened (`retryIntervalOverrides`), since local machines boot in seconds, not minutes.
 * - An execution dies with the process. On restart `resume()` releases the dead executions' leases and starts a
 *   fresh execution for every cluster that has not converged; the plan step recomputes everything from the store.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { Logger } from '../../functions/adapters/logger.js';
import type { Store, Workflow } from '../../functions/domain/ports.js';

// aws-local-stepfunctions 3 uses Promise.withResolvers (Node 22); Node 20 needs this polyfill.
const P = Promise as unknown as { withResolvers?: <T>() => { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } };
P.withResolvers ??= <T>() => {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

/** A phase handler as the workflow calls it: the Lambda payload in, the Lambda result out. */
export type PhaseFunction = (payload: unknown) => Promise<unknown>;

/** Phase handlers by the ASL substitution name they stand for (e.g. `PlanFunctionArn`). */
export type PhaseFunctions = Readonly<Record<string, PhaseFunction>>;

export const DEFAULT_DEFINITION_PATH = new URL('../workflows/rollout.asl.json', import.meta.url);

/** Error thrown by `sendTaskSuccess` for a token no step is waiting on (as AWS's TaskDoesNotExist). */
export class TaskDoesNotExistError extends Error {
  constructor(token: string) {
    super(`no task is waiting for token ${token.slice(0, 24)}…`);
    this.name = 'TaskDoesNotExist';
  }
}

export interface LocalWorkflowOptions {
  readonly functions: PhaseFunctions;
  readonly store: Store;
  readonly log: Logger;
  readonly definitionPath?: URL | string;
  /** Milliseconds every retry waits locally instead of the ASL's IntervalSeconds. @default 250 */
  readonly retryIntervalMs?: number;
}

export interface ExecutionStats {
  readonly name: string;
  readonly cluster: string;
  /** Billable state transitions (StateEntered + StateRetried), as Step Functions counts them. */
  transitions: number;
  /** Lambda invocations (Task states entered + retries of them). */
  invocations: number;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly startedAt: number;
  finishedAt?: number;
}

interface Running {
  readonly executionName: string;
  readonly abort: () => void;
  readonly done: Promise<void>;
  pending?: { generation: number; reason: string };
}

interface Waiter {
  resolve: (output: unknown) => void;
  reject: (error: Error) => void;
}

function substitutionNames(definition: string): string[] {
  return [...new Set([...definition.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!))];
}

/** Collects the Task states of a definition (including those inside Map item processors), with their Resource. */
function taskStates(def: { States: Record<string, unknown> }, out: Map<string, string> = new Map()): Map<string, string> {
  for (const [name, raw] of Object.entries(def.States)) {
    const state = raw as { Type: string; Parameters?: { FunctionName?: string }; ItemProcessor?: { States: Record<string, unknown> }; Iterator?: { States: Record<string, unknown> } };
    if (state.Type === 'Task') out.set(name, state.Parameters?.FunctionName ?? '');
    const inner = state.ItemProcessor ?? state.Iterator;
    if (inner) taskStates(inner, out);
  }
  return out;
}

/**
 * Rewrites `TimeoutSecondsPath: $.x` to `$.Payload.x` on Lambda tasks whose Payload carries `x.$: $.x`, so that the
 * interpreter (which resolves the path after Parameters) reads the value AWS reads (before Parameters).
 */
export function bridgeTimeoutPaths(def: { States: Record<string, unknown> }): void {
  for (const raw of Object.values(def.States)) {
    const state = raw as { Type: string; TimeoutSecondsPath?: string; Parameters?: { Payload?: Record<string, unknown> }; ItemProcessor?: { States: Record<string, unknown> }; Iterator?: { States: Record<string, unknown> } };
    const path = state.TimeoutSecondsPath;
    if (state.Type === 'Task' && path?.startsWith('$.') && state.Parameters?.Payload) {
      const top = path.slice(2).split('.')[0]!;
      if (state.Parameters.Payload[`${top}.$`] === `$.${top}`) state.TimeoutSecondsPath = `$.Payload.${path.slice(2)}`;
    }
    const inner = state.ItemProcessor ?? state.Iterator;
    if (inner) bridgeTimeoutPaths(inner);
  }
}

/** Runs rollout executions in-process. One execution per cluster at a time. */
export class LocalWorkflow implements Workflow {
  private readonly machine: StateMachine;
  private readonly handlers: Record<string, (input: unknown) => Promise<unknown>>;
  private readonly retryOverrides: Record<string, number>;
  private readonly running = new Map<string, Running>();
  private readonly waiters = new Map<string, Waiter>();
  /** Phase handlers still running (an aborted execution does not stop them); close() waits for them. */
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly stats: ExecutionStats[] = [];
  private closed = false;

  constructor(private readonly options: LocalWorkflowOptions) {
    const text = readFileSync(options.definitionPath ?? DEFAULT_DEFINITION_PATH, 'utf8');
    for (const name of substitutionNames(text)) {
      if (!options.functions[name]) throw new Error(`local workflow: no phase function for \${${name}}`);
    }
    const resolved = text.replace(/\$\{(\w+)\}/g, (_m, name: string) => `arn:aws:lambda:local:000000000000:function:${name}`);
    const definition = JSON.parse(resolved) as StateMachineDefinition;
    bridgeTimeoutPaths(definition as unknown as { States: Record<string, unknown> });
    // The constructor validates (70–190 ms) and mutates its argument: build once, from a fresh parse.
    this.machine = new StateMachine(definition, { validationOptions: { checkArn: false, checkPaths: true } } as never);
    const tasks = taskStates(JSON.parse(resolved) as { States: Record<string, unknown> });
    this.handlers = {};
    this.retryOverrides = {};
    for (const [state, arn] of tasks) {
      const fnName = arn.split(':').pop()!;
      const fn = options.functions[fnName]!;
      this.retryOverrides[state] = options.retryIntervalMs ?? 250;
      this.handlers[state] = (input: unknown) => {
        if (this.closed) return Promise.reject(Object.assign(new Error('local workflow closed'), { name: 'States.Runtime' }));
        const running = this.invoke(state, fn, input);
        const tracked = running.catch(() => undefined);
        this.inflight.add(tracked);
        void tracked.finally(() => this.inflight.delete(tracked));
        return running;
      };
    }
  }

  private async invoke(state: string, fn: PhaseFunction, input: unknown): Promise<unknown> {
    const payload = (input as { Payload?: Record<string, unknown> }).Payload ?? {};
    if (state !== 'CreateMachine') return { Payload: await fn(payload), StatusCode: 200 };
    // .waitForTaskToken: hand the handler a token of our own and wait until someone sends success for it.
    const intent = payload.intent as { machine?: { name?: string } } | undefined;
    const token = `local/${String(payload.execution)}/${intent?.machine?.name ?? 'machine'}/${randomUUID()}`;
    const waited = new Promise<unknown>((resolve, reject) => this.waiters.set(token, { resolve, reject }));
    // Note: close() may reject the waiter while the handler is still running, before anything awaits `waited`;
    // without a handler attached now, that rejection is unhandled and kills the process (issue 16).
    waited.catch(() => undefined);
    try {
      await fn({ ...payload, taskToken: token });
      return await waited;
    } finally {
      this.waiters.delete(token);
    }
  }

  /** Starts a rollout unless the cluster has one running here (which then re-runs once it finishes). */
  async startRollout(request: { cluster: string; generation: number; reason: string }): Promise<{ executionName: string; started: boolean }> {
    if (this.closed) throw new Error('local workflow is closed');
    const current = this.running.get(request.cluster);
    if (current) {
      current.pending = { generation: request.generation, reason: request.reason };
      return { executionName: current.executionName, started: false };
    }
    const lease = await this.options.store.getLease(request.cluster);
    if (lease && !this.isOurs(lease.holder) && Date.parse(lease.expiresAt) > Date.now()) {
      // Held by an execution of a previous process: it is dead, since executions die with their process.
      await this.options.store.releaseLease(request.cluster, lease.holder);
    }
    const executionName = `${request.cluster}-g${request.generation}-${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
    const stat: ExecutionStats = { name: executionName, cluster: request.cluster, transitions: 0, invocations: 0, status: 'RUNNING', startedAt: Date.now() };
    this.stats.push(stat);
    if (this.stats.length > 10_000) this.stats.splice(0, this.stats.length - 10_000);
    const execution = this.machine.run(
      { cluster: request.cluster, generation: request.generation, iteration: 0, historyEvents: 0 },
      {
        overrides: { taskResourceLocalHandlers: this.handlers as never, retryIntervalOverrides: this.retryOverrides },
        context: { Execution: { Name: executionName, Id: `local:${executionName}`, StartTime: new Date().toISOString() }, Task: { Token: 'local' } },
      } as never,
    );
    const countEvents = (async () => {
      for await (const event of execution.eventLogs) {
        if (event.type === 'StateEntered' || event.type === 'StateRetried') {
          stat.transitions++;
          if (event.state.type === 'Task') stat.invocations++;
        }
      }
    })().catch(() => undefined);
    const done = execution.result
      .then(() => {
        stat.status = 'SUCCEEDED';
      })
      .catch((error: unknown) => {
        stat.status = this.closed ? 'ABORTED' : 'FAILED';
        if (!this.closed) this.options.log.warn('rollout execution failed', { execution: executionName, error });
      })
      .finally(async () => {
        await countEvents;
        stat.finishedAt = Date.now();
        const entry = this.running.get(request.cluster);
        this.running.delete(request.cluster);
        if (entry?.pending && !this.closed) {
          await this.startRollout({ cluster: request.cluster, generation: entry.pending.generation, reason: entry.pending.reason }).catch((error: unknown) =>
            this.options.log.warn('could not restart rollout', { cluster: request.cluster, error }),
          );
        }
      });
    this.running.set(request.cluster, { executionName, abort: execution.abort, done });
    this.options.log.info('rollout started', { cluster: request.cluster, execution: executionName, reason: request.reason });
    return { executionName, started: true };
  }

  private isOurs(holder: string): boolean {
    for (const r of this.running.values()) if (r.executionName === holder) return true;
    return false;
  }

  async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    const waiter = this.waiters.get(taskToken);
    if (!waiter) throw new TaskDoesNotExistError(taskToken);
    this.waiters.delete(taskToken);
    waiter.resolve(output);
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    const waiter = this.waiters.get(taskToken);
    if (!waiter) throw new TaskDoesNotExistError(taskToken);
    this.waiters.delete(taskToken);
    const e = new Error(cause);
    e.name = error;
    waiter.reject(e);
  }

  /** Whether a rollout runs for the cluster in this process. */
  isRunning(cluster: string): boolean {
    return this.running.has(cluster);
  }

  /** Resolves when the cluster's current execution (and any re-run it queued) has finished. */
  async settle(cluster: string): Promise<void> {
    for (let r = this.running.get(cluster); r; r = this.running.get(cluster)) await r.done;
  }

  /** Execution statistics (transitions, invocations) of this process, newest last. */
  executions(): readonly ExecutionStats[] {
    return this.stats;
  }

  /** Stops every execution (the process is shutting down). */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.values()) w.reject(Object.assign(new Error('local workflow closed'), { name: 'States.Runtime' }));
    this.waiters.clear();
    const all = [...this.running.values()];
    for (const r of all) r.abort();
    await Promise.all(all.map((r) => r.done.catch(() => undefined)));
    // Handlers of aborted executions may still be talking to the store: let them finish (bounded).
    await Promise.race([Promise.all([...this.inflight]), new Promise((r) => setTimeout(r, 10_000).unref())]);
  }
}
