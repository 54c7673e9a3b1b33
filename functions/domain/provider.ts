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
 *     the sweep call it once per cluster, never once per machine. A node whose kubelet stopped reporting (a hung
 *     machine) keeps its last reported health for the node-monitor grace period, then reads `ready: false,
 *     readyStatus: 'Unknown'` (Kubernetes' node lifecycle controller): once the grace period is over it is never left out.
 *  P7 MUST: `ensureInfrastructure` / `deleteInfrastructure` are idempotent and converge; deletion reports `done: false`
 *     until everything is gone, in dependency order.
 *  P8 SHOULD: `cordon` and `drain` are idempotent; `drain` evicts respecting disruption budgets and reports what
 *     blocks it rather than waiting longer than `timeoutSeconds`.
 *  P9 MUST NOT: log or return secrets (callback tokens, join tokens, credentials).
 *  P10 MUST: every control-plane machine runs one etcd member named after the machine (kubeadm's stacked etcd: member
 *     name = node name); `listEtcdMembers(cluster)` returns the members as a live member reports them, each with its
 *     health (answers on its client URL), learner and leader flags, and — for a member added but not yet started,
 *     which has no name — the machine the provider attributes it to, when it can. [] when no control plane has a
 *     member yet; ProviderUnavailableError when members exist but none answers.
 *  P11 MUST: `removeControlPlaneMember(cluster, machine)` is what Cluster API's KubeadmControlPlane does before a
 *     control-plane machine goes (reconcilers/kubeadmcontrolplane/scale.go, ForwardEtcdLeadership; the kcp-cleanup
 *     pre-terminate hook, RemoveEtcdMember): if the machine's member leads, move leadership to a healthy voting member
 *     first, then remove the member. An absent member is success (`removed: false`). It refuses with
 *     ProviderUnavailableError (the workflow retries) when the remaining healthy voting members would be fewer than
 *     the quorum of the remaining voting members, and never removes the last member (functions/domain/etcd.ts).
 *     `removeEtcdMember(cluster, id)` does the same for a member no machine explains (reconcile, see
 *     `strayEtcdMembers`). Both are safe to re-run.
 *  P12 MUST: `deleteNode(cluster, machine)` deletes the machine's Node object; an absent Node (or a cluster without
 *     an API) is success. Capstan calls it after the machine's infrastructure is gone, as the Cluster API Machine
 *     controller does (core/reconcilers/machine/machine_controller.go: "We only delete the node after the
 *     underlying infrastructure is gone", kubernetes-sigs/cluster-api#2565).
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

/** Status of a node's Ready condition, as Kubernetes writes it. */
export type NodeReadyStatus = 'True' | 'False' | 'Unknown';

/** What health checks need of a node: one entry of `listNodes` (P6a). */
export interface NodeHealth {
  /** Kubernetes node Ready condition is True (false for False and for Unknown). */
  readonly ready: boolean;
  /**
   * The Ready condition's status when the provider knows more than `ready`: `Unknown` when the node's kubelet stopped
   * reporting for longer than the node-monitor grace period (the node controller's rule). Health checks treat Unknown
   * as False (Cluster API MHC: an unhealthyCondition `{type: Ready, status: Unknown}`).
   * @default 'True' when `ready`, else 'False'
   */
  readonly readyStatus?: NodeReadyStatus;
  /** `spec.unschedulable`. */
  readonly cordoned: boolean;
}

/** The Ready condition status of a node entry (`readyStatus`, or what `ready` implies). */
export function nodeReadyStatus(node: NodeHealth): NodeReadyStatus {
  return node.readyStatus ?? (node.ready ? 'True' : 'False');
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

/** One etcd member of a cluster's stacked etcd (P10). */
export interface EtcdMember {
  /** Member id as etcd prints it (hex, e.g. `8e9e05c52164694d`). */
  readonly id: string;
  /** Member name = node name = machine name; '' while the member was added but has not started. */
  readonly name: string;
  readonly peerUrls: readonly string[];
  /** A learner (`member add --learner`) does not vote until promoted. */
  readonly learner: boolean;
  readonly leader: boolean;
  /** The member answered a health check on its client URL. */
  readonly healthy: boolean;
  /** The machine the provider attributes the member to when it has no name yet (P10). */
  readonly machine?: string;
}

/** What a member removal did (P11). */
export interface EtcdMemberRemoval {
  /** Whether this call removed the member (false: it was already absent). */
  readonly removed: boolean;
  /** Whether leadership was moved off the member first. */
  readonly leadershipMoved: boolean;
  /** The members left, as names (an unstarted member as `(unstarted <peer URL>)`). */
  readonly members: readonly string[];
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

  /** The cluster's etcd members with their health (P10). */
  listEtcdMembers(cluster: ClusterRef): Promise<readonly EtcdMember[]>;
  /** Moves leadership off the machine's member if it leads, then removes the member (P11). */
  removeControlPlaneMember(cluster: ClusterRef, machineName: string): Promise<EtcdMemberRemoval>;
  /** Removes a member by id with the same quorum check (P11): members that no machine explains. */
  removeEtcdMember(cluster: ClusterRef, memberId: string): Promise<EtcdMemberRemoval>;
  /** Deletes the machine's Node; absent = success (P12). */
  deleteNode(cluster: ClusterRef, machineName: string): Promise<void>;
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

/** EventBridge's detail-type of EC2 instance state changes (what member accounts forward, infra/stacks/member-stack.ts). */
export const INSTANCE_STATE_CHANGE = 'EC2 Instance State-change Notification' as const;

/** Instance states that mean the machine is lost (a `pending`/`running` event changes nothing, and is not forwarded). */
export const LOST_STATES = ['stopping', 'stopped', 'shutting-down', 'terminated'] as const;
