/**
 * The control plane's functions as data: which handler file serves which routes or workflow state, and what each may
 * touch. The L3 construct turns this into functions, API methods, ASL substitutions and grants; tests read it to
 * check that every public route, substitution and permission is intended.
 *
 * Note: the `id`s are construct IDs, which are API: renaming one replaces the function (and its log group).
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
}

/** Every API route group and its handler. */
export const API_FUNCTIONS = [
  {
    id: 'ApiHealthz',
    entry: 'functions/api/healthz.ts',
    description: 'Capstan API: liveness and store reachability',
    routes: [{ method: 'GET', path: '/healthz', public: true }],
    access: { table: 'read' },
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
  },
  {
    id: 'ApiApply',
    entry: 'functions/api/apply.ts',
    description: 'Capstan API: apply Cluster API manifests',
    routes: [{ method: 'POST', path: '/v1/apply' }],
    access: { table: 'readWrite', startExecution: true },
  },
  {
    id: 'ApiMachines',
    entry: 'functions/api/machines.ts',
    description: 'Capstan API: list the machines of a cluster',
    routes: [{ method: 'GET', path: '/v1/clusters/{name}/machines' }],
    access: { table: 'read' },
  },
  {
    id: 'ApiEvents',
    entry: 'functions/api/events.ts',
    description: 'Capstan API: list the events of a cluster',
    routes: [{ method: 'GET', path: '/v1/clusters/{name}/events' }],
    access: { table: 'read' },
  },
  {
    id: 'ApiCallbacks',
    entry: 'functions/api/callbacks.ts',
    description: 'Capstan API: a booted machine reports Ready (one-time machine token)',
    routes: [{ method: 'POST', path: '/v1/callbacks/{cluster}/{machine}/ready', public: true }],
    access: { table: 'readWrite', taskResponse: true, callbackSecret: true },
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
  },
] as const satisfies readonly ApiFunctionSpec[];

const phaseAccess = { table: 'readWrite', assumeMemberRole: true } as const satisfies FunctionAccess;

/** Every workflow phase and the ASL placeholder its ARN fills. */
export const PHASE_FUNCTIONS = [
  { id: 'PhasePlan', entry: 'functions/phases/plan.ts', description: 'Capstan rollout: plan the next intents', substitution: 'PlanFunctionArn', timeoutSeconds: 240, access: phaseAccess },
  {
    id: 'PhaseCreateMachine',
    entry: 'functions/phases/create-machine.ts',
    description: 'Capstan rollout: create a machine and hand it its callback token',
    substitution: 'CreateMachineFunctionArn',
    timeoutSeconds: 240,
    access: { ...phaseAccess, callbackSecret: true, callbackUrl: true },
  },
  { id: 'PhaseMachineFailed', entry: 'functions/phases/machine-failed.ts', description: 'Capstan rollout: record a machine that failed to boot', substitution: 'MachineFailedFunctionArn', timeoutSeconds: 100, access: phaseAccess },
  { id: 'PhaseRetireMachine', entry: 'functions/phases/retire-machine.ts', description: 'Capstan rollout: cordon, drain and delete a machine', substitution: 'RetireMachineFunctionArn', timeoutSeconds: 840, access: phaseAccess },
  { id: 'PhaseDeleteMachine', entry: 'functions/phases/delete-machine.ts', description: 'Capstan rollout: delete a machine', substitution: 'DeleteMachineFunctionArn', timeoutSeconds: 240, access: phaseAccess },
  { id: 'PhaseEnsureInfrastructure', entry: 'functions/phases/ensure-infrastructure.ts', description: 'Capstan rollout: create the network and load balancer of a cluster', substitution: 'EnsureInfrastructureFunctionArn', timeoutSeconds: 840, access: phaseAccess },
  { id: 'PhaseDeleteInfrastructure', entry: 'functions/phases/delete-infrastructure.ts', description: 'Capstan rollout: delete the network and load balancer of a cluster', substitution: 'DeleteInfrastructureFunctionArn', timeoutSeconds: 840, access: phaseAccess },
  { id: 'PhaseDeleteCluster', entry: 'functions/phases/delete-cluster.ts', description: 'Capstan rollout: remove the cluster record', substitution: 'DeleteClusterFunctionArn', timeoutSeconds: 240, access: phaseAccess },
  {
    id: 'PhaseContinue',
    entry: 'functions/phases/continue.ts',
    description: 'Capstan rollout: hand the rollout to a fresh execution',
    substitution: 'ContinueFunctionArn',
    timeoutSeconds: 100,
    access: { ...phaseAccess, startExecution: true },
  },
  { id: 'PhaseRolloutFailed', entry: 'functions/phases/rollout-failed.ts', description: 'Capstan rollout: record a failed rollout', substitution: 'RolloutFailedFunctionArn', timeoutSeconds: 100, access: phaseAccess },
] as const satisfies readonly PhaseFunctionSpec[];

/** The scheduled sweep: finds clusters that drifted from their spec and starts their rollouts. */
export const SWEEP_FUNCTION = {
  id: 'ReconcileSweep',
  entry: 'functions/reconcile/sweep.ts',
  description: 'Capstan reconcile: periodic sweep of every cluster',
  timeoutSeconds: 300,
  // readWrite: the sweep records stuck-rollout conditions and orphan events.
  access: { table: 'readWrite', startExecution: true, assumeMemberRole: true },
} as const;

/**
 * The instance event handler: an EC2 instance of a member account changed state (forwarded to `capstan-events`);
 * it records the machine's new state and starts a rollout so that a lost machine is replaced.
 */
export const INSTANCE_EVENT_FUNCTION = {
  id: 'ReconcileInstanceEvent',
  entry: 'functions/reconcile/instance-event.ts',
  description: 'Capstan reconcile: EC2 instance state changes of member accounts',
  timeoutSeconds: 60,
  // assumeMemberRole: the instance is mapped to its cluster by listing the member account's tagged machines.
  access: { table: 'readWrite', startExecution: true, assumeMemberRole: true },
} as const;

/** The name of the event bus member accounts forward their EC2 instance events to. */
export const EVENT_BUS_NAME = 'capstan-events';

/** The IAM path of the execution roles that act in member accounts; member roles trust exactly this path. */
export const WORKFLOW_ROLE_PATH = '/capstan/workflow/';

/** The default name of the role Capstan assumes in member accounts. */
export const DEFAULT_MEMBER_ROLE_NAME = 'CapstanMemberRole';

/** The tag marking resources Capstan created and may change or delete: `capstan.dev/managed=true`. */
export const MANAGED_TAG = { key: 'capstan.dev/managed', value: 'true' } as const;
