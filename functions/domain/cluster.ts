/**
 * The Cluster resource: what users send (`spec`) and what Capstan reports (`status`).
 *
 * These are the types of a *validated, defaulted* resource. Raw input is `unknown` until
 * `parseClusterDocument` (functions/domain/spec/) turns it into a `ClusterDocument` or throws a ValidationError.
 */

export const API_VERSION = 'capstan.dev/v1alpha1' as const;
export const CLUSTER_KIND = 'Cluster' as const;

/** Reserved pool name of the control plane; a worker pool may not use it. */
export const CONTROL_PLANE_POOL = 'control-plane' as const;

/** An int, or a percentage string such as `"25%"` (Kubernetes IntOrString). */
export type IntOrPercent = number | string;

export const PROVIDERS = ['local', 'aws'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export interface LocalInfrastructure {
  readonly provider: 'local';
}

export interface AwsInfrastructure {
  readonly provider: 'aws';
  /** 12-digit member account id the cluster lives in. */
  readonly account: string;
  readonly region: string;
  /** Role Capstan assumes in the member account. @default arn:aws:iam::<account>:role/CapstanMemberRole */
  readonly roleArn?: string;
  readonly sshKeyName?: string;
  /** Bring-your-own VPC; when absent Capstan creates one. */
  readonly vpcId?: string;
  readonly subnetIds?: readonly string[];
  /** Extra tags on every resource Capstan creates. */
  readonly tags?: Readonly<Record<string, string>>;
}

export type Infrastructure = LocalInfrastructure | AwsInfrastructure;

export interface MachineTemplate {
  /** EC2 instance type (the local provider records it). */
  readonly instanceType: string;
  /** AMI id; when absent the provider looks one up by Kubernetes version. */
  readonly imageId?: string;
  readonly rootVolumeSizeGiB?: number;
}

export const ROLLOUT_STRATEGIES = ['RollingUpdate', 'OnDelete'] as const;
export type RolloutStrategy = (typeof ROLLOUT_STRATEGIES)[number];

export const DELETION_ORDERS = ['Random', 'Oldest', 'Newest'] as const;
export type DeletionOrder = (typeof DELETION_ORDERS)[number];

export interface ControlPlaneRollout {
  /** 0 (remove first, then add) or 1 (add first). @default 1 */
  readonly maxSurge: 0 | 1;
  /** RFC 3339 timestamp: machines created before it are outdated (`capstan rollout restart`). */
  readonly after?: string;
}

/**
 * Access to the API server through its load balancer (6443). The load balancer's security group admits only the
 * sources Capstan needs — the cluster's own NAT gateway addresses (nodes), the VPC, and Capstan's management egress
 * CIDRs (its Lambdas drain nodes and check health through this endpoint) — plus `allowedCidrs`. See docs/deploy.md.
 */
export interface ControlPlaneEndpointSpec {
  /** `internal` puts the load balancer in the private subnets (reachable only from the VPC and what is routed to it). @default internet-facing */
  readonly scheme: 'internet-facing' | 'internal';
  /** IPv4 CIDRs of operators and tools that may call the API server, at most 50, unique. @default [] (only Capstan's own sources) */
  readonly allowedCidrs: readonly string[];
}

export interface ControlPlaneSpec {
  /** Odd: 1, 3, 5 or 7. @default 3 */
  readonly replicas: number;
  readonly machine: MachineTemplate;
  readonly rollout: ControlPlaneRollout;
  /** Who may reach the API server. @default absent: internet-facing, only Capstan's own sources */
  readonly endpoint?: ControlPlaneEndpointSpec;
}

export interface WorkerRollout {
  /** @default RollingUpdate */
  readonly strategy: RolloutStrategy;
  /** @default 1 */
  readonly maxSurge: IntOrPercent;
  /** @default 0 */
  readonly maxUnavailable: IntOrPercent;
  /** RFC 3339 timestamp: machines created before it are outdated. */
  readonly after?: string;
  /** Which machines go first on scale-down. @default Random */
  readonly deletionOrder: DeletionOrder;
}

export interface WorkerPoolSpec {
  /** DNS-1123 label, unique in the cluster, not `control-plane`. */
  readonly name: string;
  /** 0..1000. @default 1 */
  readonly replicas: number;
  /** Bounds enforced on replicas changes (e.g. by an autoscaler through PATCH). */
  readonly minReplicas?: number;
  readonly maxReplicas?: number;
  /**
   * Kubernetes version of this pool. Not materialized when omitted: the pool then follows `spec.version`, so an
   * upgrade is ONE field change. Never newer than the control plane, at most 3 minors older.
   * @default spec.version
   */
  readonly version?: string;
  readonly machine: MachineTemplate;
  readonly rollout: WorkerRollout;
  /** Failure domains (availability zones) of this pool. @default spec.failureDomains */
  readonly failureDomains?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
}

export interface NetworkSpec {
  /** @default 192.168.0.0/16 */
  readonly podCidr: string;
  /** @default 10.96.0.0/12 */
  readonly serviceCidr: string;
  /** VPC CIDR on AWS. @default 10.0.0.0/16 */
  readonly vpcCidr?: string;
  /**
   * The pod network (CNI) the first control-plane machine installs, as an https manifest URL applied with kubectl,
   * or `none` when the user installs one (e.g. in `kubeadm.postKubeadmCommands`). Nodes are not Ready without one.
   * @default Calico's manifest (it reads the pod CIDR from kubeadm's configuration), filled in by validation
   */
  readonly cni?: string;
}

/**
 * A duration in canonical form: `30s`, `10m`, `1h`, `1h30m` (input may also be `90s`, `1.5h` is not allowed, or an
 * integer number of seconds; validation normalizes to the canonical string). Use `durationSeconds()` to read one.
 */
export type Duration = string;

export interface HealthCheckSpec {
  /** How long a new machine may take to become Ready. @default "10m" */
  readonly nodeStartupTimeout: Duration;
  /** How long a node may be NotReady before its machine is unhealthy. @default "5m" */
  readonly unhealthyTimeout: Duration;
  /** Remediation stops when more than this many (or this share) of a pool is unhealthy. @default "40%" */
  readonly maxUnhealthy: IntOrPercent;
}

export const DRAIN_POLICIES = ['Wait', 'Force'] as const;
export type DrainPolicy = (typeof DRAIN_POLICIES)[number];

export interface DrainSpec {
  /** @default "10m" */
  readonly timeout: Duration;
  /** What to do when the drain times out: keep waiting (and report) or delete anyway. @default Wait */
  readonly policy: DrainPolicy;
}

/** Kubeadm settings carried over from a KubeadmControlPlane/KubeadmConfigTemplate import. */
export interface KubeadmSpec {
  readonly clusterConfiguration?: Readonly<Record<string, unknown>>;
  readonly initConfiguration?: Readonly<Record<string, unknown>>;
  readonly joinConfiguration?: Readonly<Record<string, unknown>>;
  readonly files?: readonly Readonly<Record<string, unknown>>[];
  readonly preKubeadmCommands?: readonly string[];
  readonly postKubeadmCommands?: readonly string[];
}

export interface ClusterSpec {
  readonly infrastructure: Infrastructure;
  /** Control-plane Kubernetes version `vX.Y.Z`. */
  readonly version: string;
  readonly network: NetworkSpec;
  /** Failure domains (availability zones); machines are spread evenly over them. @default [] (one implicit domain) */
  readonly failureDomains: readonly string[];
  readonly controlPlane: ControlPlaneSpec;
  /** @default [] */
  readonly workers: readonly WorkerPoolSpec[];
  readonly healthCheck: HealthCheckSpec;
  readonly drain: DrainSpec;
  /** Stops rollout progress at the next step boundary. @default false */
  readonly paused: boolean;
  readonly kubeadm?: KubeadmSpec;
}

export interface ClusterMetadata {
  /** DNS-1123 label, at most 40 characters. */
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Assigned by Capstan. */
  readonly uid: string;
  /** Incremented on every spec change. */
  readonly generation: number;
  /** Opaque optimistic-concurrency token (use with If-Match). */
  readonly resourceVersion: string;
  readonly creationTimestamp: string;
  readonly deletionTimestamp?: string;
}

export const CLUSTER_PHASES = ['Provisioning', 'Ready', 'Updating', 'Deleting', 'Failed'] as const;
export type ClusterPhase = (typeof CLUSTER_PHASES)[number];

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** A Cluster API style condition: derived from what is observed, never accumulated. */
export interface Condition {
  readonly type: string;
  readonly status: ConditionStatus;
  /** PascalCase constant. */
  readonly reason?: string;
  readonly message?: string;
  readonly lastTransitionTime: string;
}

export interface PoolStatus {
  readonly name: string;
  readonly version: string;
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly updatedReplicas: number;
  readonly unavailableReplicas?: number;
  /**
   * Fingerprint of the names of the pool's live machine records (`machineNamesHash` in status.ts), derived with the
   * counts. The sweep compares it with the names the provider lists, so a lost machine and an unknown one in the
   * same pool do not cancel out as counts do. Absent on records written before it existed (counts only then).
   */
  readonly machineNamesHash?: string;
}

export interface ClusterStatus {
  readonly phase: ClusterPhase;
  readonly observedGeneration: number;
  readonly controlPlane: PoolStatus;
  readonly workers: readonly PoolStatus[];
  readonly conditions: readonly Condition[];
  /** Endpoint of the workload cluster's API server, once known. */
  readonly controlPlaneEndpoint?: string;
  /** Name of the workflow execution currently converging this cluster. */
  readonly activeRollout?: string;
  readonly lastUpdated?: string;
}

/** What the user sends, after validation and defaulting, before Capstan assigns metadata. */
export interface ClusterDocument {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: typeof CLUSTER_KIND;
  readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>>; readonly annotations?: Readonly<Record<string, string>> };
  readonly spec: ClusterSpec;
}

/** The stored, served resource. */
export interface Cluster {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: typeof CLUSTER_KIND;
  readonly metadata: ClusterMetadata;
  readonly spec: ClusterSpec;
  readonly status: ClusterStatus;
}

/** The tenant key of a cluster: which account its machines live in (`local` for the local provider). */
export function clusterAccount(spec: Pick<ClusterSpec, 'infrastructure'>): string {
  return spec.infrastructure.provider === 'aws' ? spec.infrastructure.account : 'local';
}

/** The region of a cluster (`local` for the local provider). */
export function clusterRegion(spec: Pick<ClusterSpec, 'infrastructure'>): string {
  return spec.infrastructure.provider === 'aws' ? spec.infrastructure.region : 'local';
}

/**
 * The provider scope of a cluster: its provider, account and region, and the member role that reaches them (aws,
 * when set). Why here: one sweep list call covers a scope, so the sweep's scope keys and the phases' provider
 * references must be the same value; both derive it from the spec with this one function.
 * Note: the result is a `ProviderScope` (provider.ts), spelled out because provider.ts imports this module.
 */
export function clusterScope(spec: Pick<ClusterSpec, 'infrastructure'>): { readonly provider: ProviderName; readonly account: string; readonly region: string; readonly roleArn?: string } {
  const infra = spec.infrastructure;
  return {
    provider: infra.provider,
    account: clusterAccount(spec),
    region: clusterRegion(spec),
    ...(infra.provider === 'aws' && infra.roleArn ? { roleArn: infra.roleArn } : {}),
  };
}
