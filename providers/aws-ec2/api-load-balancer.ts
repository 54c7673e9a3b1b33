/**
 * The API server's Network Load Balancer of a cluster: the load balancer itself (in the public subnets, the private
 * ones for an `internal` endpoint, or the given ones of a bring-your-own VPC), its TCP 6443 target group and its
 * listener, each created when missing. Its own file because it is the one network piece on ELBv2 rather than EC2,
 * with its own readiness (an NLB is `provisioning` for minutes); which instances are its targets is api-targets.ts's.
 */
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ControlPlaneEndpointSpec } from '../../functions/domain/cluster.js';
import { API_SERVER_PORT, COMPONENTS, loadBalancerName, tagList, targetGroupName } from './network.js';
import { componentTags, networkCall, type NetworkContext } from './network-context.js';
import type { ObservedNetwork, ObservedSubnet } from './network-observe.js';

/** The load balancer as found or just created: `dnsName` and `state` decide whether the endpoint is ready. */
export type ApiLoadBalancer = NonNullable<ObservedNetwork['loadBalancer']>;

function pickOnePerAz(subnets: readonly ObservedSubnet[]): ObservedSubnet[] {
  const seen = new Map<string, ObservedSubnet>();
  for (const s of [...subnets].sort((a, b) => a.subnetId.localeCompare(b.subnetId))) if (!seen.has(s.availabilityZone)) seen.set(s.availabilityZone, s);
  return [...seen.values()];
}

/**
 * Creates what is missing of the load balancer, the target group and the listener, in that order (the listener
 * forwards to the group). Subnets: at most one per AZ. The security group is passed in: an NLB takes its groups only
 * at creation.
 */
export async function ensureApiLoadBalancer(
  ctx: NetworkContext,
  observed: Pick<ObservedNetwork, 'byo' | 'subnets' | 'loadBalancer' | 'targetGroup' | 'hasListener'>,
  network: { readonly vpcId: string; readonly scheme: ControlPlaneEndpointSpec['scheme']; readonly securityGroupId: string },
): Promise<ApiLoadBalancer> {
  const { vpcId, scheme, securityGroupId: lbSg } = network;
  const lbSubnets = pickOnePerAz(observed.subnets.filter((s) => (observed.byo ? true : s.component === (scheme === 'internal' ? COMPONENTS.privateSubnet : COMPONENTS.publicSubnet))));
  let lb = observed.loadBalancer;
  if (!lb) {
    const out = await networkCall(ctx, 'CreateLoadBalancer', () =>
      ctx.elb.send(
        new CreateLoadBalancerCommand({
          Name: loadBalancerName(ctx.cluster.uid),
          Type: 'network',
          Scheme: scheme,
          Subnets: lbSubnets.map((s) => s.subnetId),
          SecurityGroups: [lbSg],
          Tags: tagList(componentTags(ctx, COMPONENTS.apiLoadBalancer)),
        }),
      ),
    );
    const created = out.LoadBalancers?.[0];
    lb = { arn: created?.LoadBalancerArn ?? '', dnsName: created?.DNSName ?? '', state: created?.State?.Code ?? 'provisioning', securityGroups: created?.SecurityGroups ?? [lbSg] };
  }
  let tg = observed.targetGroup;
  if (!tg) {
    const out = await networkCall(ctx, 'CreateTargetGroup', () =>
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
          Tags: tagList(componentTags(ctx, COMPONENTS.apiTargetGroup)),
        }),
      ),
    );
    tg = { arn: out.TargetGroups?.[0]?.TargetGroupArn ?? '' };
    await networkCall(ctx, 'ModifyTargetGroupAttributes', () =>
      ctx.elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg!.arn, Attributes: [{ Key: 'preserve_client_ip.enabled', Value: 'false' }] })),
    );
  }
  if (!observed.hasListener) {
    await networkCall(ctx, 'CreateListener', () =>
      ctx.elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb!.arn,
          Protocol: 'TCP',
          Port: API_SERVER_PORT,
          DefaultActions: [{ Type: 'forward', TargetGroupArn: tg!.arn }],
          Tags: tagList(componentTags(ctx, COMPONENTS.apiLoadBalancer)),
        }),
      ),
    );
  }
  return lb;
}
