/**
 * Which control-plane instances the API server's target group sends traffic to: an instance is registered once it
 * is `running`, a running one a crash left out is registered again, and one about to be terminated is deregistered
 * first. Its own file because target membership is the one place the provider's instances meet the load balancer
 * (api-load-balancer.ts creates that; this file only changes its targets).
 */
import { DeregisterTargetsCommand, DescribeTargetGroupsCommand, DescribeTargetHealthCommand, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ProviderUnavailableError } from '../../functions/domain/errors.js';
import type { MachineRole } from '../../functions/domain/machine.js';
import { TAGS } from '../../functions/domain/provider.js';
import { hasAwsCode, withThrottleRetries, type RetryOptions } from './aws-errors.js';
import type { MemberClients } from './credentials.js';
import { awaitRunning, type InstancePollOptions } from './instance-polls.js';
import { clusterInstanceFilters, describeLiveInstances } from './instances.js';
import { targetGroupName } from './network.js';

/** The ARN of the cluster's API target group; undefined before ensureInfrastructure created it. */
export async function apiTargetGroupArn(c: Pick<MemberClients, 'elb'>, uid: string, retry?: RetryOptions): Promise<string | undefined> {
  return withThrottleRetries(
    'DescribeTargetGroups',
    async () => {
      try {
        const out = await c.elb.send(new DescribeTargetGroupsCommand({ Names: [targetGroupName(uid)] }));
        return out.TargetGroups?.[0]?.TargetGroupArn;
      } catch (error) {
        if (hasAwsCode(error, 'TargetGroupNotFound')) return undefined;
        throw error;
      }
    },
    retry,
  );
}

/**
 * Adds a control-plane instance to the API target group once it is `running` (idempotent on AWS).
 *
 * ELBv2 RegisterTargets: "If the target is an EC2 instance, it must be in the running state when you register it"
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RegisterTargets.html), else
 * InvalidTarget. Right after RunInstances the instance is `pending` and DescribeInstances may not know its id yet,
 * so this first waits, bounded (instance-polls.ts `awaitRunning`):
 *
 *   RunInstances ─ Describe: NotFound ─ pending ─ … ─ running ─ RegisterTargets
 *                  └──────── ≤ attempts, interval doubling to 8 s (~40 s) ────────┘
 *
 * Past the bound it throws ProviderUnavailableError (the workflow retries CreateMachine on that name; the retry
 * finds the instance and comes back here). An instance on its way out is not registered (health checks replace it).
 */
export async function registerControlPlane(c: Pick<MemberClients, 'ec2' | 'elb'>, uid: string, instanceId: string, options: InstancePollOptions): Promise<void> {
  if (!(await awaitRunning(c.ec2, instanceId, options))) return;
  const arn = await apiTargetGroupArn(c, uid, options.retry);
  if (!arn) throw new ProviderUnavailableError(`API target group ${targetGroupName(uid)} not found: ensure infrastructure first`);
  await withThrottleRetries(
    'RegisterTargets',
    async () => {
      try {
        await c.elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: instanceId, Port: 6443 }] }));
      } catch (error) {
        // ELB's view of the instance may lag EC2's: retryable (bounded by the workflow), not a rejected request.
        if (hasAwsCode(error, 'InvalidTarget')) throw new ProviderUnavailableError(`RegisterTargets ${instanceId}: InvalidTarget: ${(error as Error).message}`);
        throw error;
      }
    },
    options.retry,
  );
}

/**
 * Repair: every running control-plane instance of the cluster is in the API target group (one that a crash left
 * unregistered, or one registered by hand elsewhere and removed). Pending ones are left to createMachine.
 */
export async function registerRunningControlPlanes(c: Pick<MemberClients, 'ec2' | 'elb'>, uid: string, options: InstancePollOptions): Promise<void> {
  const arn = await apiTargetGroupArn(c, uid, options.retry);
  if (!arn) return;
  const running = (await describeLiveInstances(c.ec2, [...clusterInstanceFilters(uid), { Name: `tag:${TAGS.role}`, Values: ['control-plane' satisfies MachineRole] }], options.retry))
    .filter((i) => i.State?.Name === 'running' && i.InstanceId)
    .map((i) => i.InstanceId!);
  if (running.length === 0) return;
  const health = await withThrottleRetries('DescribeTargetHealth', () => c.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })), options.retry);
  const registered = new Set((health.TargetHealthDescriptions ?? []).map((d) => d.Target?.Id));
  for (const id of running.filter((i) => !registered.has(i))) await registerControlPlane(c, uid, id, options);
}

/** Removes a control-plane instance from the API target group before it is terminated (drains connections). */
export async function deregisterControlPlane(c: Pick<MemberClients, 'elb'>, uid: string, instanceId: string, retry?: RetryOptions): Promise<void> {
  const arn = await apiTargetGroupArn(c, uid, retry);
  if (!arn) return;
  await withThrottleRetries(
    'DeregisterTargets',
    async () => {
      try {
        await c.elb.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: instanceId, Port: 6443 }] }));
      } catch (error) {
        if (!hasAwsCode(error, 'InvalidTarget', 'TargetGroupNotFound')) throw error;
      }
    },
    retry,
  );
}
