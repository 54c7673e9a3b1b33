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
 */
import {
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteNatGatewayCommand,
  DeleteRouteTableCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeAddressesCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  DisassociateRouteTableCommand,
  ModifyVpcAttributeCommand,
  ReleaseAddressCommand,
  RevokeSecurityGroupIngressCommand,
  type EC2Client,
  type Filter,
  type IpPermission,
  type ResourceType,
} from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  ModifyTargetGroupAttributesCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ClusterSpec } from '../../functions/domain/cluster.js';
import type { ClusterRef, InfrastructureStatus } from '../../functions/domain/provider.js';
import { TAGS } from '../../functions/domain/provider.js';
import { hasAwsCode, realSleep, withThrottleRetries, type RetryOptions } from './aws-errors.js';
import {
  API_SERVER_PORT,
  COMPONENTS,
  COMPONENT_TAG,
  DEFAULT_VPC_CIDR,
  carveSubnets,
  desiredIngress,
  endpointIngress,
  loadBalancerName,
  resourceTags,
  ruleKey,
  tagList,
  tagMap,
  targetGroupName,
  uidHash,
  type IngressRule,
} from './network.js';

/** What the network functions need: member clients, the cluster and its spec. */
export interface NetworkContext {
  readonly ec2: Pick<EC2Client, 'send'>;
  readonly elb: Pick<ElasticLoadBalancingV2Client, 'send'>;
  readonly cluster: ClusterRef;
  readonly spec: ClusterSpec;
  readonly retry?: RetryOptions;
  /**
   * Where Capstan's own calls to the API server come from (its Lambdas drain and health-check through the endpoint).
   * @default ['0.0.0.0/0']: Lambdas outside a VPC have no fixed address (see docs/deploy.md, "API server access")
   */
  readonly managementCidrs?: readonly string[];
}

/** @default management egress: anywhere, until Capstan's Lambdas have fixed egress addresses. */
export const DEFAULT_MANAGEMENT_CIDRS: readonly string[] = ['0.0.0.0/0'];

interface ObservedSubnet {
  readonly subnetId: string;
  readonly availabilityZone: string;
  readonly component: string;
  readonly cidr: string;
}

interface ObservedSecurityGroup {
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

const call = <T>(ctx: NetworkContext, operation: string, fn: () => Promise<T>): Promise<T> => withThrottleRetries(operation, fn, ctx.retry);

/**
 * A call that uses an id EC2 returned moments ago. EC2 is eventually consistent: "if you run a command to modify or
 * describe the resource that you just created, its ID might not have propagated throughout the system, and you will
 * get an error responding that the resource does not exist" (https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html,
 * which names InvalidGroup.NotFound after CreateSecurityGroup). Retries those codes with backoff, 6 tries, < 16 s.
 */
async function afterCreate<T>(ctx: NetworkContext, operation: string, codes: readonly string[], fn: () => Promise<T>): Promise<T> {
  const sleep = ctx.retry?.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(ctx, operation, fn);
    } catch (error) {
      if (attempt >= 6 || !isNotFound(error, ...codes)) throw error;
      await sleep(500 * 2 ** (attempt - 1));
    }
  }
}

function infra(spec: ClusterSpec) {
  if (spec.infrastructure.provider !== 'aws') throw new Error(`spec.infrastructure.provider: must be aws, got ${spec.infrastructure.provider}`);
  return spec.infrastructure;
}

function byUid(ctx: NetworkContext): Filter[] {
  return [
    { Name: `tag:${TAGS.clusterUid}`, Values: [ctx.cluster.uid] },
    { Name: `tag:${TAGS.managed}`, Values: ['true'] },
  ];
}

function tags(ctx: NetworkContext, component: string, extra: Record<string, string> = {}) {
  return resourceTags(ctx.cluster, infra(ctx.spec).tags, { ...extra, [COMPONENT_TAG]: component });
}

function tagSpec(ctx: NetworkContext, resourceType: ResourceType, component: string, extra: Record<string, string> = {}) {
  const name = `${ctx.cluster.name}-${component}`;
  return [{ ResourceType: resourceType, Tags: tagList({ Name: name, ...tags(ctx, component, extra) }) }];
}

function flattenPermissions(permissions: readonly IpPermission[] | undefined): Set<string> {
  const keys = new Set<string>();
  for (const p of permissions ?? []) {
    const base = { protocol: p.IpProtocol ?? '-1', ...(p.FromPort !== undefined ? { fromPort: p.FromPort } : {}), ...(p.ToPort !== undefined ? { toPort: p.ToPort } : {}) };
    for (const r of p.IpRanges ?? []) if (r.CidrIp) keys.add(ruleKey({ ...base, source: r.CidrIp }));
    for (const g of p.UserIdGroupPairs ?? []) if (g.GroupId) keys.add(ruleKey({ ...base, source: `sg:${g.GroupId}` }));
  }
  return keys;
}

function toPermission(rule: IngressRule): IpPermission {
  const ports = rule.fromPort !== undefined ? { FromPort: rule.fromPort, ToPort: rule.toPort ?? rule.fromPort } : {};
  return rule.source.startsWith('sg:')
    ? { IpProtocol: rule.protocol, ...ports, UserIdGroupPairs: [{ GroupId: rule.source.slice(3), Description: rule.description }] }
    : { IpProtocol: rule.protocol, ...ports, IpRanges: [{ CidrIp: rule.source, Description: rule.description }] };
}

async function findLoadBalancer(ctx: NetworkContext) {
  try {
    const out = await call(ctx, 'DescribeLoadBalancers', () => ctx.elb.send(new DescribeLoadBalancersCommand({ Names: [loadBalancerName(ctx.cluster.uid)] })));
    const lb = out.LoadBalancers?.[0];
    return lb?.LoadBalancerArn ? { arn: lb.LoadBalancerArn, dnsName: lb.DNSName ?? '', state: lb.State?.Code ?? 'unknown', securityGroups: lb.SecurityGroups ?? [] } : undefined;
  } catch (error) {
    if (isNotFound(error, 'LoadBalancerNotFound')) return undefined;
    throw error;
  }
}

async function findTargetGroup(ctx: NetworkContext) {
  try {
    const out = await call(ctx, 'DescribeTargetGroups', () => ctx.elb.send(new DescribeTargetGroupsCommand({ Names: [targetGroupName(ctx.cluster.uid)] })));
    const tg = out.TargetGroups?.[0];
    return tg?.TargetGroupArn ? { arn: tg.TargetGroupArn } : undefined;
  } catch (error) {
    if (isNotFound(error, 'TargetGroupNotFound')) return undefined;
    throw error;
  }
}

/** True for a not-found error, before or after mapping (the mapped message keeps AWS's code). */
function isNotFound(error: unknown, ...codes: string[]): boolean {
  if (hasAwsCode(error, ...codes)) return true;
  const message = error instanceof Error ? error.message : '';
  return codes.some((c) => message.includes(`: ${c.replace('*', '')}`));
}

/** Observes the cluster's network: one Describe call per resource kind, all filtered by the cluster uid tag. */
export async function observeNetwork(ctx: NetworkContext): Promise<ObservedNetwork> {
  const aws = infra(ctx.spec);
  const byo = aws.vpcId !== undefined;
  const filters = byUid(ctx);
  const [vpcs, subnets, igws, eips, nats, rts, sgs, loadBalancer, targetGroup] = await Promise.all([
    call(ctx, 'DescribeVpcs', () =>
      ctx.ec2.send(new DescribeVpcsCommand(byo ? { VpcIds: [aws.vpcId!] } : { Filters: [...filters, { Name: `tag:${COMPONENT_TAG}`, Values: [COMPONENTS.vpc] }] })),
    ),
    byo && !aws.subnetIds?.length
      ? Promise.resolve({ Subnets: [] })
      : call(ctx, 'DescribeSubnets', () => ctx.ec2.send(new DescribeSubnetsCommand(byo ? { SubnetIds: [...aws.subnetIds!] } : { Filters: filters }))),
    byo ? Promise.resolve({ InternetGateways: [] }) : call(ctx, 'DescribeInternetGateways', () => ctx.ec2.send(new DescribeInternetGatewaysCommand({ Filters: filters }))),
    byo ? Promise.resolve({ Addresses: [] }) : call(ctx, 'DescribeAddresses', () => ctx.ec2.send(new DescribeAddressesCommand({ Filters: filters }))),
    byo ? Promise.resolve({ NatGateways: [] }) : call(ctx, 'DescribeNatGateways', () => ctx.ec2.send(new DescribeNatGatewaysCommand({ Filter: filters }))),
    byo ? Promise.resolve({ RouteTables: [] }) : call(ctx, 'DescribeRouteTables', () => ctx.ec2.send(new DescribeRouteTablesCommand({ Filters: filters }))),
    call(ctx, 'DescribeSecurityGroups', () => ctx.ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters }))),
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
    const listeners = await call(ctx, 'DescribeListeners', () => ctx.elb.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancer.arn })));
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

/** Availability zones of the cluster: spec.failureDomains, or the region's first available AZ. */
async function availabilityZones(ctx: NetworkContext): Promise<string[]> {
  if (ctx.spec.failureDomains.length > 0) return [...ctx.spec.failureDomains];
  const out = await call(ctx, 'DescribeAvailabilityZones', () =>
    ctx.ec2.send(new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'state', Values: ['available'] }, { Name: 'zone-type', Values: ['availability-zone'] }] })),
  );
  const first = (out.AvailabilityZones ?? []).map((z) => z.ZoneName ?? '').filter(Boolean).sort()[0];
  if (!first) throw new Error(`no available availability zone in ${infra(ctx.spec).region}`);
  return [first];
}

/**
 * Creates what is missing of the cluster's network and reports whether it is ready (NAT gateway available, load
 * balancer and listener in place). Safe to re-run from any point: each resource is found by its tags first.
 *
 * Note: ClientToken is used where EC2 offers it (NAT gateways, route tables); VPCs, subnets, gateways and security
 * groups have none, so a crash between create and the next observation can leave a tagged duplicate-free resource
 * only because tags are applied atomically at creation (TagSpecifications), and the next run finds it.
 */
export async function ensureNetwork(ctx: NetworkContext): Promise<InfrastructureStatus & { readonly vpcId: string }> {
  const aws = infra(ctx.spec);
  let observed = await observeNetwork(ctx);
  const azs = observed.byo ? [...new Set(observed.subnets.map((s) => s.availabilityZone))].sort() : await availabilityZones(ctx);

  let vpcId = observed.vpcId;
  let vpcCidr = observed.vpcCidr ?? ctx.spec.network.vpcCidr ?? DEFAULT_VPC_CIDR;
  if (observed.byo && !vpcId) throw new Error(`spec.infrastructure.vpcId: VPC ${aws.vpcId} not found in ${aws.account}/${aws.region}`);
  if (!vpcId) {
    const out = await call(ctx, 'CreateVpc', () => ctx.ec2.send(new CreateVpcCommand({ CidrBlock: vpcCidr, TagSpecifications: tagSpec(ctx, 'vpc', COMPONENTS.vpc) })));
    vpcId = out.Vpc!.VpcId!;
    vpcCidr = out.Vpc?.CidrBlock ?? vpcCidr;
    // Only one attribute per call; done at creation (a crash in between leaves DNS support on, hostnames off).
    await afterCreate(ctx, 'ModifyVpcAttribute', ['InvalidVpcID.NotFound'], () => ctx.ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsSupport: { Value: true } })));
    await afterCreate(ctx, 'ModifyVpcAttribute', ['InvalidVpcID.NotFound'], () => ctx.ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } })));
  }

  let natReady = true;
  let natPublicIps: string[] = [];
  if (!observed.byo) {
    const managed = await ensureManagedNetwork(ctx, observed, vpcId, vpcCidr, azs);
    natReady = managed.natAvailable;
    natPublicIps = managed.natPublicIps;
    // The subnets as created or found: never re-read right after creating them (a Describe may not list them yet).
    observed = { ...observed, subnets: managed.subnets };
  }

  // Security groups (both modes).
  const cpSg = observed.controlPlaneSg?.groupId ?? (await createSecurityGroup(ctx, vpcId, COMPONENTS.controlPlaneSecurityGroup, 'control plane'));
  const nodeSg = observed.nodeSg?.groupId ?? (await createSecurityGroup(ctx, vpcId, COMPONENTS.nodeSecurityGroup, 'nodes'));
  const rules = desiredIngress(vpcCidr, cpSg, nodeSg);
  await authorizeMissing(ctx, cpSg, rules.controlPlane, observed.controlPlaneSg?.rules);
  await authorizeMissing(ctx, nodeSg, rules.node, observed.nodeSg?.rules);

  // Who may reach the API server: the load balancer's own group (an NLB takes security groups only at creation).
  const endpoint = ctx.spec.controlPlane.endpoint;
  const scheme = endpoint?.scheme ?? 'internet-facing';
  const lbSg = observed.apiLbSg?.groupId ?? (await createSecurityGroup(ctx, vpcId, COMPONENTS.apiLoadBalancerSecurityGroup, 'API server load balancer'));
  const access = endpointIngress({ scheme, allowedCidrs: endpoint?.allowedCidrs ?? [], managementCidrs: ctx.managementCidrs ?? DEFAULT_MANAGEMENT_CIDRS, vpcCidr, natPublicIps });
  await authorizeMissing(ctx, lbSg, access, observed.apiLbSg?.rules);
  await revokeExtra(ctx, lbSg, access, observed.apiLbSg?.permissions ?? []);

  // API server load balancer: public subnets (managed) or the given subnets (BYO), at most one per AZ.
  const lbSubnets = pickOnePerAz(observed.subnets.filter((s) => (observed.byo ? true : s.component === (scheme === 'internal' ? COMPONENTS.privateSubnet : COMPONENTS.publicSubnet))));
  let lb = observed.loadBalancer;
  if (!lb) {
    const out = await call(ctx, 'CreateLoadBalancer', () =>
      ctx.elb.send(
        new CreateLoadBalancerCommand({
          Name: loadBalancerName(ctx.cluster.uid),
          Type: 'network',
          Scheme: scheme,
          Subnets: lbSubnets.map((s) => s.subnetId),
          SecurityGroups: [lbSg],
          Tags: tagList(tags(ctx, COMPONENTS.apiLoadBalancer)),
        }),
      ),
    );
    const created = out.LoadBalancers?.[0];
    lb = { arn: created?.LoadBalancerArn ?? '', dnsName: created?.DNSName ?? '', state: created?.State?.Code ?? 'provisioning', securityGroups: created?.SecurityGroups ?? [lbSg] };
  }
  let tg = observed.targetGroup;
  if (!tg) {
    const out = await call(ctx, 'CreateTargetGroup', () =>
      ctx.elb.send(
        new CreateTargetGroupCommand({
          Name: targetGroupName(ctx.cluster.uid),
          Protocol: 'TCP',
          Port: API_SERVER_PORT,
          VpcId: vpcId,
          TargetType: 'instance',
          HealthCheckProtocol: 'TCP',
          HealthCheckIntervalSeconds: 10,
          HealthyThresholdCount: 3,
          UnhealthyThresholdCount: 3,
          Tags: tagList(tags(ctx, COMPONENTS.apiTargetGroup)),
        }),
      ),
    );
    tg = { arn: out.TargetGroups?.[0]?.TargetGroupArn ?? '' };
    await call(ctx, 'ModifyTargetGroupAttributes', () =>
      ctx.elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg!.arn, Attributes: [{ Key: 'preserve_client_ip.enabled', Value: 'false' }] })),
    );
  }
  if (!observed.hasListener) {
    await call(ctx, 'CreateListener', () =>
      ctx.elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb!.arn,
          Protocol: 'TCP',
          Port: API_SERVER_PORT,
          DefaultActions: [{ Type: 'forward', TargetGroupArn: tg!.arn }],
          Tags: tagList(tags(ctx, COMPONENTS.apiLoadBalancer)),
        }),
      ),
    );
  }
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

function pickOnePerAz(subnets: readonly ObservedSubnet[]): ObservedSubnet[] {
  const seen = new Map<string, ObservedSubnet>();
  for (const s of [...subnets].sort((a, b) => a.subnetId.localeCompare(b.subnetId))) if (!seen.has(s.availabilityZone)) seen.set(s.availabilityZone, s);
  return [...seen.values()];
}

/** Subnets, gateways and routes of a Capstan-made VPC. Returns the subnets and whether the NAT gateway (egress) is available. */
async function ensureManagedNetwork(
  ctx: NetworkContext,
  observed: ObservedNetwork,
  vpcId: string,
  vpcCidr: string,
  azs: string[],
): Promise<{ natAvailable: boolean; subnets: ObservedSubnet[]; natPublicIps: string[] }> {
  const plan = carveSubnets(vpcCidr, azs);
  const subnetIds = { public: [] as string[], private: [] as string[] };
  const subnets: ObservedSubnet[] = [];
  for (const p of plan) {
    for (const [kind, component, cidr, roleTag] of [
      ['public', COMPONENTS.publicSubnet, p.publicCidr, 'kubernetes.io/role/elb'],
      ['private', COMPONENTS.privateSubnet, p.privateCidr, 'kubernetes.io/role/internal-elb'],
    ] as const) {
      const found = observed.subnets.find((s) => s.component === component && s.availabilityZone === p.availabilityZone);
      if (found) {
        subnetIds[kind].push(found.subnetId);
        subnets.push(found);
        continue;
      }
      const out = await afterCreate(ctx, 'CreateSubnet', ['InvalidVpcID.NotFound'], () =>
        ctx.ec2.send(
          new CreateSubnetCommand({
            VpcId: vpcId,
            CidrBlock: cidr,
            AvailabilityZone: p.availabilityZone,
            TagSpecifications: tagSpec(ctx, 'subnet', component, { [roleTag]: '1' }),
          }),
        ),
      );
      subnetIds[kind].push(out.Subnet!.SubnetId!);
      subnets.push({ subnetId: out.Subnet!.SubnetId!, availabilityZone: p.availabilityZone, component, cidr });
    }
  }

  let igwId = observed.internetGateway?.id;
  if (!igwId) {
    const out = await call(ctx, 'CreateInternetGateway', () => ctx.ec2.send(new CreateInternetGatewayCommand({ TagSpecifications: tagSpec(ctx, 'internet-gateway', COMPONENTS.internetGateway) })));
    igwId = out.InternetGateway!.InternetGatewayId!;
  }
  if (!observed.internetGateway?.attachedVpcs.includes(vpcId)) {
    await afterCreate(ctx, 'AttachInternetGateway', ['InvalidInternetGatewayID.NotFound', 'InvalidVpcID.NotFound'], () => ctx.ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igwId, VpcId: vpcId })));
  }

  const natPublicIps = observed.eips.map((e) => e.publicIp).filter((ip): ip is string => !!ip);
  let nat = observed.natGateways[0];
  if (!nat) {
    let allocationId = observed.eips[0]?.allocationId;
    if (!allocationId) {
      const out = await call(ctx, 'AllocateAddress', () => ctx.ec2.send(new AllocateAddressCommand({ Domain: 'vpc', TagSpecifications: tagSpec(ctx, 'elastic-ip', COMPONENTS.natEip) })));
      allocationId = out.AllocationId!;
      if (out.PublicIp) natPublicIps.push(out.PublicIp);
    }
    const out = await afterCreate(ctx, 'CreateNatGateway', ['InvalidSubnetID.NotFound', 'InvalidAllocationID.NotFound'], () =>
      ctx.ec2.send(
        new CreateNatGatewayCommand({
          SubnetId: subnetIds.public[0]!,
          AllocationId: allocationId,
          ClientToken: `capstan-nat-${uidHash(ctx.cluster.uid, 32)}`,
          TagSpecifications: tagSpec(ctx, 'natgateway', COMPONENTS.natGateway),
        }),
      ),
    );
    nat = { id: out.NatGateway!.NatGatewayId!, state: out.NatGateway?.State ?? 'pending' };
  }
  // A NAT gateway is `pending` for a minute or two after CreateNatGateway
  // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_NatGateway.html, State).
  const natAvailable = nat.state === 'available';

  await ensureRouteTable(ctx, observed, vpcId, COMPONENTS.publicRouteTable, subnetIds.public, { GatewayId: igwId });
  // A route to a NAT gateway that is still pending is refused: add it on a later run.
  await ensureRouteTable(ctx, observed, vpcId, COMPONENTS.privateRouteTable, subnetIds.private, natAvailable ? { NatGatewayId: nat.id } : undefined);
  return { natAvailable, subnets, natPublicIps };
}

async function ensureRouteTable(
  ctx: NetworkContext,
  observed: ObservedNetwork,
  vpcId: string,
  component: string,
  subnetIds: readonly string[],
  target: { GatewayId: string } | { NatGatewayId: string } | undefined,
): Promise<void> {
  const found = observed.routeTables.find((r) => r.component === component);
  let id = found?.id;
  if (!id) {
    const out = await call(ctx, 'CreateRouteTable', () =>
      ctx.ec2.send(new CreateRouteTableCommand({ VpcId: vpcId, ClientToken: `capstan-${component}-${uidHash(ctx.cluster.uid, 32)}`, TagSpecifications: tagSpec(ctx, 'route-table', component) })),
    );
    id = out.RouteTable!.RouteTableId!;
  }
  if (target && !found?.hasDefaultRoute) {
    await afterCreate(ctx, 'CreateRoute', ['InvalidRouteTableID.NotFound', 'InvalidGatewayID.NotFound', 'InvalidNatGatewayID.NotFound'], async () => {
      try {
        await ctx.ec2.send(new CreateRouteCommand({ RouteTableId: id, DestinationCidrBlock: '0.0.0.0/0', ...target }));
      } catch (error) {
        if (!hasAwsCode(error, 'RouteAlreadyExists')) throw error;
      }
    });
  }
  const associated = new Set((found?.associations ?? []).map((a) => a.subnetId));
  for (const subnetId of subnetIds) {
    if (associated.has(subnetId)) continue;
    await afterCreate(ctx, 'AssociateRouteTable', ['InvalidRouteTableID.NotFound', 'InvalidSubnetID.NotFound'], () => ctx.ec2.send(new AssociateRouteTableCommand({ RouteTableId: id, SubnetId: subnetId })));
  }
}

async function createSecurityGroup(ctx: NetworkContext, vpcId: string, component: string, what: string): Promise<string> {
  const out = await call(ctx, 'CreateSecurityGroup', () =>
    ctx.ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: `capstan-${ctx.cluster.name}-${uidHash(ctx.cluster.uid, 8)}-${component}`,
        Description: `Capstan ${what} of cluster ${ctx.cluster.name}`,
        VpcId: vpcId,
        TagSpecifications: tagSpec(ctx, 'security-group', component),
      }),
    ),
  );
  return out.GroupId!;
}

/**
 * Adds the rules the group lacks, in one call.
 *
 * Note: AuthorizeSecurityGroupIngress is all or nothing: one rule that already exists fails the whole request with
 * InvalidPermission.Duplicate and adds none of the others
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html; error codes:
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html). Our view of the group may be stale
 * (rule changes propagate with a delay) or another run may have added some: then add them one by one, each
 * duplicate being success. A group created moments ago may be unknown yet (InvalidGroup.NotFound): retried.
 */
async function authorizeMissing(ctx: NetworkContext, groupId: string, desired: readonly IngressRule[], existing: ReadonlySet<string> | undefined): Promise<void> {
  const missing = desired.filter((r) => !existing?.has(ruleKey(r)));
  if (missing.length === 0) return;
  const authorize = (rules: readonly IngressRule[]) =>
    afterCreate(ctx, 'AuthorizeSecurityGroupIngress', ['InvalidGroup.NotFound'], async () => {
      try {
        await ctx.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: rules.map(toPermission) }));
        return true;
      } catch (error) {
        if (hasAwsCode(error, 'InvalidPermission.Duplicate')) return false;
        throw error;
      }
    });
  if (await authorize(missing)) return;
  for (const rule of missing) await authorize([rule]);
}

/** Revokes the CIDR rules of a group that are no longer desired (an allow-list entry removed from the spec). */
async function revokeExtra(ctx: NetworkContext, groupId: string, desired: readonly IngressRule[], permissions: readonly IpPermission[]): Promise<void> {
  const wanted = new Set(desired.map(ruleKey));
  const extra = permissions.flatMap((p) =>
    (p.IpRanges ?? [])
      .filter((r) => r.CidrIp && !wanted.has(ruleKey({ protocol: p.IpProtocol ?? '-1', ...(p.FromPort !== undefined ? { fromPort: p.FromPort } : {}), ...(p.ToPort !== undefined ? { toPort: p.ToPort } : {}), source: r.CidrIp })))
      .map((r) => ({ IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort, IpRanges: [{ CidrIp: r.CidrIp }] })),
  );
  if (extra.length === 0) return;
  await call(ctx, 'RevokeSecurityGroupIngress', async () => {
    try {
      await ctx.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: extra }));
    } catch (error) {
      if (!hasAwsCode(error, 'InvalidPermission.NotFound')) throw error; // revoked by an earlier run already
    }
  });
}

/**
 * Deletes the cluster's network in dependency order and reports `done: false` while anything remains:
 *
 *   NLB → target group → NAT gateway (wait: deleting) → EIP → IGW detach/delete → subnets → route tables → SGs → VPC
 *
 * A step that AWS refuses because something still depends on it (`DependencyViolation`, `ResourceInUse`: ENIs of a
 * just-deleted load balancer, instances still shutting down) stops the run with `done: false`; the workflow calls
 * again later. A bring-your-own VPC keeps its VPC and subnets: only the load balancer and the groups go.
 */
export async function deleteNetwork(ctx: NetworkContext): Promise<{ readonly done: boolean }> {
  const o = await observeNetwork(ctx);
  const blocked = (error: unknown) => hasAwsCode(error, 'DependencyViolation', 'ResourceInUse') || /DependencyViolation|ResourceInUse/.test(String((error as Error)?.message));
  const gone = (error: unknown) => isNotFound(error, 'InvalidVpcID.NotFound', 'InvalidSubnetID.NotFound', 'InvalidGroup.NotFound', 'InvalidRouteTableID.NotFound', 'InvalidInternetGatewayID.NotFound', 'InvalidAllocationID.NotFound', 'LoadBalancerNotFound', 'TargetGroupNotFound', 'Gateway.NotAttached', 'InvalidAssociationID.NotFound', 'InvalidNatGatewayID.NotFound');
  const step = async (operation: string, fn: () => Promise<unknown>): Promise<boolean> => {
    try {
      await call(ctx, operation, fn);
      return true;
    } catch (error) {
      if (gone(error)) return true;
      if (blocked(error)) return false;
      throw error;
    }
  };

  if (o.loadBalancer && !(await step('DeleteLoadBalancer', () => ctx.elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: o.loadBalancer!.arn }))))) return { done: false };
  if (o.targetGroup && !(await step('DeleteTargetGroup', () => ctx.elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: o.targetGroup!.arn }))))) return { done: false };

  if (!o.byo) {
    for (const nat of o.natGateways.filter((n) => n.state !== 'deleting')) {
      await step('DeleteNatGateway', () => ctx.ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: nat.id })));
    }
    if (o.natGateways.length > 0) return { done: false }; // deleting takes a minute; EIP and IGW wait for it
    for (const eip of o.eips) {
      if (!(await step('ReleaseAddress', () => ctx.ec2.send(new ReleaseAddressCommand({ AllocationId: eip.allocationId }))))) return { done: false };
    }
    if (o.internetGateway) {
      for (const vpc of o.internetGateway.attachedVpcs) {
        if (!(await step('DetachInternetGateway', () => ctx.ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: o.internetGateway!.id, VpcId: vpc }))))) return { done: false };
      }
      if (!(await step('DeleteInternetGateway', () => ctx.ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: o.internetGateway!.id }))))) return { done: false };
    }
    for (const subnet of o.subnets) {
      if (!(await step('DeleteSubnet', () => ctx.ec2.send(new DeleteSubnetCommand({ SubnetId: subnet.subnetId }))))) return { done: false };
    }
    for (const rt of o.routeTables) {
      for (const a of rt.associations) await step('DisassociateRouteTable', () => ctx.ec2.send(new DisassociateRouteTableCommand({ AssociationId: a.id })));
      if (!(await step('DeleteRouteTable', () => ctx.ec2.send(new DeleteRouteTableCommand({ RouteTableId: rt.id }))))) return { done: false };
    }
  }

  // The two groups reference each other: revoke the cross references first, or neither can be deleted.
  const groups = [o.controlPlaneSg, o.nodeSg, o.apiLbSg].filter((g): g is ObservedSecurityGroup => g !== undefined);
  for (const g of groups) {
    const referencing = g.permissions.filter((p) => (p.UserIdGroupPairs ?? []).length > 0);
    if (referencing.length > 0) {
      await step('RevokeSecurityGroupIngress', () => ctx.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: g.groupId, IpPermissions: referencing })));
    }
  }
  for (const g of groups) {
    if (!(await step('DeleteSecurityGroup', () => ctx.ec2.send(new DeleteSecurityGroupCommand({ GroupId: g.groupId }))))) return { done: false };
  }
  if (!o.byo && o.vpcId) {
    if (!(await step('DeleteVpc', () => ctx.ec2.send(new DeleteVpcCommand({ VpcId: o.vpcId! }))))) return { done: false };
  }
  return { done: true };
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
