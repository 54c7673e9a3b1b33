/**
 * Ports: the interfaces the domain and the handlers need from the outside world. Adapters implement them
 * (functions/adapters/ for DynamoDB and Step Functions; infra/local/ for the embedded hosting).
 */
import type { Cluster } from './cluster.js';
import type { ClusterEvent, Machine, NewEvent } from './machine.js';
import type { ProviderScope } from './provider.js';

/** Time, passed in so that the domain never reads the clock itself. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface Page<T> {
  readonly items: T[];
  /** Opaque cursor of the next page; absent on the last page. */
  readonly next?: string;
}

/** Who is calling the API, and which accounts they may act on. */
export interface Principal {
  /** IAM ARN on AWS, `local:<name>` locally. */
  readonly id: string;
  /** Accounts this principal may act on (`local` for the local provider); `*` = all. */
  readonly accounts: readonly string[];
  /** May manage principals. */
  readonly admin: boolean;
}

/** A cluster lease: at most one rollout execution converges a cluster at a time. */
export interface Lease {
  readonly cluster: string;
  readonly holder: string;
  readonly expiresAt: string;
}

/**
 * An account-region of one provider that has had clusters: the unit the sweep lists provider machines in.
 *
 * `roleArn` is the member role of the cluster that registered the scope (aws only): the sweep uses it only when no
 * cluster of the scope is left to name a role (an empty scope is still listed, to find its orphans).
 */
export type ProviderScopeKey = Pick<ProviderScope, 'provider' | 'account' | 'region' | 'roleArn'>;

/**
 * The single-table store. Every write that can race is conditional:
 * - clusters on `metadata.resourceVersion` (PreconditionFailedError when stale, ConflictError on create of an existing name);
 * - machines on `recordVersion` (StoreConflictError when stale; `putMachine` of a new name fails if it exists);
 * - events by deterministic id (appending an id that exists is a no-op returning the stored event) and gap-free `seq`.
 * No method needs DynamoDB transactions.
 */
export interface Store {
  getCluster(name: string): Promise<Cluster | undefined>;
  /** All clusters, optionally only those in the given accounts, ordered by name. */
  listClusters(options?: { readonly accounts?: readonly string[]; readonly limit?: number; readonly cursor?: string }): Promise<Page<Cluster>>;
  /** Clusters of one account-region of one provider (the sweep), paginated. */
  listClustersByScope(scope: { readonly provider: string; readonly account: string; readonly region: string }, options?: { readonly limit?: number; readonly cursor?: string }): Promise<Page<Cluster>>;
  /**
   * Every registered scope (the scope registry), ordered by provider, account, region; paginated internally.
   * `createCluster` registers its cluster's scope; scopes are never removed automatically (see docs/store.md).
   *
   * Note: optional only so that test doubles written before the registry still type-check; the sweep falls back to
   * deriving scopes from `listClusters` when a store lacks it. Every real store implements it.
   */
  listScopes?(): Promise<ProviderScopeKey[]>;
  /** Registers a scope if absent (idempotent; the first registration's role is kept). The sweep's backfill path. */
  registerScope?(scope: ProviderScopeKey): Promise<void>;
  /**
   * Creates; ConflictError if the name exists. Returns the stored resource (resourceVersion assigned). Registers the
   * cluster's scope before the record is written.
   */
  createCluster(cluster: Cluster): Promise<Cluster>;
  /** Replaces when the stored resourceVersion equals `expectedResourceVersion`; else PreconditionFailedError. */
  updateCluster(cluster: Cluster, expectedResourceVersion: string): Promise<Cluster>;
  /** Removes the cluster record and everything under it (machines, events, lease). Conditional on resourceVersion. */
  deleteCluster(name: string, expectedResourceVersion: string): Promise<void>;

  getMachine(cluster: string, name: string): Promise<Machine | undefined>;
  /** Machines of a cluster; deleted ones only with includeDeleted. */
  listMachines(cluster: string, options?: { readonly includeDeleted?: boolean }): Promise<Machine[]>;
  /** Removes machine records (idempotent: a missing one is no error). Only for Deleted records being archived. */
  deleteMachines(cluster: string, names: readonly string[]): Promise<void>;
  /** Creates (expectedRecordVersion undefined: must not exist) or updates (must match); returns it with recordVersion+1. */
  putMachine(machine: Machine, expectedRecordVersion?: number): Promise<Machine>;

  /** Appends in order; idempotent per event id; returns the stored events (with seq). */
  appendEvents(cluster: string, events: readonly NewEvent[]): Promise<ClusterEvent[]>;
  /** Events with seq > after, in order. */
  listEvents(cluster: string, options?: { readonly after?: number; readonly limit?: number }): Promise<Page<ClusterEvent>>;

  /** Takes or renews the cluster's lease; false when another live holder has it. */
  acquireLease(cluster: string, holder: string, ttlSeconds: number, now: Date): Promise<boolean>;
  releaseLease(cluster: string, holder: string): Promise<void>;
  getLease(cluster: string): Promise<Lease | undefined>;

  getPrincipal(id: string): Promise<Principal | undefined>;
  putPrincipal(principal: Principal): Promise<void>;
  listPrincipals(): Promise<Principal[]>;
  deletePrincipal(id: string): Promise<void>;
}

/** Starts and signals rollout workflows (Step Functions on AWS, the ASL interpreter locally). */
export interface Workflow {
  /**
   * Starts a rollout execution for the cluster unless one is running (the running one picks the change up at its
   * next plan step). Idempotent per (cluster, generation, reason).
   */
  startRollout(request: { readonly cluster: string; readonly generation: number; readonly reason: string }): Promise<{ readonly executionName: string; readonly started: boolean }>;
  /** Completes a `.waitForTaskToken` task. */
  sendTaskSuccess(taskToken: string, output: unknown): Promise<void>;
  sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void>;
}
