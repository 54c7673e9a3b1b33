/**
 * The observation of a cluster's network: everything of it that exists now, found by the cluster uid tag (or, for a
 * bring-your-own VPC, by the ids in the spec), in one Describe call per resource kind. Its own file because every
 * other network step (create, place machines, tear down) starts from this one picture and never from a stored id.
 */
import {
  DescribeAddressesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { DescribeListenersCommand, DescribeLoadBalancersCommand, DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { API_SERVER_PORT, COMPONENTS, COMPONENT_TAG, loadBalancerName, ruleKey, tagMap, targetGroupName } from './network.js';
import { awsInfrastructureOf, clusterFilters, isNotFound, networkCall, type NetworkContext } from './network-context.js';

/** A subnet of the cluster: its AZ and which `COMPONENT_TAG` it carries (`byo` for a bring-your-own one). */
export interface ObservedSubnet {
  readonly subnetId: string;
  readonly availabilityZone: string;
  readonly component: string;
  readonly cidr: string;
}

/** A security group of the cluster with its ingress, both as rule keys (network.ts `ruleKey`) and as EC2 returned it. */
export interface ObservedSecurityGroup {
  readonly groupId: string;
  readonly rules: Set<string>;
  readonly permissions: IpPermission[];
}

/** Everything of a cluster's network that exists now, found by tags (or, for BYO, by the ids in the spec). */
export interface ObservedNetwork {
  readonly byo: boolean;
  readonly vpcId?: string;
  readonly vpcCidr?: string;
  readonly subnets: readonly ObservedSubnet[];
  readonly internetGateway?: { readonly id: string; readonly attachedVpcs: readonly string[] };
  readonly eips: readonly { readonly allocationId: string; readonly associationId?: string; readonly publicIp?: string }[];
  readonly natGateways: readonly { readonly id: string; readonly state: string; readonly subnetId?: string }[];
  readonly routeTables: readonly { readonly id: string; readonly component: string; readonly hasDefaultRoute: boolean; readonly associations: readonly { readonly id: string; readonly subnetId?: string }[] }[];
  readonly controlPlaneSg?: ObservedSecurityGroup;
  readonly nodeSg?: ObservedSecurityGroup;
  readonly apiLbSg?: ObservedSecurityGroup;
  readonly loadBalancer?: { readonly arn: string; readonly dnsName: string; readonly state: string; readonly securityGroups: readonly string[] };
  readonly targetGroup?: { readonly arn: string };
  readonly hasListener: boolean;
}

/** The rule keys (network.ts `ruleKey`) of a group's ingress permissions, CIDR and group sources alike. */
export function flattenPermissions(permissions: readonly IpPermission[] | undefined): Set<string> {
  const keys = new Set<string>();
  for (const p of permissions ?? []) {
    const base = { protocol: p.IpProtocol ?? '-1', ...(p.FromPort !== undefined ? { fromPort: p.FromPort } : {}), ...(p.ToPort !== undefined ? { toPort: p.ToPort } : {}) };
    for (const r of p.IpRanges ?? []) if (r.CidrIp) keys.add(ruleKey({ ...base, source: r.CidrIp }));
    for (const g of p.UserIdGroupPairs ?? []) if (g.GroupId) keys.add(ruleKey({ ...base, source: `sg:${g.GroupId}` }));
  }
  return keys;
}

async function findLoadBalancer(ctx: NetworkContext) {
  try {
    const out = await networkCall(ctx, 'DescribeLoadBalancers', () => ctx.elb.send(new DescribeLoadBalancersCommand({ Names: [loadBalancerName(ctx.cluster.uid)] })));
    const lb = out.LoadBalancers?.[0];
    return lb?.LoadBalancerArn ? { arn: lb.LoadBalancerArn, dnsName: lb.DNSName ?? '', state: lb.State?.Code ?? 'unknown', securityGroups: lb.SecurityGroups ?? [] } : undefined;
  } catch (error) {
    if (isNotFound(error, 'LoadBalancerNotFound')) return undefined;
    throw error;
  }
}

async function findTargetGroup(ctx: NetworkContext) {
  try {
    const out = await networkCall(ctx, 'DescribeTargetGroups', () => ctx.elb.send(new DescribeTargetGroupsCommand({ Names: [targetGroupName(ctx.cluster.uid)] })));
    const tg = out.TargetGroups?.[0];
    return tg?.TargetGroupArn ? { arn: tg.TargetGroupArn } : undefined;
  } catch (error) {
    if (isNotFound(error, 'TargetGroupNotFound')) return undefined;
    throw error;
  }
}

/** Observes the cluster's network: one Describe call per resource kind, all filtered by the cluster uid tag. */
export async function observeNetwork(ctx: NetworkContext): Promise<ObservedNetwork> {
  const aws = awsInfrastructureOf(ctx.spec);
  const byo = aws.vpcId !== undefined;
  const filters = clusterFilters(ctx);
  const [vpcs, subnets, igws, eips, nats, rts, sgs, loadBalancer, targetGroup] = await Promise.all([
    networkCall(ctx, 'DescribeVpcs', () =>
      ctx.ec2.send(new DescribeVpcsCommand(byo ? { VpcIds: [aws.vpcId!] } : { Filters: [...filters, { Name: `tag:${COMPONENT_TAG}`, Values: [COMPONENTS.vpc] }] })),
    ),
    byo && !aws.subnetIds?.length
      ? Promise.resolve({ Subnets: [] })
      : networkCall(ctx, 'DescribeSubnets', () => ctx.ec2.send(new DescribeSubnetsCommand(byo ? { SubnetIds: [...aws.subnetIds!] } : { Filters: filters }))),
    byo ? Promise.resolve({ InternetGateways: [] }) : networkCall(ctx, 'DescribeInternetGateways', () => ctx.ec2.send(new DescribeInternetGatewaysCommand({ Filters: filters }))),
    byo ? Promise.resolve({ Addresses: [] }) : networkCall(ctx, 'DescribeAddresses', () => ctx.ec2.send(new DescribeAddressesCommand({ Filters: filters }))),
    byo ? Promise.resolve({ NatGateways: [] }) : networkCall(ctx, 'DescribeNatGateways', () => ctx.ec2.send(new DescribeNatGatewaysCommand({ Filter: filters }))),
    byo ? Promise.resolve({ RouteTables: [] }) : networkCall(ctx, 'DescribeRouteTables', () => ctx.ec2.send(new DescribeRouteTablesCommand({ Filters: filters }))),
    networkCall(ctx, 'DescribeSecurityGroups', () => ctx.ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters }))),
    findLoadBalancer(ctx),
    findTargetGroup(ctx),
  ]);
  const vpc = vpcs.Vpcs?.[0];
  const sg = (component: string): ObservedSecurityGroup | undefined => {
    const g = sgs.SecurityGroups?.find((s) => tagMap(s.Tags)[COMPONENT_TAG] === component);
    return g?.GroupId ? { groupId: g.GroupId, rules: flattenPermissions(g.IpPermissions), permissions: g.IpPermissions ?? [] } : undefined;
  };
  let hasListener = false;
  if (loadBalancer) {
    const listeners = await networkCall(ctx, 'DescribeListeners', () => ctx.elb.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancer.arn })));
    hasListener = (listeners.Listeners ?? []).some((l) => l.Port === API_SERVER_PORT);
  }
  const igw = igws.InternetGateways?.[0];
  return {
    byo,
    ...(vpc?.VpcId ? { vpcId: vpc.VpcId } : {}),
    ...(vpc?.CidrBlock ? { vpcCidr: vpc.CidrBlock } : {}),
    subnets: (subnets.Subnets ?? [])
      .filter((s) => s.SubnetId && s.AvailabilityZone)
      .map((s) => ({ subnetId: s.SubnetId!, availabilityZone: s.AvailabilityZone!, component: byo ? 'byo' : tagMap(s.Tags)[COMPONENT_TAG] ?? '', cidr: s.CidrBlock ?? '' })),
    ...(igw?.InternetGatewayId ? { internetGateway: { id: igw.InternetGatewayId, attachedVpcs: (igw.Attachments ?? []).map((a) => a.VpcId ?? '').filter(Boolean) } } : {}),
    eips: (eips.Addresses ?? []).filter((a) => a.AllocationId).map((a) => ({ allocationId: a.AllocationId!, ...(a.AssociationId ? { associationId: a.AssociationId } : {}), ...(a.PublicIp ? { publicIp: a.PublicIp } : {}) })),
    natGateways: (nats.NatGateways ?? [])
      .filter((n) => n.NatGatewayId && n.State !== 'deleted' && n.State !== 'failed')
      .map((n) => ({ id: n.NatGatewayId!, state: n.State ?? 'unknown', ...(n.SubnetId ? { subnetId: n.SubnetId } : {}) })),
    routeTables: (rts.RouteTables ?? [])
      .filter((r) => r.RouteTableId)
      .map((r) => ({
        id: r.RouteTableId!,
        component: tagMap(r.Tags)[COMPONENT_TAG] ?? '',
        hasDefaultRoute: (r.Routes ?? []).some((x) => x.DestinationCidrBlock === '0.0.0.0/0' && x.State !== 'blackhole'),
        associations: (r.Associations ?? []).filter((a) => a.RouteTableAssociationId && !a.Main).map((a) => ({ id: a.RouteTableAssociationId!, ...(a.SubnetId ? { subnetId: a.SubnetId } : {}) })),
      })),
    ...(sg(COMPONENTS.controlPlaneSecurityGroup) ? { controlPlaneSg: sg(COMPONENTS.controlPlaneSecurityGroup)! } : {}),
    ...(sg(COMPONENTS.nodeSecurityGroup) ? { nodeSg: sg(COMPONENTS.nodeSecurityGroup)! } : {}),
    ...(sg(COMPONENTS.apiLoadBalancerSecurityGroup) ? { apiLbSg: sg(COMPONENTS.apiLoadBalancerSecurityGroup)! } : {}),
    ...(loadBalancer ? { loadBalancer } : {}),
    ...(targetGroup ? { targetGroup } : {}),
    hasListener,
  };
}
