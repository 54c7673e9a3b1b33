/**
 * The network of one cluster, as Cluster API's AWS provider (CAPA) builds it: a VPC with one public and one private
 * subnet per availability zone, an internet gateway, a NAT gateway, route tables, two security groups, and a Network
 * Load Balancer in front of the API servers. Or, with bring-your-own VPC (`spec.infrastructure.vpcId/subnetIds`),
 * only the security groups and the load balancer.
 *
 * Every resource carries the cluster's identity tags plus `capstan.dev/component`, and each run finds them again by
 * tag (never by a stored id): `ensureNetwork` creates only what is missing, `deleteNetwork` removes what is there.
 *
 * Note: one NAT gateway (in the first AZ) serves all private subnets. It is a single point of failure for egress
 * of the other AZs and costs cross-AZ traffic, but it is a third of the price of one per AZ; CAPA makes the same
 * trade-off configurable, Capstan picks the cheap one for now.
 *
 * This file holds the two entry points the provider calls to build the network and place machines; the steps live
 * beside it, one concern per file: network-context.ts (shared context, retries, tags), network-observe.ts (the
 * observation every step starts from), vpc.ts (VPC, subnets, gateways, routes), security-groups.ts,
 * api-load-balancer.ts, and network-teardown.ts (`deleteNetwork`). Every name exported here before the split still is.
 */
import type { InfrastructureStatus } from '../../functions/domain/provider.js';
import { API_SERVER_PORT, COMPONENTS } from './network.js';
import { ensureApiLoadBalancer } from './api-load-balancer.js';
import type { NetworkContext } from './network-context.js';
import { observeNetwork } from './network-observe.js';
import { ensureSecurityGroups } from './security-groups.js';
import { availabilityZones, ensureManagedNetwork, ensureVpc } from './vpc.js';

export { DEFAULT_MANAGEMENT_CIDRS, type NetworkContext } from './network-context.js';
export { observeNetwork, type ObservedNetwork } from './network-observe.js';
export { deleteNetwork } from './network-teardown.js';

/**
 * Creates what is missing of the cluster's network and reports whether it is ready (NAT gateway available, load
 * balancer and listener in place). Safe to re-run from any point: each resource is found by its tags first.
 *
 * Note: ClientToken is used where EC2 offers it (NAT gateways, route tables); VPCs, subnets, gateways and security
 * groups have none, so a crash between create and the next observation can leave a tagged duplicate-free resource
 * only because tags are applied atomically at creation (TagSpecifications), and the next run finds it.
 */
export async function ensureNetwork(ctx: NetworkContext): Promise<InfrastructureStatus & { readonly vpcId: string }> {
  let observed = await observeNetwork(ctx);
  const azs = observed.byo ? [...new Set(observed.subnets.map((s) => s.availabilityZone))].sort() : await availabilityZones(ctx);
  const { vpcId, vpcCidr } = await ensureVpc(ctx, observed);

  let natReady = true;
  let natPublicIps: string[] = [];
  if (!observed.byo) {
    const managed = await ensureManagedNetwork(ctx, observed, vpcId, vpcCidr, azs);
    natReady = managed.natAvailable;
    natPublicIps = managed.natPublicIps;
    // The subnets as created or found: never re-read right after creating them (a Describe may not list them yet).
    observed = { ...observed, subnets: managed.subnets };
  }

  // Security groups (both modes), then the API server load balancer behind the last of them.
  const scheme = ctx.spec.controlPlane.endpoint?.scheme ?? 'internet-facing';
  const groups = await ensureSecurityGroups(ctx, observed, { vpcId, vpcCidr, natPublicIps, scheme });
  const lb = await ensureApiLoadBalancer(ctx, observed, { vpcId, scheme, securityGroupId: groups.apiLoadBalancer });
  const machineSubnets = observed.subnets.filter((s) => (observed.byo ? true : s.component === COMPONENTS.privateSubnet));
  // An NLB is `provisioning` for a few minutes after CreateLoadBalancer; its DNS name does not resolve until it is
  // `active` (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerState.html), and
  // kubeadm init talks to the cluster through it: not ready before.
  return {
    vpcId,
    ready: natReady && lb.dnsName !== '' && lb.state === 'active',
    ...(lb.dnsName ? { controlPlaneEndpoint: `https://${lb.dnsName}:${API_SERVER_PORT}` } : {}),
    failureDomains: [...new Set(machineSubnets.map((s) => s.availabilityZone))].sort(),
  };
}

/** Where machines of a cluster go: subnets per AZ, security groups per role, the API target group. */
export interface MachinePlacement {
  /** The cluster's VPC: its secrets are tagged with it, and only machines in it may read them. */
  readonly vpcId: string;
  readonly subnetsByAz: ReadonlyMap<string, readonly string[]>;
  readonly controlPlaneSecurityGroupId: string;
  readonly nodeSecurityGroupId: string;
  readonly targetGroupArn?: string;
  /** `host:port` of the API server load balancer (kubeadm's controlPlaneEndpoint). */
  readonly controlPlaneEndpoint?: string;
}

/** The placement of machines, from the observed network; throws when the network is not there yet. */
export async function machinePlacement(ctx: NetworkContext): Promise<MachinePlacement> {
  const o = await observeNetwork(ctx);
  const subnets = o.subnets.filter((s) => (o.byo ? true : s.component === COMPONENTS.privateSubnet));
  if (subnets.length === 0 || !o.controlPlaneSg || !o.nodeSg || !o.vpcId) {
    throw new Error(`cluster ${ctx.cluster.name}: infrastructure not ready (subnets ${subnets.length}, security groups ${[o.controlPlaneSg, o.nodeSg].filter(Boolean).length}/2)`);
  }
  const subnetsByAz = new Map<string, string[]>();
  for (const s of [...subnets].sort((a, b) => a.subnetId.localeCompare(b.subnetId))) subnetsByAz.set(s.availabilityZone, [...(subnetsByAz.get(s.availabilityZone) ?? []), s.subnetId]);
  return {
    vpcId: o.vpcId,
    subnetsByAz,
    controlPlaneSecurityGroupId: o.controlPlaneSg.groupId,
    nodeSecurityGroupId: o.nodeSg.groupId,
    ...(o.targetGroup ? { targetGroupArn: o.targetGroup.arn } : {}),
    ...(o.loadBalancer?.dnsName ? { controlPlaneEndpoint: `${o.loadBalancer.dnsName}:${API_SERVER_PORT}` } : {}),
  };
}
