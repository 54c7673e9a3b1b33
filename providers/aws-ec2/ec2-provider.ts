/**
 * The EC2 provider: Capstan's `MachineProvider` on AWS (contract rules P1–P9 in functions/domain/provider.ts).
 *
 * Every call resolves member-account clients at call time (`withMemberClients`), observes AWS by tags, and acts
 * with idempotency tokens, so any call can be interrupted and re-run:
 *  - P1: RunInstances carries `ClientToken = sha256(clusterUid/machineName)` (64 hex chars); before that, a tag
 *    lookup returns a machine that already exists (a token is only honoured for a while and only for the same
 *    parameters). A capacity retry in another AZ uses a token derived from the subnet as well.
 *  - P2: instances and volumes carry the identity TAGS at launch (TagSpecifications, atomic with the launch).
 *  - P3: `listMachines` is one paginated DescribeInstances filtered by tags.
 *  - P4: terminating a gone instance (`InvalidInstanceID.NotFound`) is success.
 *  - P5: SDK errors become the named provider errors (aws-errors.ts).
 *  - P6: the cloud-init script POSTs the Ready callback (bootstrap.ts): `callsBack: true`.
 *  - P6a: `listNodes` is one node LIST through the cluster's API server (nodes.ts), as Capstan's own admin user
 *    (cluster-secrets.ts); before the first control-plane machine was created there is no kubeconfig and no node
 *    can have registered: an empty map.
 *  - P9: user data holds only the callback token; nothing returned or logged contains a secret.
 *
 * Note: the first control-plane machine of a cluster runs `kubeadm init`, later ones join. "First" means: no other
 * live control-plane instance of this cluster uid exists when it is created. The planner creates control-plane
 * machines one at a time, which keeps that decision race-free.
 *
 * The class holds the contract's methods and delegates their steps, one concern per file: instances.ts (finding
 * instances, mapping them to machines), run-instances.ts (the launch input), machine-user-data.ts (init or join, the
 * join token), instance-polls.ts (the bounded waits), api-targets.ts (API target group membership),
 * workload-cluster.ts (nodes and etcd through the API server), and infrastructure.ts (the network).
 */
import { TerminateInstancesCommand, type Filter, type Instance } from '@aws-sdk/client-ec2';
import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { ClusterSpec } from '../../functions/domain/cluster.js';
import {
  TAGS,
  type ClusterRef,
  type CreateMachineRequest,
  type DrainResult,
  type EtcdMember,
  type EtcdMemberRemoval,
  type InfrastructureStatus,
  type MachineProvider,
  type NodeHealth,
  type NodeStatus,
  type ProviderMachine,
  type ProviderScope,
} from '../../functions/domain/provider.js';
import { ImageResolver, type ImageResolverOptions } from './ami.js';
import { deregisterControlPlane, registerControlPlane, registerRunningControlPlanes } from './api-targets.js';
import { hasAwsCode, withThrottleRetries, type RetryOptions } from './aws-errors.js';
import { clusterSecretNames, ensureClusterSecrets } from './cluster-secrets.js';
import type { MemberClients, MemberCredentials } from './credentials.js';
import type { EtcdctlRunner } from './etcd.js';
import { deleteNetwork, ensureNetwork, machinePlacement, type NetworkContext } from './infrastructure.js';
import { awaitVisible } from './instance-polls.js';
import { clusterInstanceFilters, describeInstancesById, describeLiveInstances, instanceIdOf, toProviderMachine } from './instances.js';
import { clusterSecretTags, renderMachineUserData, type UserDataDeps } from './machine-user-data.js';
import { awsInfrastructureOf } from './network-context.js';
import { tagMap } from './network.js';
import { NodeOperations } from './nodes.js';
import { launchInstance } from './run-instances.js';
import { WorkloadClusterAccess } from './workload-cluster.js';

export { providerIdOf, toProviderMachine } from './instances.js';
export { DEFAULT_ROOT_VOLUME_GIB, machineClientToken } from './run-instances.js';

/** Instance profiles machines run with (created by the member-account stack). */
export interface InstanceProfiles {
  readonly controlPlane: string;
  readonly worker: string;
}

/** @default instance profile names; the member-account role stack must create them. */
export const DEFAULT_INSTANCE_PROFILES: InstanceProfiles = { controlPlane: 'capstan-control-plane', worker: 'capstan-node' };

/** Options of `Ec2Provider`. */
export interface Ec2ProviderOptions {
  /** Member-account clients, resolved per call (credentials.ts). */
  readonly credentials: Pick<MemberCredentials, 'withMemberClients'>;
  /** @default new NodeOperations() */
  readonly nodes?: NodeOperations;
  /** Runs `etcdctl` in an etcd pod (providers/aws-ec2/etcd.ts). @default pods/exec through the admin kubeconfig */
  readonly etcdctl?: EtcdctlRunner;
  /** @default 3 attempts, full jitter from 200 ms */
  readonly retry?: RetryOptions;
  /** @default CAPA public images (ami.ts) */
  readonly images?: ImageResolverOptions;
  /** @default DEFAULT_INSTANCE_PROFILES */
  readonly instanceProfiles?: InstanceProfiles;
  /**
   * Where Capstan's calls to workload API servers come from; every cluster's API load balancer admits them.
   * @default `CAPSTAN_MANAGEMENT_EGRESS_CIDRS` (comma-separated), else anywhere (infrastructure.ts DEFAULT_MANAGEMENT_CIDRS)
   */
  readonly managementCidrs?: readonly string[];
  /** How long createMachine waits for a control-plane instance to be `running` before registering it. @default 8 checks, 1 s doubling to 8 s */
  readonly registration?: { readonly attempts?: number; readonly intervalMs?: number };
}

/** `CAPSTAN_MANAGEMENT_EGRESS_CIDRS`, split; undefined when unset or empty. */
function managementCidrsFromEnv(): string[] | undefined {
  const list = (process.env.CAPSTAN_MANAGEMENT_EGRESS_CIDRS ?? '').split(',').map((c) => c.trim()).filter(Boolean);
  return list.length > 0 ? list : undefined;
}

/** Capstan's EC2 machine provider (see the module note). */
export class Ec2Provider implements MachineProvider {
  readonly name = 'aws' as const;
  readonly callsBack = true;
  private readonly images: ImageResolver;
  private readonly nodes: NodeOperations;
  private readonly profiles: InstanceProfiles;
  private readonly workload: WorkloadClusterAccess;

  constructor(private readonly options: Ec2ProviderOptions) {
    this.images = new ImageResolver({ ...options.images, ...(options.retry ? { retry: options.retry } : {}) });
    this.nodes = options.nodes ?? new NodeOperations();
    this.profiles = options.instanceProfiles ?? DEFAULT_INSTANCE_PROFILES;
    this.workload = new WorkloadClusterAccess({
      credentials: options.credentials,
      nodes: this.nodes,
      ...(options.etcdctl ? { etcdctl: options.etcdctl } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
    });
  }

  /** Creates what is missing of the network, the load balancer and the cluster secrets. */
  async ensureInfrastructure(cluster: ClusterRef, spec: ClusterSpec): Promise<InfrastructureStatus> {
    return this.options.credentials.withMemberClients(cluster.scope, async (c) => {
      const { vpcId, ...status } = await ensureNetwork(this.ctx(c, cluster, spec));
      await registerRunningControlPlanes(c, cluster.uid, this.options);
      // Creates the CAs and join secret before any machine, and renews Capstan's admin kubeconfig when due.
      await ensureClusterSecrets(c.secrets, cluster, {
        tags: clusterSecretTags(cluster, spec),
        vpcId,
        ...(status.controlPlaneEndpoint ? { endpoint: status.controlPlaneEndpoint } : {}),
        ...(this.options.retry ? { retry: this.options.retry } : {}),
      });
      return status;
    });
  }

  /** Tears the network down (dependency order), then the cluster's secrets. */
  async deleteInfrastructure(cluster: ClusterRef, spec: ClusterSpec): Promise<{ readonly done: boolean }> {
    return this.options.credentials.withMemberClients(cluster.scope, async (c) => {
      const network = await deleteNetwork(this.ctx(c, cluster, spec));
      if (!network.done) return network;
      for (const secretId of Object.values(clusterSecretNames(cluster))) {
        await this.call('DeleteSecret', async () => {
          try {
            await c.secrets.send(new DeleteSecretCommand({ SecretId: secretId, ForceDeleteWithoutRecovery: true }));
          } catch (error) {
            if (!hasAwsCode(error, 'ResourceNotFoundException')) throw error;
          }
        });
      }
      return { done: true };
    });
  }

  async createMachine(request: CreateMachineRequest): Promise<ProviderMachine> {
    const { cluster } = request;
    return this.options.credentials.withMemberClients(cluster.scope, async (c) => {
      const existing = (await describeLiveInstances(c.ec2, [...clusterInstanceFilters(cluster.uid), { Name: `tag:${TAGS.machine}`, Values: [request.name] }], this.options.retry))[0];
      const ctx = this.ctx(c, cluster, request.spec);
      if (existing) {
        const machine = toProviderMachine(existing)!;
        if (request.role === 'control-plane') await registerControlPlane(c, cluster.uid, existing.InstanceId!, this.options);
        return machine;
      }
      const placement = await this.call('DescribeNetwork', () => machinePlacement(ctx));
      const aws = awsInfrastructureOf(request.spec);
      const image = await this.images.resolve(c.ec2, aws.region, { ...(request.template.imageId ? { imageId: request.template.imageId } : {}), version: request.version });
      const userData = request.bootstrap.userData ?? (await renderMachineUserData(this.userDataDeps(c), request, placement));
      const instanceProfile = request.role === 'control-plane' ? this.profiles.controlPlane : this.profiles.worker;
      const instance = await launchInstance(c.ec2, request, placement, { image, userData, instanceProfile, ...(this.options.retry ? { retry: this.options.retry } : {}) });
      if (request.role === 'control-plane') await registerControlPlane(c, cluster.uid, instance.InstanceId!, this.options);
      else await awaitVisible(c.ec2, instance.InstanceId!, this.options);
      return toProviderMachine(instance)!;
    });
  }

  async listMachines(scope: ProviderScope, filter: { readonly cluster?: string } = {}): Promise<ProviderMachine[]> {
    return this.options.credentials.withMemberClients(scope, async (c) => {
      const filters: Filter[] = [{ Name: `tag:${TAGS.managed}`, Values: ['true'] }];
      if (filter.cluster) filters.push({ Name: `tag:${TAGS.cluster}`, Values: [filter.cluster] });
      const instances = await describeLiveInstances(c.ec2, filters, this.options.retry);
      return instances.map(toProviderMachine).filter((m): m is ProviderMachine => m !== undefined);
    });
  }

  async deleteMachine(scope: ProviderScope, machine: Pick<ProviderMachine, 'name' | 'providerId' | 'cluster'>): Promise<void> {
    return this.options.credentials.withMemberClients(scope, async (c) => {
      const id = instanceIdOf(machine.providerId);
      // An id EC2 answers NotFound for may be one it has not propagated yet (a delete right after the create), not one
      // that is gone: terminate it anyway; TerminateInstances' own NotFound then means gone (P4).
      // https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html
      const byId = async (instanceId: string): Promise<Instance[]> => {
        const described = await describeInstancesById(c.ec2, [instanceId], this.options.retry);
        return described.length > 0 ? described : [{ InstanceId: instanceId }];
      };
      const found = id
        ? await byId(id)
        : await describeLiveInstances(
            c.ec2,
            [
              { Name: `tag:${TAGS.managed}`, Values: ['true'] },
              { Name: `tag:${TAGS.cluster}`, Values: [machine.cluster] },
              { Name: `tag:${TAGS.machine}`, Values: [machine.name] },
            ],
            this.options.retry,
          );
      for (const instance of found) {
        if (instance.State?.Name === 'terminated' || !instance.InstanceId) continue;
        const tags = tagMap(instance.Tags);
        if (tags[TAGS.role] === 'control-plane' && tags[TAGS.clusterUid]) await deregisterControlPlane(c, tags[TAGS.clusterUid]!, instance.InstanceId, this.options.retry);
        await this.call('TerminateInstances', async () => {
          try {
            await c.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
          } catch (error) {
            if (!hasAwsCode(error, 'InvalidInstanceID.NotFound')) throw error;
          }
        });
      }
    });
  }

  async getNode(cluster: ClusterRef, machineName: string): Promise<NodeStatus | undefined> {
    return this.workload.getNode(cluster, machineName);
  }

  async listNodes(cluster: ClusterRef): Promise<ReadonlyMap<string, NodeHealth>> {
    return this.workload.listNodes(cluster);
  }

  async cordon(cluster: ClusterRef, machineName: string): Promise<void> {
    return this.workload.cordon(cluster, machineName);
  }

  async drain(cluster: ClusterRef, machineName: string, options: { readonly timeoutSeconds: number; readonly force: boolean }): Promise<DrainResult> {
    return this.workload.drain(cluster, machineName, options);
  }

  async listEtcdMembers(cluster: ClusterRef): Promise<readonly EtcdMember[]> {
    return this.workload.listEtcdMembers(cluster);
  }

  async removeControlPlaneMember(cluster: ClusterRef, machineName: string): Promise<EtcdMemberRemoval> {
    return this.workload.removeControlPlaneMember(cluster, machineName);
  }

  async removeEtcdMember(cluster: ClusterRef, memberId: string): Promise<EtcdMemberRemoval> {
    return this.workload.removeEtcdMember(cluster, memberId);
  }

  async deleteNode(cluster: ClusterRef, machineName: string): Promise<void> {
    return this.workload.deleteNode(cluster, machineName);
  }

  private ctx(c: MemberClients, cluster: ClusterRef, spec: ClusterSpec): NetworkContext {
    const managementCidrs = this.options.managementCidrs ?? managementCidrsFromEnv();
    return { ec2: c.ec2, elb: c.elb, cluster, spec, ...(this.options.retry ? { retry: this.options.retry } : {}), ...(managementCidrs ? { managementCidrs } : {}) };
  }

  private userDataDeps(c: MemberClients): UserDataDeps {
    return { clients: c, nodes: this.nodes, kubeconfig: (cluster) => this.workload.kubeconfig(cluster), ...(this.options.retry ? { retry: this.options.retry } : {}) };
  }

  private call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return withThrottleRetries(operation, fn, this.options.retry);
  }
}
