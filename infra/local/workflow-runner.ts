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
import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import type { Logger } from '../../functions/adapters/logger.js';
import type { Store, Workflow } from '../../functions/domain/ports.js';
import { loadDefinition } from './asl-definition.js';

export { bridgeTimeoutPaths } from './asl-definition.js';

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
  /** How long close() waits for aborted executions and their still-running phase handlers. @default 10000 */
  readonly closeTimeoutMs?: number;
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

/** What a step of a closed workflow fails with (and what close() fails the steps waiting for a machine with). */
function closedError(): Error {
  return Object.assign(new Error('local workflow closed'), { name: 'States.Runtime' });
}

/** Marks a promise handled (a rejection nobody awaits no longer kills the process) and returns it unchanged. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

interface Waiter {
  resolve: (output: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * Runs rollout executions in-process. One execution per cluster at a time.
 *
 * Note: no promise this class creates can reject unobserved, before or after close() (issue 16): a step's promise is
 * marked handled before the interpreter gets it (the interpreter drops the steps of an aborted execution), a waiter
 * as soon as it exists, and an execution's `done` never rejects.
 */
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
  private closing: Promise<void> | undefined;

  constructor(private readonly options: LocalWorkflowOptions) {
    const { definition, tasks } = loadDefinition(options.definitionPath ?? DEFAULT_DEFINITION_PATH, new Set(Object.keys(options.functions)));
    // The constructor validates (70–190 ms) and mutates its argument: build once, from a fresh parse.
    this.machine = new StateMachine(definition, { validationOptions: { checkArn: false, checkPaths: true } } as never);
    this.handlers = {};
    this.retryOverrides = {};
    for (const [state, fnName] of tasks) {
      const fn = options.functions[fnName]!;
      this.retryOverrides[state] = options.retryIntervalMs ?? 250;
      this.handlers[state] = (input: unknown) => {
        if (this.closed) return handled(Promise.reject(closedError()));
        const running = this.invoke(state, fn, input);
        const tracked = running.catch(() => undefined); // also marks `running` handled
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
    // Note: close() may reject the waiter while the handler is still running, before anything awaits it; without a
    // handler attached now, that rejection is unhandled and kills the process (issue 16).
    const waited = handled(new Promise<unknown>((resolve, reject) => this.waiters.set(token, { resolve, reject })));
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
    // Note: close() may have run during the reads above; an execution started now would outlive it.
    if (this.closed) throw new Error('local workflow is closed');
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
    const finish = async (): Promise<void> => {
      try {
        await execution.result;
        stat.status = 'SUCCEEDED';
      } catch (error) {
        stat.status = this.closed ? 'ABORTED' : 'FAILED';
        if (!this.closed) this.options.log.warn('rollout execution failed', { execution: executionName, error });
      }
      await countEvents;
      stat.finishedAt = Date.now();
      const entry = this.running.get(request.cluster);
      this.running.delete(request.cluster);
      if (entry?.pending && !this.closed) {
        await this.startRollout({ cluster: request.cluster, generation: entry.pending.generation, reason: entry.pending.reason }).catch((error: unknown) =>
          this.options.log.warn('could not restart rollout', { cluster: request.cluster, error }),
        );
      }
    };
    // `done` never rejects: settle() and close() await it, and nobody may be awaiting it when it settles.
    const done = finish().catch((error: unknown) => this.options.log.error('rollout bookkeeping failed', { execution: executionName, error }));
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

  /**
   * Stops every execution (the process is shutting down). Safe to call again: every call waits for the first.
   *
   * Note: the order matters. `closed` first, so that no step starts and no execution is started; then the
   * executions are aborted, so that no step runs after the one it is in; then the steps waiting for a machine
   * fail with `States.Runtime` (their handlers may still run: they are waited for, at most `closeTimeoutMs`).
   */
  close(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  private async stop(): Promise<void> {
    this.closed = true;
    const all = [...this.running.values()];
    for (const r of all) r.abort();
    for (const w of this.waiters.values()) w.reject(closedError());
    this.waiters.clear();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.closeTimeoutMs ?? 10_000)));
    try {
      // Handlers of aborted executions may still be talking to the store: let them finish (bounded).
      await Promise.race([Promise.all([...all.map((r) => r.done), ...this.inflight]), bound]);
    } finally {
      clearTimeout(timer);
    }
  }
}
