/**
 * The three security groups of a cluster network (control plane, nodes, API server load balancer): creating the
 * missing ones, adding the ingress rules they lack and revoking the allow-list rules no longer in the spec, plus the
 * translation of network.ts's `IngressRule` into EC2's `IpPermission`. Its own file because the groups are the
 * one part of the network that both modes (Capstan-made VPC and bring-your-own) create and keep in step with the spec.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import type { ControlPlaneEndpointSpec } from '../../functions/domain/cluster.js';
import { hasAwsCode } from './aws-errors.js';
import { COMPONENTS, desiredIngress, endpointIngress, ruleKey, uidHash, type IngressRule } from './network.js';
import { DEFAULT_MANAGEMENT_CIDRS, afterCreate, networkCall, tagSpec, type NetworkContext } from './network-context.js';
import type { ObservedNetwork } from './network-observe.js';

/** The EC2 permission of one rule (the inverse of network-observe.ts `flattenPermissions`). */
function toPermission(rule: IngressRule): IpPermission {
  const ports = rule.fromPort !== undefined ? { FromPort: rule.fromPort, ToPort: rule.toPort ?? rule.fromPort } : {};
  return rule.source.startsWith('sg:')
    ? { IpProtocol: rule.protocol, ...ports, UserIdGroupPairs: [{ GroupId: rule.source.slice(3), Description: rule.description }] }
    : { IpProtocol: rule.protocol, ...ports, IpRanges: [{ CidrIp: rule.source, Description: rule.description }] };
}

/** The cluster's security groups by role, as ensured. */
export interface ClusterSecurityGroups {
  readonly controlPlane: string;
  readonly node: string;
  readonly apiLoadBalancer: string;
}

/**
 * Creates the missing groups and brings their rules to the spec: control plane and nodes get network.ts
 * `desiredIngress`, the API load balancer's group `endpointIngress` (rules no longer wanted are revoked there only).
 */
export async function ensureSecurityGroups(
  ctx: NetworkContext,
  observed: Pick<ObservedNetwork, 'controlPlaneSg' | 'nodeSg' | 'apiLbSg'>,
  network: { readonly vpcId: string; readonly vpcCidr: string; readonly natPublicIps: readonly string[]; readonly scheme: ControlPlaneEndpointSpec['scheme'] },
): Promise<ClusterSecurityGroups> {
  const { vpcId, vpcCidr, scheme } = network;
  const cpSg = observed.controlPlaneSg?.groupId ?? (await createSecurityGroup(ctx, vpcId, COMPONENTS.controlPlaneSecurityGroup, 'control plane'));
  const nodeSg = observed.nodeSg?.groupId ?? (await createSecurityGroup(ctx, vpcId, COMPONENTS.nodeSecurityGroup, 'nodes'));
  const rules = desiredIngress(vpcCidr, cpSg, nodeSg);
  await authorizeMissing(ctx, cpSg, rules.controlPlane, observed.controlPlaneSg?.rules);
  await authorizeMissing(ctx, nodeSg, rules.node, observed.nodeSg?.rules);

  // Who may reach the API server: the load balancer's own group (an NLB takes security groups only at creation).
  const endpoint = ctx.spec.controlPlane.endpoint;
  const lbSg = observed.apiLbSg?.groupId ?? (await createSecurityGroup(ctx, vpcId, COMPONENTS.apiLoadBalancerSecurityGroup, 'API server load balancer'));
  const access = endpointIngress({ scheme, allowedCidrs: endpoint?.allowedCidrs ?? [], managementCidrs: ctx.managementCidrs ?? DEFAULT_MANAGEMENT_CIDRS, vpcCidr, natPublicIps: network.natPublicIps });
  await authorizeMissing(ctx, lbSg, access, observed.apiLbSg?.rules);
  await revokeExtra(ctx, lbSg, access, observed.apiLbSg?.permissions ?? []);
  return { controlPlane: cpSg, node: nodeSg, apiLoadBalancer: lbSg };
}

async function createSecurityGroup(ctx: NetworkContext, vpcId: string, component: string, what: string): Promise<string> {
  const out = await networkCall(ctx, 'CreateSecurityGroup', () =>
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
  await networkCall(ctx, 'RevokeSecurityGroupIngress', async () => {
    try {
      await ctx.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: extra }));
    } catch (error) {
      if (!hasAwsCode(error, 'InvalidPermission.NotFound')) throw error; // revoked by an earlier run already
    }
  });
}
