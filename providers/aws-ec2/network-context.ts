/**
 * What every step of the cluster network (infrastructure.ts and the files it delegates to) shares: the context it
 * runs in, the throttle-retried call, the retry of a call on an id EC2 returned moments ago, and the identity tags
 * and filters of the network's resources. Its own file so that the observation, the VPC, the security groups, the
 * load balancer and the teardown can each live in one file without importing one another.
 */
import type { EC2Client, Filter, ResourceType } from '@aws-sdk/client-ec2';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ClusterSpec } from '../../functions/domain/cluster.js';
import type { ClusterRef } from '../../functions/domain/provider.js';
import { TAGS } from '../../functions/domain/provider.js';
import { hasAwsCode, realSleep, withThrottleRetries, type RetryOptions } from './aws-errors.js';
import { COMPONENT_TAG, resourceTags, tagList } from './network.js';

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

/** One AWS call of a network step, with the context's throttle retries and errors mapped (aws-errors.ts). */
export const networkCall = <T>(ctx: NetworkContext, operation: string, fn: () => Promise<T>): Promise<T> => withThrottleRetries(operation, fn, ctx.retry);

/** True for a not-found error, before or after mapping (the mapped message keeps AWS's code). */
export function isNotFound(error: unknown, ...codes: string[]): boolean {
  if (hasAwsCode(error, ...codes)) return true;
  const message = error instanceof Error ? error.message : '';
  return codes.some((c) => message.includes(`: ${c.replace('*', '')}`));
}

/**
 * A call that uses an id EC2 returned moments ago. EC2 is eventually consistent: "if you run a command to modify or
 * describe the resource that you just created, its ID might not have propagated throughout the system, and you will
 * get an error responding that the resource does not exist" (https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html,
 * which names InvalidGroup.NotFound after CreateSecurityGroup). Retries those codes with backoff, 6 tries, < 16 s.
 */
export async function afterCreate<T>(ctx: NetworkContext, operation: string, codes: readonly string[], fn: () => Promise<T>): Promise<T> {
  const sleep = ctx.retry?.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await networkCall(ctx, operation, fn);
    } catch (error) {
      if (attempt >= 6 || !isNotFound(error, ...codes)) throw error;
      await sleep(500 * 2 ** (attempt - 1));
    }
  }
}

/** The AWS part of a cluster spec; throws for a spec of another provider (it never reaches this one). */
export function awsInfrastructureOf(spec: ClusterSpec) {
  if (spec.infrastructure.provider !== 'aws') throw new Error(`spec.infrastructure.provider: must be aws, got ${spec.infrastructure.provider}`);
  return spec.infrastructure;
}

/** Describe filters matching every resource of the cluster: its uid tag, managed by Capstan. */
export function clusterFilters(ctx: NetworkContext): Filter[] {
  return [
    { Name: `tag:${TAGS.clusterUid}`, Values: [ctx.cluster.uid] },
    { Name: `tag:${TAGS.managed}`, Values: ['true'] },
  ];
}

/** The tags of one network resource: the cluster's identity, the spec's own tags, and its `COMPONENT_TAG`. */
export function componentTags(ctx: NetworkContext, component: string, extra: Record<string, string> = {}) {
  return resourceTags(ctx.cluster, awsInfrastructureOf(ctx.spec).tags, { ...extra, [COMPONENT_TAG]: component });
}

/** EC2 TagSpecifications of a resource created for `component`, named `<cluster>-<component>` (tags atomic with the create). */
export function tagSpec(ctx: NetworkContext, resourceType: ResourceType, component: string, extra: Record<string, string> = {}) {
  const name = `${ctx.cluster.name}-${component}`;
  return [{ ResourceType: resourceType, Tags: tagList({ Name: name, ...componentTags(ctx, component, extra) }) }];
}
