/**
 * The local host's view of the function catalog (infra/catalog/): every handler it runs, by catalog ID, and what it
 * hosts derived from the catalog — the HTTP routes, the workflow's phase functions by ASL placeholder, the scheduled
 * and event-driven functions.
 *
 * Its own file because it is the one place the local host imports handlers: statically, so that tsc checks them and
 * bundlers see them. The tables are keyed by catalog ID and `satisfies` a record of exactly the catalog's IDs, so a
 * function added to (or removed from) the catalog fails the typecheck here until the local host runs it too;
 * test/infra/function-catalog.test.ts checks that each handler is the one its catalog entry's file exports.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Deps } from '../../functions/adapters/deps.js';
import { handler as apply } from '../../functions/api/apply.js';
import { handler as callbacks } from '../../functions/api/callbacks.js';
import { handler as clusters } from '../../functions/api/clusters.js';
import { handler as events } from '../../functions/api/events.js';
import { handler as healthz } from '../../functions/api/healthz.js';
import { handler as machines } from '../../functions/api/machines.js';
import { handler as principals } from '../../functions/api/principals.js';
import { handler as continueHandler } from '../../functions/phases/continue.js';
import { handler as createMachine } from '../../functions/phases/create-machine.js';
import { handler as deleteCluster } from '../../functions/phases/delete-cluster.js';
import { handler as deleteInfrastructure } from '../../functions/phases/delete-infrastructure.js';
import { handler as deleteMachine } from '../../functions/phases/delete-machine.js';
import { handler as ensureInfrastructure } from '../../functions/phases/ensure-infrastructure.js';
import { handler as machineFailed } from '../../functions/phases/machine-failed.js';
import { handler as plan } from '../../functions/phases/plan.js';
import { handler as retireMachine } from '../../functions/phases/retire-machine.js';
import { handler as rolloutFailed } from '../../functions/phases/rollout-failed.js';
import {
  PHASE_FUNCTIONS,
  ROUTES,
  type ApiFunctionId,
  type PhaseFunctionId,
  type RouteDefinition,
  type TriggeredFunctionId,
} from '../catalog/index.js';
import type { PhaseFunction } from './workflow-runner.js';

/** An API handler as API Gateway (and the local HTTP server) calls it. */
export type LambdaHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** The `handler` export of every API function's entry, by catalog ID. */
export const API_HANDLERS = {
  ApiHealthz: healthz as unknown as LambdaHandler,
  ApiClusters: clusters as unknown as LambdaHandler,
  ApiApply: apply as unknown as LambdaHandler,
  ApiMachines: machines as unknown as LambdaHandler,
  ApiEvents: events as unknown as LambdaHandler,
  ApiCallbacks: callbacks as unknown as LambdaHandler,
  ApiPrincipals: principals as unknown as LambdaHandler,
} satisfies Record<ApiFunctionId, LambdaHandler>;

/** The `handler` export of every workflow phase function's entry, by catalog ID. */
export const PHASE_HANDLERS = {
  PhasePlan: plan,
  PhaseCreateMachine: createMachine,
  PhaseMachineFailed: machineFailed,
  PhaseRetireMachine: retireMachine,
  PhaseDeleteMachine: deleteMachine,
  PhaseEnsureInfrastructure: ensureInfrastructure,
  PhaseDeleteInfrastructure: deleteInfrastructure,
  PhaseDeleteCluster: deleteCluster,
  PhaseContinue: continueHandler,
  PhaseRolloutFailed: rolloutFailed,
} satisfies Record<PhaseFunctionId, PhaseFunction>;

/** A scheduled function as the local reconcile timer runs it: its plain function, with the stack's own deps. */
export type ScheduledRun = (input: unknown, deps: Deps) => Promise<unknown>;

/**
 * How the local host runs each scheduled or event-driven function: the reconcile timer calls `run`; event functions
 * have no local run, the machine watch (infra/local/machine-watch.ts) stands in for them and calls the same trigger.
 *
 * Note: the sweep is passed the stack's deps rather than called through `handler` (which reads the process-wide
 * deps): several stacks may share a process (tests, benchmarks). It is imported on first use.
 */
export const TRIGGER_RUNS = {
  ReconcileSweep: {
    via: 'timer',
    run: async (input, deps) => {
      const { sweep } = await import('../../functions/reconcile/sweep.js');
      return (sweep as unknown as ScheduledRun)(input, deps);
    },
  },
  ReconcileInstanceEvent: { via: 'machine-watch' },
} as const satisfies Record<TriggeredFunctionId, { readonly via: 'timer'; readonly run: ScheduledRun } | { readonly via: 'machine-watch' }>;

/** One route the local HTTP server serves, with the handler it calls. */
export interface LocalRoute extends RouteDefinition {
  readonly lambda: LambdaHandler;
}

/** A phase function the local workflow runs for one ASL placeholder. */
export interface LocalPhase {
  readonly functionId: PhaseFunctionId;
  readonly handler: PhaseFunction;
}

/** What a local stack hosts, by catalog ID: the same set the CDK construct deploys. */
export interface LocalHosting {
  /** The routes the HTTP server serves. */
  readonly routes: readonly LocalRoute[];
  /** The workflow's phase functions by ASL placeholder (`PlanFunctionArn`). */
  readonly phases: Readonly<Record<string, LocalPhase>>;
  /** The scheduled functions the reconcile timer runs; none when the timer is off. */
  readonly schedules: readonly TriggeredFunctionId[];
  /** The event-driven functions the machine watch stands in for; none when the watch is off. */
  readonly events: readonly TriggeredFunctionId[];
}

/** Every catalog route with its handler. */
export function localRoutes(): LocalRoute[] {
  return ROUTES.map((route) => ({ ...route, lambda: API_HANDLERS[route.functionId] }));
}

/** Every catalog phase function by the ASL placeholder its ARN fills on AWS. */
export function localPhases(): Record<string, LocalPhase> {
  return Object.fromEntries(PHASE_FUNCTIONS.map((p) => [p.substitution, { functionId: p.id, handler: PHASE_HANDLERS[p.id] }]));
}
