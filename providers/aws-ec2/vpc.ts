/**
 * The VPC of a cluster and, when Capstan made it, what is inside: one public and one private subnet per availability
 * zone, an internet gateway, one NAT gateway (in the first AZ, see infrastructure.ts) with its Elastic IP, and the
 * public and private route tables. Its own file because this is the part a bring-your-own VPC skips: there, only the
 * VPC's existence is checked.
 */
import {
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeAvailabilityZonesCommand,
  ModifyVpcAttributeCommand,
} from '@aws-sdk/client-ec2';
import { hasAwsCode } from './aws-errors.js';
import { COMPONENTS, DEFAULT_VPC_CIDR, carveSubnets, uidHash } from './network.js';
import { afterCreate, awsInfrastructureOf, networkCall, tagSpec, type NetworkContext } from './network-context.js';
import type { ObservedNetwork, ObservedSubnet } from './network-observe.js';

/** Availability zones of the cluster: spec.failureDomains, or the region's first available AZ. */
export async function availabilityZones(ctx: NetworkContext): Promise<string[]> {
  if (ctx.spec.failureDomains.length > 0) return [...ctx.spec.failureDomains];
  const out = await networkCall(ctx, 'DescribeAvailabilityZones', () =>
    ctx.ec2.send(new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'state', Values: ['available'] }, { Name: 'zone-type', Values: ['availability-zone'] }] })),
  );
  const first = (out.AvailabilityZones ?? []).map((z) => z.ZoneName ?? '').filter(Boolean).sort()[0];
  if (!first) throw new Error(`no available availability zone in ${awsInfrastructureOf(ctx.spec).region}`);
  return [first];
}

/**
 * The cluster's VPC id and CIDR: the observed one, else a new one with DNS support and DNS hostnames. A
 * bring-your-own VPC that is not there is an error (Capstan never creates the user's VPC).
 */
export async function ensureVpc(ctx: NetworkContext, observed: ObservedNetwork): Promise<{ readonly vpcId: string; readonly vpcCidr: string }> {
  const aws = awsInfrastructureOf(ctx.spec);
  let vpcId = observed.vpcId;
  let vpcCidr = observed.vpcCidr ?? ctx.spec.network.vpcCidr ?? DEFAULT_VPC_CIDR;
  if (observed.byo && !vpcId) throw new Error(`spec.infrastructure.vpcId: VPC ${aws.vpcId} not found in ${aws.account}/${aws.region}`);
  if (!vpcId) {
    const out = await networkCall(ctx, 'CreateVpc', () => ctx.ec2.send(new CreateVpcCommand({ CidrBlock: vpcCidr, TagSpecifications: tagSpec(ctx, 'vpc', COMPONENTS.vpc) })));
    vpcId = out.Vpc!.VpcId!;
    vpcCidr = out.Vpc?.CidrBlock ?? vpcCidr;
    // Only one attribute per call; done at creation (a crash in between leaves DNS support on, hostnames off).
    await afterCreate(ctx, 'ModifyVpcAttribute', ['InvalidVpcID.NotFound'], () => ctx.ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsSupport: { Value: true } })));
    await afterCreate(ctx, 'ModifyVpcAttribute', ['InvalidVpcID.NotFound'], () => ctx.ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } })));
  }
  return { vpcId, vpcCidr };
}

/** Subnets, gateways and routes of a Capstan-made VPC. Returns the subnets and whether the NAT gateway (egress) is available. */
export async function ensureManagedNetwork(
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
    const out = await networkCall(ctx, 'CreateInternetGateway', () => ctx.ec2.send(new CreateInternetGatewayCommand({ TagSpecifications: tagSpec(ctx, 'internet-gateway', COMPONENTS.internetGateway) })));
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
      const out = await networkCall(ctx, 'AllocateAddress', () => ctx.ec2.send(new AllocateAddressCommand({ Domain: 'vpc', TagSpecifications: tagSpec(ctx, 'elastic-ip', COMPONENTS.natEip) })));
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
    const out = await networkCall(ctx, 'CreateRouteTable', () =>
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
