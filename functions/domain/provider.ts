/**
 * The provider contract: what Capstan needs from an infrastructure provider (`local`, `aws-ec2`, …).
 *
 * MUST / SHOULD rules (checked by test/providers/contract.ts, which every provider runs):
 *  P1 MUST: `createMachine` is idempotent on `request.name` within a cluster uid: calling it again (a retry, a crash
 *     and re-run) returns the machine already made and never creates a second one (EC2: ClientToken).
 *  P2 MUST: every machine carries its identity (cluster, clusterUid, machine name, pool, role) so that `listMachines`
 *     can return machines that no record knows (orphans).
 *  P3 MUST: `listMachines(scope)` returns every non-terminated machine in the scope in one logical call (it may page
 *     internally); its cost grows with the number of machines, not the number of clusters.
 *  P4 MUST: `deleteMachine` treats an already-gone machine as success.
 *  P5 MUST: errors are the named provider errors of functions/domain/errors.ts (throttled, unavailable, capacity,
 *     rejected) so the workflow can decide to retry or report.
 *  P6 MUST: the machine reports Ready by calling `bootstrap.callbackUrl` with `bootstrap.callbackToken` (a one-time,
 *     machine-scoped secret); a provider that cannot, sets `callsBack: false` and the workflow polls `listNodes`.
 *  P6a MUST: `listNodes(cluster)` returns the health of every registered node of the cluster, keyed by machine name,
 *     in one call (aws-ec2: one Kubernetes node LIST, no pod listing), and agrees with `getNode` machine by machine:
 *     a machine absent from the map has no registered node. The polling fallback of P6, the plan's health checks and
 *     the sweep call it once per cluster, never once per machine.
 *  P7 MUST: `ensureInfrastructure` / `deleteInfrastructure` are idempotent and converge; deletion reports `done: false`
 *     until everything is gone, in dependency order.
 *  P8 SHOULD: `cordon` and `drain` are idempotent; `drain` evicts respecting disruption budgets and reports what
 *     blocks it rather than waiting longer than `timeoutSeconds`.
 *  P9 MUST NOT: log or return secrets (callback tokens, join tokens, credentials).
 */
import type { ClusterSpec, MachineTemplate } from './cluster.js';
import type { MachineRole } from './machine.js';

/** Where a cluster's machines live: the unit of one sweep list call. */
export interface ProviderScope {
  readonly provider: 'local' | 'aws';
  /** AWS account id, or `local`. */
  readonly account: string;
  /** AWS region, or `local`. */
  readonly region: string;
  /** Role to assume in the member account (aws only). */
  readonly roleArn?: string;
}

export interface ClusterRef {
  readonly name: string;
  readonly uid: string;
  readonly scope: ProviderScope;
}

export interface BootstrapConfig {
  /** Where the machine POSTs when its node is Ready. */
  readonly callbackUrl: string;
  /** One-time, machine-scoped secret. MUST NOT be logged. */
  readonly callbackToken: string;
  /** Rendered bootstrap data (cloud-init for aws-ec2); the local provider ignores it. */
  readonly userData?: string;
}

export interface CreateMachineRequest {
  readonly cluster: ClusterRef;
  readonly name: string;
  readonly role: MachineRole;
  readonly pool: string;
  readonly version: string;
  readonly template: MachineTemplate;
  readonly failureDomain?: string;
  readonly bootstrap: BootstrapConfig;
  /** Cluster spec for providers that need more (subnets, tags, kubeadm). */
  readonly spec: ClusterSpec;
}

export type ProviderMachineState = 'pending' | 'running' | 'stopping' | 'terminated';

/** A machine as the provider sees it. */
export interface ProviderMachine {
  readonly name: string;
  readonly cluster: string;
  readonly clusterUid: string;
  readonly pool: string;
  readonly role: MachineRole;
  readonly providerId: string;
  readonly state: ProviderMachineState;
  readonly failureDomain?: string;
  readonly address?: string;
  readonly launchedAt: string;
}

/** What health checks need of a node: one entry of `listNodes` (P6a). */
export interface NodeHealth {
  /** Kubernetes node Ready condition. */
  readonly ready: boolean;
  /** `spec.unschedulable`. */
  readonly cordoned: boolean;
}

/** One node in full: what drain decisions need on top of its health. */
export interface NodeStatus extends NodeHealth {
  /** Pods still on the node that a drain must move. */
  readonly pods: number;
}

export interface DrainResult {
  /** Every evictable pod is gone. */
  readonly done: boolean;
  /** What blocks the drain (pod and disruption budget), when not done. */
  readonly blockedBy?: readonly { readonly pod: string; readonly reason: string }[];
}

export interface InfrastructureStatus {
  readonly ready: boolean;
  /** API server endpoint (load balancer DNS name, or a local address). */
  readonly controlPlaneEndpoint?: string;
  /** Failure domains actually available (e.g. AZs with subnets). */
  readonly failureDomains?: readonly string[];
}

export interface MachineProvider {
  readonly name: 'local' | 'aws';
  /** Whether machines call back when Ready (P6). */
  readonly callsBack: boolean;

  ensureInfrastructure(cluster: ClusterRef, spec: ClusterSpec): Promise<InfrastructureStatus>;
  deleteInfrastructure(cluster: ClusterRef, spec: ClusterSpec): Promise<{ readonly done: boolean }>;

  createMachine(request: CreateMachineRequest): Promise<ProviderMachine>;
  /** Every machine in the scope, optionally narrowed to one cluster (by tag filter, still one call set). */
  listMachines(scope: ProviderScope, filter?: { readonly cluster?: string }): Promise<ProviderMachine[]>;
  deleteMachine(scope: ProviderScope, machine: Pick<ProviderMachine, 'name' | 'providerId' | 'cluster'>): Promise<void>;

  /** Node view of a machine; undefined when the node never registered. */
  getNode(cluster: ClusterRef, machineName: string): Promise<NodeStatus | undefined>;
  /**
   * Health of every registered node of the cluster by machine name (= node name), in one call (P6a). A machine
   * absent from the map has no registered node, as when `getNode` returns undefined.
   */
  listNodes(cluster: ClusterRef): Promise<ReadonlyMap<string, NodeHealth>>;
  cordon(cluster: ClusterRef, machineName: string): Promise<void>;
  drain(cluster: ClusterRef, machineName: string, options: { readonly timeoutSeconds: number; readonly force: boolean }): Promise<DrainResult>;
}

/** Tag keys every provider uses for machine identity (P2). */
export const TAGS = {
  managed: 'capstan.dev/managed',
  cluster: 'capstan.dev/cluster',
  clusterUid: 'capstan.dev/cluster-uid',
  machine: 'capstan.dev/machine',
  pool: 'capstan.dev/pool',
  role: 'capstan.dev/role',
} as const;
