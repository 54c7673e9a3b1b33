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
 */
import { createHash } from 'node:crypto';
import {
  DescribeInstancesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  paginateDescribeInstances,
  type EC2Client,
  type Filter,
  type Instance,
} from '@aws-sdk/client-ec2';
import { DeregisterTargetsCommand, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { ClusterSpec } from '../../functions/domain/cluster.js';
import { ProviderCapacityError, ProviderUnavailableError } from '../../functions/domain/errors.js';
import type { MachineRole } from '../../functions/domain/machine.js';
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
  type ProviderMachineState,
  type ProviderScope,
} from '../../functions/domain/provider.js';
import { ImageResolver, type ImageResolverOptions } from './ami.js';
import { hasAwsCode, realSleep, withThrottleRetries, type RetryOptions } from './aws-errors.js';
import { encodeUserData, renderUserData, type BootstrapKind } from './bootstrap.js';
import {
  BOOTSTRAP_TOKEN_TTL_MS,
  MIN_TOKEN_LIFETIME_MS,
  clusterSecretNames,
  ensureClusterSecrets,
  generateBootstrapToken,
  parseJoinSecret,
  readSecret,
  writeSecret,
} from './cluster-secrets.js';
import type { MemberClients, MemberCredentials } from './credentials.js';
import { deleteNetwork, ensureNetwork, machinePlacement, type MachinePlacement, type NetworkContext } from './infrastructure.js';
import { COMPONENTS, COMPONENT_TAG, resourceTags, tagList, tagMap, targetGroupName } from './network.js';
import { NodeOperations } from './nodes.js';
import { execRunner, PodEtcd, type EtcdctlRunner } from './etcd.js';
import { loadKubernetesClient } from './kube-client.js';
import { DescribeTargetGroupsCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';

/** Instance profiles machines run with (created by the member-account stack). */
export interface InstanceProfiles {
  readonly controlPlane: string;
  readonly worker: string;
}

/** @default instance profile names; the member-account role stack must create them. */
export const DEFAULT_INSTANCE_PROFILES: InstanceProfiles = { controlPlane: 'capstan-control-plane', worker: 'capstan-node' };

/** @default root volume size when the template names none. */
export const DEFAULT_ROOT_VOLUME_GIB = 40;

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

const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];

/** `CAPSTAN_MANAGEMENT_EGRESS_CIDRS`, split; undefined when unset or empty. */
function managementCidrsFromEnv(): string[] | undefined {
  const list = (process.env.CAPSTAN_MANAGEMENT_EGRESS_CIDRS ?? '').split(',').map((c) => c.trim()).filter(Boolean);
  return list.length > 0 ? list : undefined;
}

/** The RunInstances ClientToken of a machine: stable per cluster uid + machine name, 64 chars. */
export function machineClientToken(clusterUid: string, machineName: string, salt = ''): string {
  return createHash('sha256').update(`${clusterUid}/${machineName}${salt ? `/${salt}` : ''}`).digest('hex');
}

/** `aws:///<az>/<instance id>`, the Kubernetes providerID form. */
export function providerIdOf(instance: Pick<Instance, 'InstanceId' | 'Placement'>): string {
  return `aws:///${instance.Placement?.AvailabilityZone ?? ''}/${instance.InstanceId ?? ''}`;
}

function instanceIdOf(providerId: string): string | undefined {
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

function awsOf(spec: ClusterSpec) {
  if (spec.infrastructure.provider !== 'aws') throw new Error(`spec.infrastructure.provider: must be aws, got ${spec.infrastructure.provider}`);
  return spec.infrastructure;
}

/** Capstan's EC2 machine provider (see the module note). */
export class Ec2Provider implements MachineProvider {
  readonly name = 'aws' as const;
  readonly callsBack = true;
  private readonly images: ImageResolver;
  private readonly nodes: NodeOperations;
  private readonly profiles: InstanceProfiles;

  constructor(private readonly options: Ec2ProviderOptions) {
    this.images = new ImageResolver({ ...options.images, ...(options.retry ? { retry: options.retry } : {}) });
    this.nodes = options.nodes ?? new NodeOperations();
    this.profiles = options.instanceProfiles ?? DEFAULT_INSTANCE_PROFILES;
  }

  /** Creates what is missing of the network, the load balancer and the cluster secrets. */
  async ensureInfrastructure(cluster: ClusterRef, spec: ClusterSpec): Promise<InfrastructureStatus> {
    return this.options.credentials.withMemberClients(cluster.scope, async (c) => {
      const { vpcId, ...status } = await ensureNetwork(this.ctx(c, cluster, spec));
      await this.registerRunningControlPlanes(c, cluster.uid);
      // Creates the CAs and join secret before any machine, and renews Capstan's admin kubeconfig when due.
      await ensureClusterSecrets(c.secrets, cluster, {
        tags: this.secretTags(cluster, spec),
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
      const existing = (await this.describe(c.ec2, [...this.identityFilters(cluster.uid), { Name: `tag:${TAGS.machine}`, Values: [request.name] }]))[0];
      const ctx = this.ctx(c, cluster, request.spec);
      if (existing) {
        const machine = toProviderMachine(existing)!;
        if (request.role === 'control-plane') await this.register(c, cluster.uid, existing.InstanceId!);
        return machine;
      }
      const placement = await this.call('DescribeNetwork', () => machinePlacement(ctx));
      const aws = awsOf(request.spec);
      const image = await this.images.resolve(c.ec2, aws.region, { ...(request.template.imageId ? { imageId: request.template.imageId } : {}), version: request.version });
      const userData = request.bootstrap.userData ?? (await this.renderUserData(c, request, placement));
      const zones = this.candidateZones(request, placement);
      let instance: Instance | undefined;
      for (const [i, zone] of zones.entries()) {
        const subnetId = placement.subnetsByAz.get(zone)![0]!;
        try {
          instance = await this.run(c.ec2, request, placement, image, userData, subnetId, zone, i === 0 ? '' : subnetId);
          break;
        } catch (error) {
          // Capacity: one more try in another AZ of the pool, then give up (the planner may pick another domain).
          if (!(error instanceof ProviderCapacityError) || i === zones.length - 1) throw error;
        }
      }
      if (request.role === 'control-plane') await this.register(c, cluster.uid, instance!.InstanceId!);
      else await this.awaitVisible(c, instance!.InstanceId!);
      return toProviderMachine(instance!)!;
    });
  }

  async listMachines(scope: ProviderScope, filter: { readonly cluster?: string } = {}): Promise<ProviderMachine[]> {
    return this.options.credentials.withMemberClients(scope, async (c) => {
      const filters: Filter[] = [{ Name: `tag:${TAGS.managed}`, Values: ['true'] }];
      if (filter.cluster) filters.push({ Name: `tag:${TAGS.cluster}`, Values: [filter.cluster] });
      const instances = await this.describe(c.ec2, filters);
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
        const described = await this.describeIds(c.ec2, [instanceId]);
        return described.length > 0 ? described : [{ InstanceId: instanceId }];
      };
      const found = id
        ? await byId(id)
        : await this.describe(c.ec2, [
            { Name: `tag:${TAGS.managed}`, Values: ['true'] },
            { Name: `tag:${TAGS.cluster}`, Values: [machine.cluster] },
            { Name: `tag:${TAGS.machine}`, Values: [machine.name] },
          ]);
      for (const instance of found) {
        if (instance.State?.Name === 'terminated' || !instance.InstanceId) continue;
        const tags = tagMap(instance.Tags);
        if (tags[TAGS.role] === 'control-plane' && tags[TAGS.clusterUid]) await this.deregister(c, tags[TAGS.clusterUid]!, instance.InstanceId);
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
    const kubeconfig = await this.kubeconfig(cluster);
    if (!kubeconfig) return undefined;
    return this.nodes.getNode(await this.nodes.api(kubeconfig), machineName);
  }

  async listNodes(cluster: ClusterRef): Promise<ReadonlyMap<string, NodeHealth>> {
    const kubeconfig = await this.kubeconfig(cluster);
    if (!kubeconfig) return new Map(); // no API server yet: no node has registered
    return this.nodes.listNodes(await this.nodes.api(kubeconfig));
  }

  async cordon(cluster: ClusterRef, machineName: string): Promise<void> {
    const kubeconfig = await this.kubeconfig(cluster);
    if (!kubeconfig) return; // the cluster never got an API server: nothing can be scheduled anywhere
    await this.nodes.cordon(await this.nodes.api(kubeconfig), machineName);
  }

  async drain(cluster: ClusterRef, machineName: string, options: { readonly timeoutSeconds: number; readonly force: boolean }): Promise<DrainResult> {
    const kubeconfig = await this.kubeconfig(cluster);
    if (!kubeconfig) return { done: true };
    return this.nodes.drain(await this.nodes.api(kubeconfig), machineName, options);
  }

  async listEtcdMembers(cluster: ClusterRef): Promise<readonly EtcdMember[]> {
    const etcd = await this.etcd(cluster);
    return etcd ? (await etcd.members()).members : [];
  }

  async removeControlPlaneMember(cluster: ClusterRef, machineName: string): Promise<EtcdMemberRemoval> {
    const etcd = await this.etcd(cluster);
    return etcd ? etcd.removeMachineMember(machineName) : { removed: false, leadershipMoved: false, members: [] };
  }

  async removeEtcdMember(cluster: ClusterRef, memberId: string): Promise<EtcdMemberRemoval> {
    const etcd = await this.etcd(cluster);
    return etcd ? etcd.removeMember(memberId) : { removed: false, leadershipMoved: false, members: [] };
  }

  async deleteNode(cluster: ClusterRef, machineName: string): Promise<void> {
    const kubeconfig = await this.kubeconfig(cluster);
    if (!kubeconfig) return; // no API server: no Node object
    await this.nodes.deleteNode(await this.nodes.api(kubeconfig), machineName);
  }

  /** The cluster's etcd through its etcd static pods (providers/aws-ec2/etcd.ts); undefined before an API server exists. */
  private async etcd(cluster: ClusterRef): Promise<PodEtcd | undefined> {
    const kubeconfig = await this.kubeconfig(cluster);
    if (!kubeconfig) return undefined;
    const k8s = await loadKubernetesClient();
    const config = await this.nodes.config(kubeconfig);
    return new PodEtcd(config.makeApiClient(k8s.CoreV1Api), this.options.etcdctl ?? (await execRunner(config)));
  }

  private ctx(c: MemberClients, cluster: ClusterRef, spec: ClusterSpec): NetworkContext {
    const managementCidrs = this.options.managementCidrs ?? managementCidrsFromEnv();
    return { ec2: c.ec2, elb: c.elb, cluster, spec, ...(this.options.retry ? { retry: this.options.retry } : {}), ...(managementCidrs ? { managementCidrs } : {}) };
  }

  private call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return withThrottleRetries(operation, fn, this.options.retry);
  }

  private secretTags(cluster: ClusterRef, spec: ClusterSpec): Record<string, string> {
    return resourceTags(cluster, awsOf(spec).tags, { [COMPONENT_TAG]: COMPONENTS.secret });
  }

  private identityFilters(uid: string): Filter[] {
    return [
      { Name: `tag:${TAGS.managed}`, Values: ['true'] },
      { Name: `tag:${TAGS.clusterUid}`, Values: [uid] },
    ];
  }

  /** Live instances matching the filters, all pages. */
  private async describe(ec2: Pick<EC2Client, 'send'>, filters: Filter[]): Promise<Instance[]> {
    return this.call('DescribeInstances', async () => {
      const out: Instance[] = [];
      const pages = paginateDescribeInstances({ client: ec2 as EC2Client, pageSize: 1000 }, { Filters: [...filters, { Name: 'instance-state-name', Values: LIVE_STATES }] });
      for await (const page of pages) for (const r of page.Reservations ?? []) out.push(...(r.Instances ?? []));
      return out;
    });
  }

  private async describeIds(ec2: Pick<EC2Client, 'send'>, ids: string[]): Promise<Instance[]> {
    return this.call('DescribeInstances', async () => {
      try {
        const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
        return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
      } catch (error) {
        if (hasAwsCode(error, 'InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed')) return [];
        throw error;
      }
    });
  }

  /** AZs to try: the requested one (or the first), then one other AZ of the pool that has a subnet. */
  private candidateZones(request: CreateMachineRequest, placement: MachinePlacement): string[] {
    const available = [...placement.subnetsByAz.keys()];
    const first = request.failureDomain && placement.subnetsByAz.has(request.failureDomain) ? request.failureDomain : available[0];
    if (!first) throw new ProviderUnavailableError(`cluster ${request.cluster.name}: no subnet to place ${request.name}`);
    const pool = request.role === 'control-plane' ? request.spec.failureDomains : (request.spec.workers.find((w) => w.name === request.pool)?.failureDomains ?? request.spec.failureDomains);
    const others = (pool.length > 0 ? pool : available).filter((az) => az !== first && placement.subnetsByAz.has(az));
    return others[0] ? [first, others[0]] : [first];
  }

  private async run(
    ec2: Pick<EC2Client, 'send'>,
    request: CreateMachineRequest,
    placement: MachinePlacement,
    image: { imageId: string; rootDeviceName: string },
    userData: string,
    subnetId: string,
    zone: string,
    salt: string,
  ): Promise<Instance> {
    const aws = awsOf(request.spec);
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
            IamInstanceProfile: { Name: request.role === 'control-plane' ? this.profiles.controlPlane : this.profiles.worker },
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
      this.options.retry,
      zone,
    );
    const instance = out.Instances?.[0];
    if (!instance?.InstanceId) throw new ProviderUnavailableError(`RunInstances returned no instance for ${request.name}`);
    return instance;
  }

  private async renderUserData(c: MemberClients, request: CreateMachineRequest, placement: MachinePlacement): Promise<string> {
    const { cluster, spec } = request;
    if (!placement.controlPlaneEndpoint) throw new ProviderUnavailableError(`cluster ${cluster.name}: API server load balancer not ready`);
    let kind: BootstrapKind = 'join-worker';
    if (request.role === 'control-plane') {
      const controlPlanes = await this.describe(c.ec2, [...this.identityFilters(cluster.uid), { Name: `tag:${TAGS.role}`, Values: ['control-plane' satisfies MachineRole] }]);
      kind = controlPlanes.some((i) => tagMap(i.Tags)[TAGS.machine] !== request.name) ? 'join-control-plane' : 'init';
    }
    // The first control-plane machine is when Capstan's admin kubeconfig starts to matter: it is created then. Its
    // renewal is ensureInfrastructure's, so a join does not read it again here.
    const secrets = await ensureClusterSecrets(c.secrets, cluster, {
      tags: this.secretTags(cluster, spec),
      vpcId: placement.vpcId,
      ...(kind === 'init' ? { endpoint: `https://${placement.controlPlaneEndpoint}`, createKubeconfig: true } : {}),
      ...(this.options.retry ? { retry: this.options.retry } : {}),
    });
    if (kind !== 'init') await this.ensureJoinToken(c, cluster, secrets.join);
    const labels = request.role === 'worker' ? spec.workers.find((w) => w.name === request.pool)?.labels : undefined;
    return renderUserData({
      kind,
      clusterName: cluster.name,
      machineName: request.name,
      version: request.version,
      controlPlaneEndpoint: placement.controlPlaneEndpoint,
      podCidr: spec.network.podCidr,
      serviceCidr: spec.network.serviceCidr,
      ...(spec.network.cni ? { cni: spec.network.cni } : {}),
      region: awsOf(spec).region,
      secrets,
      callbackUrl: request.bootstrap.callbackUrl,
      callbackToken: request.bootstrap.callbackToken,
      ...(spec.kubeadm ? { kubeadm: spec.kubeadm } : {}),
      ...(labels ? { labels } : {}),
    });
  }

  /**
   * Makes sure the join secret's token lives long enough for a machine that is about to join: when it has less than
   * MIN_TOKEN_LIFETIME_MS left, a new token is created in the cluster (a bootstrap-token Secret, through the API
   * server) and then stored. A retry after a crash in between makes another token: the unused one expires.
   */
  private async ensureJoinToken(c: MemberClients, cluster: ClusterRef, joinSecret: string): Promise<void> {
    const name = clusterSecretNames(cluster).join;
    const join = parseJoinSecret(await this.call('GetSecretValue', () => readSecret(c.secrets, joinSecret, this.options.retry)), name);
    const now = Date.now();
    if (Date.parse(join.expires) - now >= MIN_TOKEN_LIFETIME_MS) return;
    const kubeconfig = await this.kubeconfig(cluster);
    if (!kubeconfig) throw new ProviderUnavailableError(`cluster ${cluster.name}: the join token expired and there is no API server to mint a new one yet`);
    const token = generateBootstrapToken();
    const expires = new Date(now + BOOTSTRAP_TOKEN_TTL_MS);
    await this.nodes.createBootstrapToken(await this.nodes.api(kubeconfig), token, expires);
    await this.call('PutSecretValue', () => writeSecret(c.secrets, joinSecret, JSON.stringify({ ...join, token, expires: expires.toISOString() }), this.options.retry));
  }

  private async targetGroupArn(c: MemberClients, uid: string): Promise<string | undefined> {
    return this.call('DescribeTargetGroups', async () => {
      try {
        const out = await c.elb.send(new DescribeTargetGroupsCommand({ Names: [targetGroupName(uid)] }));
        return out.TargetGroups?.[0]?.TargetGroupArn;
      } catch (error) {
        if (hasAwsCode(error, 'TargetGroupNotFound')) return undefined;
        throw error;
      }
    });
  }

  /**
   * Adds a control-plane instance to the API target group once it is `running` (idempotent on AWS).
   *
   * ELBv2 RegisterTargets: "If the target is an EC2 instance, it must be in the running state when you register it"
   * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RegisterTargets.html), else
   * InvalidTarget. Right after RunInstances the instance is `pending` and DescribeInstances may not know its id yet
   * (InvalidInstanceID.NotFound: https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html), so
   * this polls with a bound:
   *
   *   RunInstances ─ Describe: NotFound ─ pending ─ … ─ running ─ RegisterTargets
   *                  └──────── ≤ attempts, interval doubling to 8 s (~40 s) ────────┘
   *
   * Past the bound it throws ProviderUnavailableError (the workflow retries CreateMachine on that name; the retry
   * finds the instance and comes back here). An instance on its way out is not registered (health checks replace it).
   */
  private async register(c: MemberClients, uid: string, instanceId: string): Promise<void> {
    const attempts = Math.max(1, this.options.registration?.attempts ?? 8);
    const sleep = this.options.retry?.sleep ?? realSleep;
    let state = 'unknown';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const [instance] = await this.describeIds(c.ec2, [instanceId]); // [] while EC2 does not know the id yet
      state = instance?.State?.Name ?? 'not visible yet';
      if (state === 'running') break;
      if (instance && state !== 'pending') return; // stopping, shutting-down, terminated: never serves the API
      if (attempt < attempts) await sleep(Math.min(8000, (this.options.registration?.intervalMs ?? 1000) * 2 ** (attempt - 1)));
    }
    if (state !== 'running') throw new ProviderUnavailableError(`instance ${instanceId}: ${state} after ${attempts} checks; registers with the API load balancer once running`);
    const arn = await this.targetGroupArn(c, uid);
    if (!arn) throw new ProviderUnavailableError(`API target group ${targetGroupName(uid)} not found: ensure infrastructure first`);
    await this.call('RegisterTargets', async () => {
      try {
        await c.elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: instanceId, Port: 6443 }] }));
      } catch (error) {
        // ELB's view of the instance may lag EC2's: retryable (bounded by the workflow), not a rejected request.
        if (hasAwsCode(error, 'InvalidTarget')) throw new ProviderUnavailableError(`RegisterTargets ${instanceId}: InvalidTarget: ${(error as Error).message}`);
        throw error;
      }
    });
  }

  /**
   * Waits (bounded, like `register`) until DescribeInstances knows a just-launched instance, so that the next
   * listMachines — the planner's view — sees it (EC2 is eventually consistent:
   * https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html). Past the bound it returns anyway: the
   * ClientToken keeps a retry from launching a second one.
   */
  private async awaitVisible(c: MemberClients, instanceId: string): Promise<void> {
    const attempts = Math.max(1, this.options.registration?.attempts ?? 8);
    const sleep = this.options.retry?.sleep ?? realSleep;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if ((await this.describeIds(c.ec2, [instanceId])).length > 0) return;
      if (attempt < attempts) await sleep(Math.min(8000, (this.options.registration?.intervalMs ?? 1000) * 2 ** (attempt - 1)));
    }
  }

  /**
   * Repair: every running control-plane instance of the cluster is in the API target group (one that a crash left
   * unregistered, or one registered by hand elsewhere and removed). Pending ones are left to createMachine.
   */
  private async registerRunningControlPlanes(c: MemberClients, uid: string): Promise<void> {
    const arn = await this.targetGroupArn(c, uid);
    if (!arn) return;
    const running = (await this.describe(c.ec2, [...this.identityFilters(uid), { Name: `tag:${TAGS.role}`, Values: ['control-plane' satisfies MachineRole] }]))
      .filter((i) => i.State?.Name === 'running' && i.InstanceId)
      .map((i) => i.InstanceId!);
    if (running.length === 0) return;
    const health = await this.call('DescribeTargetHealth', () => c.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })));
    const registered = new Set((health.TargetHealthDescriptions ?? []).map((d) => d.Target?.Id));
    for (const id of running.filter((i) => !registered.has(i))) await this.register(c, uid, id);
  }


  /** Removes a control-plane instance from the API target group before it is terminated (drains connections). */
  private async deregister(c: MemberClients, uid: string, instanceId: string): Promise<void> {
    const arn = await this.targetGroupArn(c, uid);
    if (!arn) return;
    await this.call('DeregisterTargets', async () => {
      try {
        await c.elb.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: instanceId, Port: 6443 }] }));
      } catch (error) {
        if (!hasAwsCode(error, 'InvalidTarget', 'TargetGroupNotFound')) throw error;
      }
    });
  }

  /** Capstan's admin kubeconfig of the cluster; undefined until its first control-plane machine was created. Never logged. */
  private async kubeconfig(cluster: ClusterRef): Promise<string | undefined> {
    return this.options.credentials.withMemberClients(cluster.scope, (c) =>
      this.call('GetSecretValue', () => readSecret(c.secrets, clusterSecretNames(cluster).kubeconfig, this.options.retry)),
    );
  }
}
