/**
 * The control plane's functions as data, the one list both hostings are driven by: which handler file serves which
 * routes (and whether they need credentials), which workflow state (by ASL placeholder), which schedule or event, and
 * what each may touch. The L3 construct (infra/constructs/) turns this into functions, API methods, ASL substitutions,
 * rules and grants; the local host (infra/local/) into its HTTP routes, the workflow runner's phase functions, its
 * reconcile timer and machine watch. test/infra/function-catalog.test.ts checks that both expose exactly this set.
 *
 * Note: the `id`s are construct IDs, which are API: renaming one replaces the function (and its log group).
 *
 * Note: the catalog imports nothing, so that the local host loads it without aws-cdk-lib.
 */

/** What a function may do besides writing its own logs and traces. */
export interface FunctionAccess {
  /** Access to the Capstan table. */
  readonly table: 'none' | 'read' | 'readWrite';
  /** May start rollout executions (`states:StartExecution`); gets `STATE_MACHINE_ARN`. */
  readonly startExecution?: boolean;
  /** May complete `.waitForTaskToken` tasks (`states:SendTaskSuccess/Failure`); gets `STATE_MACHINE_ARN`. */
  readonly taskResponse?: boolean;
  /** May read the secret that machine callback tokens derive from; gets `CALLBACK_SECRET_ARN`. */
  readonly callbackSecret?: boolean;
  /** Gets `CALLBACK_BASE_URL`, the API's URL that booting machines call back. */
  readonly callbackUrl?: boolean;
  /** May assume the member-account role; its execution role carries the workflow IAM path the members trust. */
  readonly assumeMemberRole?: boolean;
}

/** One HTTP route: a method on a resource path of the REST API. */
export interface ApiRoute {
  readonly method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';
  /** The resource path, with `{param}` segments, e.g. `/v1/clusters/{name}`. */
  readonly path: string;
  /**
   * The route skips IAM (SigV4) auth. Only the health check and the machine callback (which carries a one-time
   * machine token the handler checks) are public.
   */
  readonly public?: boolean;
}

/** One function behind a group of API routes. */
export interface ApiFunctionSpec {
  readonly id: string;
  readonly entry: string;
  readonly description: string;
  readonly routes: readonly ApiRoute[];
  readonly access: FunctionAccess;
  /** See {@link CatalogFunction.callsProvider}; no route does (a dry run simulates the planner, without provider). */
  readonly callsProvider: boolean;
}

/** One workflow phase function, invoked by the rollout state machine. */
export interface PhaseFunctionSpec {
  readonly id: string;
  readonly entry: string;
  readonly description: string;
  /** The `${Placeholder}` of the ASL file this function's ARN replaces. */
  readonly substitution: string;
  /** Lambda timeout; kept below the ASL task's `TimeoutSeconds` so that the task sees the Lambda error. */
  readonly timeoutSeconds: number;
  readonly access: FunctionAccess;
  /** See {@link CatalogFunction.callsProvider}. */
  readonly callsProvider: boolean;
}

/** Every API route group and its handler. */
export const API_FUNCTIONS = [
  {
    id: 'ApiHealthz',
    entry: 'functions/api/healthz.ts',
    description: 'Capstan API: liveness and store reachability',
    routes: [{ method: 'GET', path: '/healthz', public: true }],
    access: { table: 'read' },
    callsProvider: false,
  },
  {
    id: 'ApiClusters',
    entry: 'functions/api/clusters.ts',
    description: 'Capstan API: list, read, create, change and delete clusters',
    routes: [
      { method: 'GET', path: '/v1/clusters' },
      { method: 'GET', path: '/v1/clusters/{name}' },
      { method: 'PUT', path: '/v1/clusters/{name}' },
      { method: 'PATCH', path: '/v1/clusters/{name}' },
      { method: 'DELETE', path: '/v1/clusters/{name}' },
    ],
    access: { table: 'readWrite', startExecution: true },
    callsProvider: false,
  },
  {
    id: 'ApiApply',
    entry: 'functions/api/apply.ts',
    description: 'Capstan API: apply Cluster API manifests',
    routes: [{ method: 'POST', path: '/v1/apply' }],
    access: { table: 'readWrite', startExecution: true },
    callsProvider: false,
  },
  {
    id: 'ApiMachines',
    entry: 'functions/api/machines.ts',
    description: 'Capstan API: list the machines of a cluster',
    routes: [{ method: 'GET', path: '/v1/clusters/{name}/machines' }],
    access: { table: 'read' },
    callsProvider: false,
  },
  {
    id: 'ApiEvents',
    entry: 'functions/api/events.ts',
    description: 'Capstan API: list the events of a cluster',
    routes: [{ method: 'GET', path: '/v1/clusters/{name}/events' }],
    access: { table: 'read' },
    callsProvider: false,
  },
  {
    id: 'ApiCallbacks',
    entry: 'functions/api/callbacks.ts',
    description: 'Capstan API: a booted machine reports Ready (one-time machine token)',
    routes: [{ method: 'POST', path: '/v1/callbacks/{cluster}/{machine}/ready', public: true }],
    access: { table: 'readWrite', taskResponse: true, callbackSecret: true },
    callsProvider: false,
  },
  {
    id: 'ApiPrincipals',
    entry: 'functions/api/principals.ts',
    description: 'Capstan API: list, grant and revoke principals',
    routes: [
      { method: 'GET', path: '/v1/principals' },
      { method: 'PUT', path: '/v1/principals/{id}' },
      { method: 'DELETE', path: '/v1/principals/{id}' },
    ],
    access: { table: 'readWrite' },
    callsProvider: false,
  },
] as const satisfies readonly ApiFunctionSpec[];

const phaseAccess = { table: 'readWrite', assumeMemberRole: true } as const satisfies FunctionAccess;

/** Every workflow phase and the ASL placeholder its ARN fills. */
export const PHASE_FUNCTIONS = [
  { id: 'PhasePlan', entry: 'functions/phases/plan.ts', description: 'Capstan rollout: plan the next intents', substitution: 'PlanFunctionArn', timeoutSeconds: 240, access: phaseAccess, callsProvider: true },
  {
    id: 'PhaseCreateMachine',
    entry: 'functions/phases/create-machine.ts',
    description: 'Capstan rollout: create a machine and hand it its callback token',
    substitution: 'CreateMachineFunctionArn',
    timeoutSeconds: 240,
    access: { ...phaseAccess, callbackSecret: true, callbackUrl: true },
    callsProvider: true,
  },
  { id: 'PhaseMachineFailed', entry: 'functions/phases/machine-failed.ts', description: 'Capstan rollout: record a machine that failed to boot', substitution: 'MachineFailedFunctionArn', timeoutSeconds: 100, access: phaseAccess, callsProvider: false },
  { id: 'PhaseRetireMachine', entry: 'functions/phases/retire-machine.ts', description: 'Capstan rollout: cordon, drain and delete a machine', substitution: 'RetireMachineFunctionArn', timeoutSeconds: 840, access: phaseAccess, callsProvider: true },
  { id: 'PhaseDeleteMachine', entry: 'functions/phases/delete-machine.ts', description: 'Capstan rollout: delete a machine', substitution: 'DeleteMachineFunctionArn', timeoutSeconds: 240, access: phaseAccess, callsProvider: true },
  { id: 'PhaseEnsureInfrastructure', entry: 'functions/phases/ensure-infrastructure.ts', description: 'Capstan rollout: create the network and load balancer of a cluster', substitution: 'EnsureInfrastructureFunctionArn', timeoutSeconds: 840, access: phaseAccess, callsProvider: true },
  { id: 'PhaseDeleteInfrastructure', entry: 'functions/phases/delete-infrastructure.ts', description: 'Capstan rollout: delete the network and load balancer of a cluster', substitution: 'DeleteInfrastructureFunctionArn', timeoutSeconds: 840, access: phaseAccess, callsProvider: true },
  { id: 'PhaseDeleteCluster', entry: 'functions/phases/delete-cluster.ts', description: 'Capstan rollout: remove the cluster record', substitution: 'DeleteClusterFunctionArn', timeoutSeconds: 240, access: phaseAccess, callsProvider: false },
  {
    id: 'PhaseContinue',
    entry: 'functions/phases/continue.ts',
    description: 'Capstan rollout: hand the rollout to a fresh execution',
    substitution: 'ContinueFunctionArn',
    timeoutSeconds: 100,
    access: { ...phaseAccess, startExecution: true },
    callsProvider: false,
  },
  { id: 'PhaseRolloutFailed', entry: 'functions/phases/rollout-failed.ts', description: 'Capstan rollout: record a failed rollout', substitution: 'RolloutFailedFunctionArn', timeoutSeconds: 100, access: phaseAccess, callsProvider: false },
] as const satisfies readonly PhaseFunctionSpec[];

/** One function started by EventBridge rather than by the API or the workflow. */
export interface TriggeredFunctionSpec {
  readonly id: string;
  readonly entry: string;
  readonly description: string;
  /**
   * What starts it: `schedule`, an EventBridge schedule (locally the reconcile timer); `event`, a rule on the
   * `capstan-events` bus (locally the machine watch, infra/local/machine-watch.ts, which calls the same trigger).
   */
  readonly trigger: 'schedule' | 'event';
  readonly timeoutSeconds: number;
  readonly access: FunctionAccess;
  /** See {@link CatalogFunction.callsProvider}. */
  readonly callsProvider: boolean;
}

/** The scheduled sweep: finds clusters that drifted from their spec and starts their rollouts. */
export const SWEEP_FUNCTION = {
  id: 'ReconcileSweep',
  entry: 'functions/reconcile/sweep.ts',
  description: 'Capstan reconcile: periodic sweep of every cluster',
  trigger: 'schedule',
  timeoutSeconds: 300,
  // readWrite: the sweep records stuck-rollout conditions and orphan events.
  access: { table: 'readWrite', startExecution: true, assumeMemberRole: true },
  callsProvider: true,
} as const satisfies TriggeredFunctionSpec;

/**
 * The instance event handler: an EC2 instance of a member account changed state (forwarded to `capstan-events`);
 * it records the machine's new state and starts a rollout so that a lost machine is replaced.
 */
export const INSTANCE_EVENT_FUNCTION = {
  id: 'ReconcileInstanceEvent',
  entry: 'functions/reconcile/instance-event.ts',
  description: 'Capstan reconcile: EC2 instance state changes of member accounts',
  trigger: 'event',
  timeoutSeconds: 60,
  // assumeMemberRole: the instance is mapped to its cluster by listing the member account's tagged machines.
  access: { table: 'readWrite', startExecution: true, assumeMemberRole: true },
  callsProvider: true,
} as const satisfies TriggeredFunctionSpec;

/** Every function started by EventBridge: the sweep (schedule) and the instance event handler (event rule). */
export const TRIGGERED_FUNCTIONS = [SWEEP_FUNCTION, INSTANCE_EVENT_FUNCTION] as const satisfies readonly TriggeredFunctionSpec[];

/** The catalog ID (construct ID) of an API function. */
export type ApiFunctionId = (typeof API_FUNCTIONS)[number]['id'];
/** The catalog ID (construct ID) of a workflow phase function. */
export type PhaseFunctionId = (typeof PHASE_FUNCTIONS)[number]['id'];
/** The catalog ID (construct ID) of a scheduled or event-driven function. */
export type TriggeredFunctionId = (typeof TRIGGERED_FUNCTIONS)[number]['id'];
/** The catalog ID (construct ID) of any function. */
export type CatalogFunctionId = ApiFunctionId | PhaseFunctionId | TriggeredFunctionId;

/** What every catalog entry has, whichever way it is invoked. */
export interface CatalogFunction {
  readonly id: CatalogFunctionId;
  /** The handler file, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly access: FunctionAccess;
  /**
   * The function calls its cluster's provider (creates, observes or deletes machines and infrastructure), so its
   * bundle holds the providers (providers/aws-ec2/: the EC2, ELB, STS and Kubernetes clients). The others are bundled
   * without them (issue 16, cold starts) and fail with ProviderDisabledError if they ever use one.
   */
  readonly callsProvider: boolean;
}

/** Every function of the control plane: API, then workflow phases, then scheduled and event-driven. */
export const CATALOG_FUNCTIONS: readonly CatalogFunction[] = [...API_FUNCTIONS, ...PHASE_FUNCTIONS, ...TRIGGERED_FUNCTIONS];
