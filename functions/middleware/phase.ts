/**
 * The middy stack of the workflow phase Lambdas (functions/phases/): `phaseHandler(fn)` runs
 *   keepErrorName → phaseContext → fn(input, deps)
 * and a failure goes back through phaseContext (logged) and keepErrorName (rethrown as it was thrown).
 *
 * Why its own file: a phase answers Step Functions, not a caller. Its errors are not turned into responses: they ARE
 * the answer, matched by name in the workflow's Retry/Catch (`ErrorEquals` in infra/workflows/rollout.asl.json:
 * StoreConflictError, DrainInProgressError, ProviderThrottledError…), so this stack must hand them on untouched.
 *
 * Note: the Lambda runtime reports a thrown error's `name` as the `errorType` Step Functions matches; every
 * CapstanError sets its `name` explicitly because bundlers rename classes.
 */
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { getDeps, type Deps } from '../adapters/deps.js';
import type { Logger } from '../adapters/logger.js';

/** A workflow phase as written: the state's input and the process's dependencies in, the state's output out. */
export type PhaseFn<O> = (input: unknown, deps: Deps) => Promise<O>;

/** A phase as Lambda invokes it; the local workflow runner (infra/local/) invokes it without a context. */
export type PhaseLambda<O> = (input: unknown, context?: Context) => Promise<O>;

/** The Lambda context as the phase stack uses it: phaseContext puts the dependencies and a logger on it. */
export interface PhaseContext extends Context {
  capstan?: { readonly deps: Deps; readonly log: Logger };
}

/** A middleware of the phase stack. */
export type PhaseMiddleware = MiddlewareObj<unknown, unknown, Error, PhaseContext>;

/** Options of `phaseContext` and `phaseHandler`. */
export interface PhaseContextOptions {
  /** The phase's name in log lines. @default the function's name (`fn.name`) */
  readonly name?: string;
  /** Resolves the process's dependencies. @default getDeps (functions/adapters/deps.ts) */
  readonly getDeps?: () => Promise<Deps>;
}

const defaults: Required<PhaseContextOptions> = { name: 'phase', getDeps };

/** The workflow fields of a phase input worth a log line (`cluster`, `execution`), when they are strings. */
function inputFields(input: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  if (typeof input !== 'object' || input === null) return fields;
  for (const key of ['cluster', 'execution'] as const) {
    const value = (input as Record<string, unknown>)[key];
    if (typeof value === 'string') fields[key] = value;
  }
  return fields;
}

/**
 * Resolves the dependencies for the phase and a logger that names the phase, the Lambda request id and the cluster;
 * logs a failure (at info: a failure is often a planned retry signal, such as DrainInProgressError).
 * Note: its onError never throws, so the phase's own error is what reaches Step Functions.
 */
export function phaseContext(options: PhaseContextOptions = {}): PhaseMiddleware {
  const { name, getDeps: resolve } = { ...defaults, ...options };
  return {
    name: 'phaseContext',
    before: async (request) => {
      const deps = await resolve();
      const requestId = request.context.awsRequestId;
      const log = deps.log.child({ phase: name, ...(requestId ? { requestId } : {}), ...inputFields(request.event) });
      request.context.capstan = { deps, log };
    },
    onError: (request) => {
      try {
        const error: unknown = request.error;
        request.context.capstan?.log.info('phase failed; the workflow retries or catches by the error name', { errorName: (error as Error | undefined)?.name, error });
      } catch {
        // A log line is never worth replacing the phase's error.
      }
    },
  };
}

/**
 * Hands a phase's failure to Step Functions as it was thrown: the same object, so the same `name`.
 * Note: it is the first middleware, so its onError runs last; it rethrows `request.error` whatever an earlier onError
 * did, so no middleware can turn a failed phase into an output (Step Functions would see a success) or a different
 * error (Retry/Catch would match another name).
 */
export function keepErrorName(): PhaseMiddleware {
  return {
    name: 'keepErrorName',
    onError: (request) => {
      throw request.error;
    },
  };
}

/**
 * Wraps a workflow phase into its Lambda handler: `export const handler = phaseHandler(createMachine)`.
 * Note: middy's early timeout is off (`timeoutEarlyInMillis: 0`): a phase that runs out of time fails as the Lambda
 * timeout it is, which the workflow's Retry/Catch already handle, not as a middy `TimeoutError`.
 */
export function phaseHandler<O>(fn: PhaseFn<O>, options: PhaseContextOptions = {}): PhaseLambda<O> {
  const core = async (input: unknown, context: PhaseContext): Promise<O> => {
    if (!context.capstan) throw new Error('phaseHandler: phaseContext did not run');
    return fn(input, context.capstan.deps);
  };
  const lambda = middy<unknown, O, Error, PhaseContext>(core, { timeoutEarlyInMillis: 0 }).use([
    keepErrorName(),
    phaseContext({ name: options.name ?? (fn.name || defaults.name), ...(options.getDeps ? { getDeps: options.getDeps } : {}) }),
  ]);
  // Note: middy gives a missing context its own `{}`; the phase stack reads only what phaseContext puts there.
  return (input, context) => lambda(input, (context ?? {}) as PhaseContext);
}
