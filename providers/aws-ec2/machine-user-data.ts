/**
 * The user data of a new machine: whether it runs `kubeadm init` or joins, the cluster secrets it needs (created
 * with the first control-plane machine's kubeconfig), and a join token that lives long enough for it to join. Its
 * own file because deciding init-or-join and keeping the join token fresh is the provider's part of bootstrapping;
 * bootstrap.ts renders the script itself, cluster-secrets.ts keeps the secrets.
 *
 * Note: "first" control-plane machine means: no other live control-plane instance of this cluster uid exists when it
 * is created. The planner creates control-plane machines one at a time, which keeps that decision race-free.
 */
import type { ClusterSpec } from '../../functions/domain/cluster.js';
import { ProviderUnavailableError } from '../../functions/domain/errors.js';
import type { MachineRole } from '../../functions/domain/machine.js';
import { TAGS, type ClusterRef, type CreateMachineRequest } from '../../functions/domain/provider.js';
import { withThrottleRetries, type RetryOptions } from './aws-errors.js';
import { renderUserData, type BootstrapKind } from './bootstrap.js';
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
import type { MemberClients } from './credentials.js';
import type { MachinePlacement } from './infrastructure.js';
import { clusterInstanceFilters, describeLiveInstances } from './instances.js';
import { awsInfrastructureOf } from './network-context.js';
import { COMPONENTS, COMPONENT_TAG, resourceTags, tagMap } from './network.js';
import type { NodeOperations } from './nodes.js';

/** The tags of a cluster's secrets: its identity, the spec's own tags, and the secret component. */
export function clusterSecretTags(cluster: ClusterRef, spec: ClusterSpec): Record<string, string> {
  return resourceTags(cluster, awsInfrastructureOf(spec).tags, { [COMPONENT_TAG]: COMPONENTS.secret });
}

/** What rendering a machine's user data uses. */
export interface UserDataDeps {
  /** The member account's clients (instances to decide init or join, the cluster secrets). */
  readonly clients: Pick<MemberClients, 'ec2' | 'secrets'>;
  /** Mints a new join token in the cluster when the stored one runs short. */
  readonly nodes: Pick<NodeOperations, 'api' | 'createBootstrapToken'>;
  /** Capstan's admin kubeconfig of the cluster; undefined until its first control-plane machine was created. */
  readonly kubeconfig: (cluster: ClusterRef) => Promise<string | undefined>;
  /** @default 3 attempts, full jitter from 200 ms */
  readonly retry?: RetryOptions;
}

/**
 * The user data script of a machine about to be launched (contract P6 and P9: it POSTs the Ready callback and holds
 * only the callback token, never a secret). Throws ProviderUnavailableError while the API load balancer has no name.
 */
export async function renderMachineUserData(deps: UserDataDeps, request: CreateMachineRequest, placement: MachinePlacement): Promise<string> {
  const { cluster, spec } = request;
  const c = deps.clients;
  if (!placement.controlPlaneEndpoint) throw new ProviderUnavailableError(`cluster ${cluster.name}: API server load balancer not ready`);
  let kind: BootstrapKind = 'join-worker';
  if (request.role === 'control-plane') {
    const controlPlanes = await describeLiveInstances(c.ec2, [...clusterInstanceFilters(cluster.uid), { Name: `tag:${TAGS.role}`, Values: ['control-plane' satisfies MachineRole] }], deps.retry);
    kind = controlPlanes.some((i) => tagMap(i.Tags)[TAGS.machine] !== request.name) ? 'join-control-plane' : 'init';
  }
  // The first control-plane machine is when Capstan's admin kubeconfig starts to matter: it is created then. Its
  // renewal is ensureInfrastructure's, so a join does not read it again here.
  const secrets = await ensureClusterSecrets(c.secrets, cluster, {
    tags: clusterSecretTags(cluster, spec),
    vpcId: placement.vpcId,
    ...(kind === 'init' ? { endpoint: `https://${placement.controlPlaneEndpoint}`, createKubeconfig: true } : {}),
    ...(deps.retry ? { retry: deps.retry } : {}),
  });
  if (kind !== 'init') await ensureJoinToken(deps, cluster, secrets.join);
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
    region: awsInfrastructureOf(spec).region,
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
async function ensureJoinToken(deps: UserDataDeps, cluster: ClusterRef, joinSecret: string): Promise<void> {
  const c = deps.clients;
  const name = clusterSecretNames(cluster).join;
  const join = parseJoinSecret(await withThrottleRetries('GetSecretValue', () => readSecret(c.secrets, joinSecret, deps.retry), deps.retry), name);
  const now = Date.now();
  if (Date.parse(join.expires) - now >= MIN_TOKEN_LIFETIME_MS) return;
  const kubeconfig = await deps.kubeconfig(cluster);
  if (!kubeconfig) throw new ProviderUnavailableError(`cluster ${cluster.name}: the join token expired and there is no API server to mint a new one yet`);
  const token = generateBootstrapToken();
  const expires = new Date(now + BOOTSTRAP_TOKEN_TTL_MS);
  await deps.nodes.createBootstrapToken(await deps.nodes.api(kubeconfig), token, expires);
  await withThrottleRetries('PutSecretValue', () => writeSecret(c.secrets, joinSecret, JSON.stringify({ ...join, token, expires: expires.toISOString() }), deps.retry), deps.retry);
}
