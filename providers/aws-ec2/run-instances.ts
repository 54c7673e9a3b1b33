/**
 * The launch of one machine's instance: which availability zones to try, and the RunInstances input (contract P1's
 * idempotency token, P2's identity tags at launch, IMDSv2 only, an encrypted gp3 root volume). Its own file because
 * the launch input is where most of the machine's security and idempotency lives, and it reads best in one place.
 */
import { createHash } from 'node:crypto';
import { RunInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { ProviderCapacityError, ProviderUnavailableError } from '../../functions/domain/errors.js';
import { TAGS, type CreateMachineRequest } from '../../functions/domain/provider.js';
import { withThrottleRetries, type RetryOptions } from './aws-errors.js';
import { encodeUserData } from './bootstrap.js';
import type { MachinePlacement } from './infrastructure.js';
import { awsInfrastructureOf } from './network-context.js';
import { resourceTags, tagList } from './network.js';

/** @default root volume size when the template names none. */
export const DEFAULT_ROOT_VOLUME_GIB = 40;

/** The RunInstances ClientToken of a machine: stable per cluster uid + machine name, 64 chars. */
export function machineClientToken(clusterUid: string, machineName: string, salt = ''): string {
  return createHash('sha256').update(`${clusterUid}/${machineName}${salt ? `/${salt}` : ''}`).digest('hex');
}

/** AZs to try: the requested one (or the first), then one other AZ of the pool that has a subnet. */
export function candidateZones(request: CreateMachineRequest, placement: MachinePlacement): string[] {
  const available = [...placement.subnetsByAz.keys()];
  const first = request.failureDomain && placement.subnetsByAz.has(request.failureDomain) ? request.failureDomain : available[0];
  if (!first) throw new ProviderUnavailableError(`cluster ${request.cluster.name}: no subnet to place ${request.name}`);
  const pool = request.role === 'control-plane' ? request.spec.failureDomains : (request.spec.workers.find((w) => w.name === request.pool)?.failureDomains ?? request.spec.failureDomains);
  const others = (pool.length > 0 ? pool : available).filter((az) => az !== first && placement.subnetsByAz.has(az));
  return others[0] ? [first, others[0]] : [first];
}

/** What a launch needs beside the request and the placement. */
export interface LaunchInput {
  readonly image: { readonly imageId: string; readonly rootDeviceName: string };
  /** The user data script, plain text (encoded here). */
  readonly userData: string;
  /** Name of the instance profile the machine runs with (by role, see ec2-provider.ts `InstanceProfiles`). */
  readonly instanceProfile: string;
  readonly retry?: RetryOptions;
}

/**
 * Launches the machine's instance in the first candidate zone; on a capacity error, once more in another AZ of the
 * pool (with a token salted by the subnet: a token is only honoured for the same parameters), then gives up (the
 * planner may pick another domain).
 */
export async function launchInstance(ec2: Pick<EC2Client, 'send'>, request: CreateMachineRequest, placement: MachinePlacement, input: LaunchInput): Promise<Instance> {
  const zones = candidateZones(request, placement);
  let instance: Instance | undefined;
  for (const [i, zone] of zones.entries()) {
    const subnetId = placement.subnetsByAz.get(zone)![0]!;
    try {
      instance = await runInstance(ec2, request, placement, input, subnetId, zone, i === 0 ? '' : subnetId);
      break;
    } catch (error) {
      // Capacity: one more try in another AZ of the pool, then give up (the planner may pick another domain).
      if (!(error instanceof ProviderCapacityError) || i === zones.length - 1) throw error;
    }
  }
  return instance!;
}

async function runInstance(
  ec2: Pick<EC2Client, 'send'>,
  request: CreateMachineRequest,
  placement: MachinePlacement,
  input: LaunchInput,
  subnetId: string,
  zone: string,
  salt: string,
): Promise<Instance> {
  const { image, userData } = input;
  const aws = awsInfrastructureOf(request.spec);
  const tags = tagList({
    Name: request.name,
    ...resourceTags(request.cluster, aws.tags),
    [TAGS.machine]: request.name,
    [TAGS.pool]: request.pool,
    [TAGS.role]: request.role,
  });
  const securityGroups = request.role === 'control-plane' ? [placement.controlPlaneSecurityGroupId, placement.nodeSecurityGroupId] : [placement.nodeSecurityGroupId];
  const out = await withThrottleRetries(
    'RunInstances',
    () =>
      ec2.send(
        new RunInstancesCommand({
          ClientToken: machineClientToken(request.cluster.uid, request.name, salt),
          ImageId: image.imageId,
          InstanceType: request.template.instanceType as RunInstancesCommand['input']['InstanceType'],
          MinCount: 1,
          MaxCount: 1,
          SubnetId: subnetId,
          SecurityGroupIds: securityGroups,
          IamInstanceProfile: { Name: input.instanceProfile },
          ...(aws.sshKeyName ? { KeyName: aws.sshKeyName } : {}),
          UserData: encodeUserData(userData),
          // IMDSv2 only; hop limit 1 keeps pods from borrowing the node role (which can read the join secret).
          MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
          BlockDeviceMappings: [
            { DeviceName: image.rootDeviceName, Ebs: { VolumeSize: request.template.rootVolumeSizeGiB ?? DEFAULT_ROOT_VOLUME_GIB, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } },
          ],
          TagSpecifications: [
            { ResourceType: 'instance', Tags: tags },
            { ResourceType: 'volume', Tags: tags },
          ],
        }),
      ),
    input.retry,
    zone,
  );
  const instance = out.Instances?.[0];
  if (!instance?.InstanceId) throw new ProviderUnavailableError(`RunInstances returned no instance for ${request.name}`);
  return instance;
}
