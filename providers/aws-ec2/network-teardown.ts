/**
 * The teardown of a cluster's network, in dependency order, one observation per run. Its own file because deletion
 * has its own rules: it stops at the first step AWS refuses for a dependency (the workflow calls again), and it must
 * undo what ensureNetwork made, in reverse, for both the Capstan-made and the bring-your-own VPC.
 */
import {
  DeleteInternetGatewayCommand,
  DeleteNatGatewayCommand,
  DeleteRouteTableCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DetachInternetGatewayCommand,
  DisassociateRouteTableCommand,
  ReleaseAddressCommand,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { DeleteLoadBalancerCommand, DeleteTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { hasAwsCode } from './aws-errors.js';
import { isNotFound, networkCall, type NetworkContext } from './network-context.js';
import { observeNetwork, type ObservedSecurityGroup } from './network-observe.js';

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
      await networkCall(ctx, operation, fn);
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
