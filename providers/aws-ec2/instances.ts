/**
 * Reading EC2 instances as Capstan machines: the tag filters of a cluster's machines, the paginated and the by-id
 * DescribeInstances, and the mapping of an instance to a `ProviderMachine` (contract P3: machines are found by tags,
 * nothing is stored). Its own file because every provider operation and the API target registration observe
 * instances the same way, and the mapping is pure and testable apart from any call.
 */
import { DescribeInstancesCommand, paginateDescribeInstances, type EC2Client, type Filter, type Instance } from '@aws-sdk/client-ec2';
import { TAGS, type ProviderMachine, type ProviderMachineState } from '../../functions/domain/provider.js';
import { hasAwsCode, withThrottleRetries, type RetryOptions } from './aws-errors.js';
import { tagMap } from './network.js';

const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];

/** `aws:///<az>/<instance id>`, the Kubernetes providerID form. */
export function providerIdOf(instance: Pick<Instance, 'InstanceId' | 'Placement'>): string {
  return `aws:///${instance.Placement?.AvailabilityZone ?? ''}/${instance.InstanceId ?? ''}`;
}

/** The instance id at the end of a providerID; undefined for one that holds none. */
export function instanceIdOf(providerId: string): string | undefined {
  return /(i-[0-9a-f]+)$/.exec(providerId)?.[1];
}

function stateOf(instance: Instance): ProviderMachineState {
  switch (instance.State?.Name) {
    case 'pending':
      return 'pending';
    case 'running':
      return 'running';
    case 'terminated':
      return 'terminated';
    default:
      return 'stopping'; // stopping, stopped, shutting-down: on its way out of service
  }
}

/** The provider's view of an instance, from its tags; undefined for an instance without Capstan identity. */
export function toProviderMachine(instance: Instance): ProviderMachine | undefined {
  const tags = tagMap(instance.Tags);
  const name = tags[TAGS.machine];
  const cluster = tags[TAGS.cluster];
  const clusterUid = tags[TAGS.clusterUid];
  const role = tags[TAGS.role];
  if (!name || !cluster || !clusterUid || (role !== 'control-plane' && role !== 'worker')) return undefined;
  return {
    name,
    cluster,
    clusterUid,
    pool: tags[TAGS.pool] ?? (role === 'control-plane' ? 'control-plane' : ''),
    role,
    providerId: providerIdOf(instance),
    state: stateOf(instance),
    ...(instance.Placement?.AvailabilityZone ? { failureDomain: instance.Placement.AvailabilityZone } : {}),
    ...(instance.PrivateIpAddress ? { address: instance.PrivateIpAddress } : {}),
    launchedAt: (instance.LaunchTime ?? new Date(0)).toISOString(),
  };
}

/** Describe filters matching the machines of one cluster uid that Capstan manages. */
export function clusterInstanceFilters(uid: string): Filter[] {
  return [
    { Name: `tag:${TAGS.managed}`, Values: ['true'] },
    { Name: `tag:${TAGS.clusterUid}`, Values: [uid] },
  ];
}

/** Live instances matching the filters, all pages. */
export async function describeLiveInstances(ec2: Pick<EC2Client, 'send'>, filters: Filter[], retry?: RetryOptions): Promise<Instance[]> {
  return withThrottleRetries(
    'DescribeInstances',
    async () => {
      const out: Instance[] = [];
      const pages = paginateDescribeInstances({ client: ec2 as EC2Client, pageSize: 1000 }, { Filters: [...filters, { Name: 'instance-state-name', Values: LIVE_STATES }] });
      for await (const page of pages) for (const r of page.Reservations ?? []) out.push(...(r.Instances ?? []));
      return out;
    },
    retry,
  );
}

/**
 * The instances of these ids in any state; [] for ids EC2 does not know (yet: an id it returned moments ago may not
 * have propagated, https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html).
 */
export async function describeInstancesById(ec2: Pick<EC2Client, 'send'>, ids: string[], retry?: RetryOptions): Promise<Instance[]> {
  return withThrottleRetries(
    'DescribeInstances',
    async () => {
      try {
        const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
        return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
      } catch (error) {
        if (hasAwsCode(error, 'InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed')) return [];
        throw error;
      }
    },
    retry,
  );
}
