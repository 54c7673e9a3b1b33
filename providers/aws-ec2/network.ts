/**
 * Pure pieces of the EC2 cluster network: names, tags, subnet CIDR carving and security group rules.
 * Kept apart from the SDK calls (infrastructure.ts and the vpc.ts, security-groups.ts, api-load-balancer.ts, network-*.ts files beside it) so they are testable as plain tables.
 */
import { createHash } from 'node:crypto';
import type { ClusterRef } from '../../functions/domain/provider.js';
import { TAGS } from '../../functions/domain/provider.js';

/** Tag naming which piece of the cluster network a resource is (found again by it). */
export const COMPONENT_TAG = 'capstan.dev/component';

/** Who may read a cluster secret: the tag the machine roles' policies match (infra/stacks/member-stack.ts). */
export const SECRET_AUDIENCE_TAG = 'capstan.dev/secret-audience';
/** The cluster's VPC on its secrets: the machine roles' policies compare it with `aws:ec2InstanceSourceVPC`. */
export const SECRET_VPC_TAG = 'capstan.dev/vpc-id';
/** The audience of each cluster secret (cluster-secrets.ts): `worker` is read by every machine. */
export const SECRET_AUDIENCES = { join: 'worker', controlPlane: 'control-plane', kubeconfig: 'capstan' } as const;

/** Values of `COMPONENT_TAG`. */
export const COMPONENTS = {
  vpc: 'vpc',
  publicSubnet: 'public-subnet',
  privateSubnet: 'private-subnet',
  internetGateway: 'internet-gateway',
  natEip: 'nat-eip',
  natGateway: 'nat-gateway',
  publicRouteTable: 'public-route-table',
  privateRouteTable: 'private-route-table',
  controlPlaneSecurityGroup: 'control-plane-sg',
  nodeSecurityGroup: 'node-sg',
  apiLoadBalancerSecurityGroup: 'api-lb-sg',
  apiLoadBalancer: 'api-load-balancer',
  apiTargetGroup: 'api-target-group',
  secret: 'secret',
} as const;

/** The API server port on the control-plane machines and the load balancer. */
export const API_SERVER_PORT = 6443;

/** @default VPC CIDR when spec.network.vpcCidr is absent. */
export const DEFAULT_VPC_CIDR = '10.0.0.0/16';

/** Short stable hash of a cluster uid, used where AWS names are short (load balancers: 32 chars). */
export function uidHash(uid: string, length = 12): string {
  return createHash('sha256').update(uid).digest('hex').slice(0, length);
}

/** Name of the API server NLB: `capstan-<hash12>-api` (24 chars, unique per cluster uid). */
export function loadBalancerName(uid: string): string {
  return `capstan-${uidHash(uid)}-api`;
}

/** Name of the control-plane target group: `capstan-<hash12>-cp`. */
export function targetGroupName(uid: string): string {
  return `capstan-${uidHash(uid)}-cp`;
}

/**
 * Tags of every resource Capstan creates for a cluster: identity, the component, user tags, and the Kubernetes
 * cluster ownership tag cloud controllers look for. Identity tags win over user tags of the same key.
 */
export function resourceTags(
  cluster: Pick<ClusterRef, 'name' | 'uid'>,
  userTags: Readonly<Record<string, string>> | undefined,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    ...(userTags ?? {}),
    [`kubernetes.io/cluster/${cluster.name}`]: 'owned',
    ...extra,
    [TAGS.managed]: 'true',
    [TAGS.cluster]: cluster.name,
    [TAGS.clusterUid]: cluster.uid,
  };
}

/** `{Key, Value}[]` of a tag map (the EC2/ELB shape). */
export function tagList(tags: Readonly<Record<string, string>>): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** A tag map from an EC2/ELB `{Key, Value}[]`. */
export function tagMap(tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`invalid IPv4 address ${JSON.stringify(ip)}`);
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** One failure domain's subnets. */
export interface SubnetPlan {
  readonly availabilityZone: string;
  readonly publicCidr: string;
  readonly privateCidr: string;
}

/**
 * Splits the VPC CIDR into equal blocks, one public and one private per availability zone (public first, then
 * private, in AZ order): 10.0.0.0/16 over 3 AZs gives /19s, public 10.0.0.0/19… and private 10.0.96.0/19….
 *
 * Note: the order of `availabilityZones` fixes the layout; adding an AZ later re-carves and is not supported
 * (as in CAPA, subnets of an existing VPC are not moved).
 */
export function carveSubnets(vpcCidr: string, availabilityZones: readonly string[]): SubnetPlan[] {
  const [ip, prefixText] = vpcCidr.split('/');
  const prefix = Number(prefixText);
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 8 || prefix > 28) {
    throw new Error(`spec.network.vpcCidr: must be an IPv4 CIDR with a prefix between /8 and /28, got ${JSON.stringify(vpcCidr)}`);
  }
  const n = availabilityZones.length;
  if (n === 0) return [];
  const bits = Math.ceil(Math.log2(2 * n));
  const subnetPrefix = prefix + bits;
  if (subnetPrefix > 28) throw new Error(`spec.network.vpcCidr: ${vpcCidr} is too small for ${n} availability zones (subnets would be /${subnetPrefix}, AWS allows /28 at most)`);
  const base = (ipToInt(ip) & (prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0)) >>> 0;
  const size = 2 ** (32 - subnetPrefix);
  const block = (i: number) => `${intToIp(base + i * size)}/${subnetPrefix}`;
  return availabilityZones.map((az, i) => ({ availabilityZone: az, publicCidr: block(i), privateCidr: block(n + i) }));
}

/** One ingress rule, flattened: one protocol/port range from one source. */
export interface IngressRule {
  /** `tcp`, `udp`, or an IP protocol number such as `4` (IP-in-IP). */
  readonly protocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  /** A CIDR, or `sg:<group id>`. */
  readonly source: string;
  readonly description: string;
}

/** A stable key of a rule, to compare desired and observed rules. */
export function ruleKey(rule: Pick<IngressRule, 'protocol' | 'fromPort' | 'toPort' | 'source'>): string {
  const ports = rule.protocol === 'tcp' || rule.protocol === 'udp' ? `${rule.fromPort}-${rule.toPort}` : '*';
  return `${rule.protocol}|${ports}|${rule.source}`;
}

/**
 * The ingress rules of the two cluster security groups.
 *
 * Control plane: 6443 from the VPC (the NLB forwards from its private addresses: client IP preservation is off on
 * the target group), etcd 2379-2380 and kubelet 10250 from the control plane. Nodes: kubelet 10250 from the control
 * plane, NodePorts from the VPC. Both: the pod network among all machines (Calico's BGP 179/tcp, IP-in-IP and
 * VXLAN 4789/udp; Cilium's VXLAN uses 8472/udp), so the common CNIs work without extra rules.
 */
export function desiredIngress(vpcCidr: string, controlPlaneSg: string, nodeSg: string): { controlPlane: IngressRule[]; node: IngressRule[] } {
  const cp = `sg:${controlPlaneSg}`;
  const node = `sg:${nodeSg}`;
  const podNetwork = (src: string): IngressRule[] => [
    { protocol: 'tcp', fromPort: 179, toPort: 179, source: src, description: 'pod network: BGP' },
    { protocol: '4', source: src, description: 'pod network: IP-in-IP' },
    { protocol: 'udp', fromPort: 4789, toPort: 4789, source: src, description: 'pod network: VXLAN' },
    { protocol: 'udp', fromPort: 8472, toPort: 8472, source: src, description: 'pod network: VXLAN (Cilium/Flannel)' },
  ];
  return {
    controlPlane: [
      { protocol: 'tcp', fromPort: API_SERVER_PORT, toPort: API_SERVER_PORT, source: vpcCidr, description: 'API server from the load balancer and nodes' },
      { protocol: 'tcp', fromPort: 2379, toPort: 2380, source: cp, description: 'etcd from the control plane' },
      { protocol: 'tcp', fromPort: 10250, toPort: 10250, source: cp, description: 'kubelet from the control plane' },
      ...podNetwork(cp),
      ...podNetwork(node),
    ],
    node: [
      { protocol: 'tcp', fromPort: 10250, toPort: 10250, source: cp, description: 'kubelet from the control plane' },
      { protocol: 'tcp', fromPort: 30000, toPort: 32767, source: vpcCidr, description: 'NodePort services' },
      ...podNetwork(cp),
      ...podNetwork(node),
    ],
  };
}

/** What decides who may reach the API server through its load balancer. */
export interface EndpointAccess {
  readonly scheme: 'internet-facing' | 'internal';
  /** The cluster's `spec.controlPlane.endpoint.allowedCidrs`. */
  readonly allowedCidrs: readonly string[];
  /** Where Capstan's own calls (drain, node health) come from: the management egress CIDRs of its configuration. */
  readonly managementCidrs: readonly string[];
  readonly vpcCidr: string;
  /** Public addresses of the cluster's NAT gateways: nodes reach an internet-facing endpoint through them. */
  readonly natPublicIps: readonly string[];
}

/**
 * The inbound rules of the load balancer's security group: 6443/tcp from each source, once.
 *
 * As CAPA does for its control-plane load balancer (cluster-api-provider-aws
 * pkg/cloud/services/securitygroup/securitygroups.go, `getIngressRulesToAllowKubeletToAccessTheControlPlaneLB`):
 * internet-facing admits the NAT gateways' addresses (in-cluster clients such as the kubelet come out through them),
 * internal admits the VPC CIDR. Capstan adds the VPC CIDR in both cases (NLB health checks and clients inside the
 * VPC), its own management egress, and the user's allow-list.
 */
export function endpointIngress(access: EndpointAccess): IngressRule[] {
  const sources: [string, string][] = [
    [access.vpcCidr, 'API server from the VPC'],
    ...(access.scheme === 'internet-facing' ? access.natPublicIps.map((ip): [string, string] => [`${ip}/32`, 'API server from the cluster nodes (NAT gateway)']) : []),
    ...access.managementCidrs.map((c): [string, string] => [c, 'API server from Capstan (management egress)']),
    ...access.allowedCidrs.map((c): [string, string] => [c, 'API server from spec.controlPlane.endpoint.allowedCidrs']),
  ];
  const seen = new Set<string>();
  return sources
    .filter(([cidr]) => !seen.has(cidr) && (seen.add(cidr), true))
    .map(([source, description]) => ({ protocol: 'tcp', fromPort: API_SERVER_PORT, toPort: API_SERVER_PORT, source, description }));
}
