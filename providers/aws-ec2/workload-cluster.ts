/**
 * The provider's node and etcd operations (contract P6a and the etcd rules), all through the cluster's own API
 * server as Capstan's admin user (its kubeconfig is a cluster secret, cluster-secrets.ts). Before the first
 * control-plane machine was created there is no kubeconfig and no node can have registered: every operation then
 * answers "nothing there". Its own file because this half of the provider talks to Kubernetes, not to AWS (but for
 * reading the kubeconfig).
 */
import type { ClusterRef, DrainResult, EtcdMember, EtcdMemberRemoval, NodeHealth, NodeStatus } from '../../functions/domain/provider.js';
import { withThrottleRetries, type RetryOptions } from './aws-errors.js';
import { clusterSecretNames, readSecret } from './cluster-secrets.js';
import type { MemberCredentials } from './credentials.js';
import { execRunner, PodEtcd, type EtcdctlRunner } from './etcd.js';
import { loadKubernetesClient } from './kube-client.js';
import type { NodeOperations } from './nodes.js';

/** What `WorkloadClusterAccess` needs (the matching parts of ec2-provider.ts `Ec2ProviderOptions`). */
export interface WorkloadClusterAccessOptions {
  /** Member-account clients, resolved per call (credentials.ts): the kubeconfig is read from there. */
  readonly credentials: Pick<MemberCredentials, 'withMemberClients'>;
  readonly nodes: NodeOperations;
  /** Runs `etcdctl` in an etcd pod (etcd.ts). @default pods/exec through the admin kubeconfig */
  readonly etcdctl?: EtcdctlRunner;
  /** @default 3 attempts, full jitter from 200 ms */
  readonly retry?: RetryOptions;
}

/** Node and etcd operations on a cluster, through its API server; the kubeconfig is read per call, never cached. */
export class WorkloadClusterAccess {
  private readonly nodes: NodeOperations;

  constructor(private readonly options: WorkloadClusterAccessOptions) {
    this.nodes = options.nodes;
  }

  /** Capstan's admin kubeconfig of the cluster; undefined until its first control-plane machine was created. Never logged. */
  async kubeconfig(cluster: ClusterRef): Promise<string | undefined> {
    return this.options.credentials.withMemberClients(cluster.scope, (c) =>
      withThrottleRetries('GetSecretValue', () => readSecret(c.secrets, clusterSecretNames(cluster).kubeconfig, this.options.retry), this.options.retry),
    );
  }

  /** The node of a machine; undefined when it has not registered (or there is no API server yet). */
  async getNode(cluster: ClusterRef, machineName: string): Promise<NodeStatus | undefined> {
    const kubeconfig = await this.kubeconfig(cluster);
    if (!kubeconfig) return undefined;
    return this.nodes.getNode(await this.nodes.api(kubeconfig), machineName);
  }

  /** Every registered node's health by name (P6a: one node LIST). */
  async listNodes(cluster: ClusterRef): Promise<ReadonlyMap<string, NodeHealth>> {
    const kubeconfig = await this.kubeconfig(cluster);
    if (!kubeconfig) return new Map(); // no API server yet: no node has registered
    return this.nodes.listNodes(await this.nodes.api(kubeconfig));
  }

  /** Marks a machine's node unschedulable. */
  async cordon(cluster: ClusterRef, machineName: string): Promise<void> {
    const kubeconfig = await this.kubeconfig(cluster);
    if (!kubeconfig) return; // the cluster never got an API server: nothing can be scheduled anywhere
    await this.nodes.cordon(await this.nodes.api(kubeconfig), machineName);
  }

  /** Evicts a machine's pods, one step at a time (nodes.ts). */
  async drain(cluster: ClusterRef, machineName: string, options: { readonly timeoutSeconds: number; readonly force: boolean }): Promise<DrainResult> {
    const kubeconfig = await this.kubeconfig(cluster);
    if (!kubeconfig) return { done: true };
    return this.nodes.drain(await this.nodes.api(kubeconfig), machineName, options);
  }

  /** Deletes a machine's Node object. */
  async deleteNode(cluster: ClusterRef, machineName: string): Promise<void> {
    const kubeconfig = await this.kubeconfig(cluster);
    if (!kubeconfig) return; // no API server: no Node object
    await this.nodes.deleteNode(await this.nodes.api(kubeconfig), machineName);
  }

  /** The etcd members; none before an API server exists. */
  async listEtcdMembers(cluster: ClusterRef): Promise<readonly EtcdMember[]> {
    const etcd = await this.etcd(cluster);
    return etcd ? (await etcd.members()).members : [];
  }

  /** Removes the etcd member of a control-plane machine (its leadership moved away first when it leads, etcd.ts). */
  async removeControlPlaneMember(cluster: ClusterRef, machineName: string): Promise<EtcdMemberRemoval> {
    const etcd = await this.etcd(cluster);
    return etcd ? etcd.removeMachineMember(machineName) : { removed: false, leadershipMoved: false, members: [] };
  }

  /** Removes an etcd member by id. */
  async removeEtcdMember(cluster: ClusterRef, memberId: string): Promise<EtcdMemberRemoval> {
    const etcd = await this.etcd(cluster);
    return etcd ? etcd.removeMember(memberId) : { removed: false, leadershipMoved: false, members: [] };
  }

  /** The cluster's etcd through its etcd static pods (etcd.ts); undefined before an API server exists. */
  private async etcd(cluster: ClusterRef): Promise<PodEtcd | undefined> {
    const kubeconfig = await this.kubeconfig(cluster);
    if (!kubeconfig) return undefined;
    const k8s = await loadKubernetesClient();
    const config = await this.nodes.config(kubeconfig);
    return new PodEtcd(config.makeApiClient(k8s.CoreV1Api), this.options.etcdctl ?? (await execRunner(config)));
  }
}
