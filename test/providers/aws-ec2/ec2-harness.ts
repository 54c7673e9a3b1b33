/**
 * The contract harness of the EC2 provider: the real provider, real SDK clients and real STS credential cache,
 * over the in-memory AWS of fake-aws.ts. A launched instance "boots": the fake reads its cloud-init user data,
 * registers a Ready node of the machine's name in the fake Kubernetes API and POSTs the Ready callback with the token
 * found in the user data. Capstan's own admin kubeconfig (made by the provider, cluster-secrets.ts) names the load
 * balancer's DNS name; the harness sends its requests to the fake Kubernetes API on loopback instead.
 */
import { parse, stringify } from 'yaml';
import type { ClusterSpec } from '../../../functions/domain/cluster.js';
import type { ClusterRef, ProviderScope } from '../../../functions/domain/provider.js';
import { clusterSecretNames, parseControlPlaneSecret } from '../../../providers/aws-ec2/cluster-secrets.js';
import { MemberCredentials } from '../../../providers/aws-ec2/credentials.js';
import { adminKubeconfig, clusterCaOf } from '../../../providers/aws-ec2/pki.js';
import { Ec2Provider } from '../../../providers/aws-ec2/ec2-provider.js';
import type { EtcdctlRunner } from '../../../providers/aws-ec2/etcd.js';
import { NodeOperations } from '../../../providers/aws-ec2/nodes.js';
import type { ProviderHarness } from '../contract.js';
import { startCallbackServer } from '../local-harness.js';
import { createFakeAws, type FakeAwsOptions } from './fake-aws.js';
import { startFakeKubeApi } from './fake-kube-api.js';

export const scope: ProviderScope = { provider: 'aws', account: '111122223333', region: 'eu-west-1' };

/** A valid spec of an EC2 cluster in two AZs. */
export function awsSpec(overrides: Partial<ClusterSpec> = {}): ClusterSpec {
  const machine = { instanceType: 'm6i.large' };
  return {
    infrastructure: { provider: 'aws', account: scope.account, region: scope.region, tags: { team: 'platform' } },
    version: 'v1.31.4',
    network: { podCidr: '192.168.0.0/16', serviceCidr: '10.96.0.0/12', vpcCidr: '10.0.0.0/16' },
    failureDomains: ['eu-west-1a', 'eu-west-1b'],
    controlPlane: { replicas: 3, machine, rollout: { maxSurge: 1 } },
    workers: [{ name: 'md-0', replicas: 3, machine, rollout: { strategy: 'RollingUpdate', maxSurge: 1, maxUnavailable: 0, deletionOrder: 'Random' } }],
    healthCheck: { nodeStartupTimeout: '10m', unhealthyTimeout: '5m', maxUnhealthy: '40%' },
    drain: { timeout: '10m', policy: 'Wait' },
    paused: false,
    ...overrides,
  };
}

/** Reads what a machine's boot script would: node name, callback URL and token, from base64 user data. */
export function bootFacts(userDataBase64: string): { node: string; callbackUrl: string; callbackToken: string } {
  const doc = parse(Buffer.from(userDataBase64, 'base64').toString('utf8')) as { write_files?: { path: string; content: string }[] };
  const file = (p: string) => doc.write_files?.find((f) => f.path === p)?.content ?? '';
  const unquote = (s: string | undefined) => (s ?? '').replace(/^'|'$/g, '');
  const env = Object.fromEntries(file('/etc/capstan/callback.env').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), unquote(l.slice(l.indexOf('=') + 1))]));
  return { node: unquote(/^NODE_NAME=(.*)$/m.exec(file('/usr/local/bin/capstan-bootstrap'))?.[1]), callbackUrl: env.CALLBACK_URL ?? '', callbackToken: env.CALLBACK_TOKEN ?? '' };
}

/**
 * Node operations whose API server is the fake Kubernetes API (plain HTTP on loopback), whatever server the stored
 * kubeconfig names. The kubeconfig is Capstan's own (cluster-secrets.ts); its certificates are checked against real
 * TLS peers in pki.test.ts, and the fake serves no TLS, so the redirected copy skips server verification.
 */
export class LoopbackNodeOperations extends NodeOperations {
  constructor(private readonly url: string, options: ConstructorParameters<typeof NodeOperations>[0] = {}) {
    super(options);
  }
  override async config(kubeconfig: string) {
    const doc = parse(kubeconfig) as { clusters: { cluster: Record<string, unknown> }[] };
    doc.clusters[0]!.cluster = { server: this.url, 'insecure-skip-tls-verify': true };
    return super.config(stringify(doc));
  }
}

/**
 * The etcd of the harness's clusters as `etcdctl` in an etcd pod would answer (output formats of etcdctl 3.5
 * `-w simple`, see providers/aws-ec2/etcd.ts): one member per control-plane node that joined, the first one leads,
 * `move-leader` and `member remove` change that. A member whose node is gone stays listed (as in etcd) until removed.
 */
export function fakeEtcd() {
  const members = new Map<string, string>(); // name → hex id
  let leader: string | undefined;
  let seq = 0;
  const ok = (stdout: string) => ({ ok: true, stdout, stderr: '' });
  const runner: EtcdctlRunner = async (pod, args) => {
    const self = pod.replace(/^etcd-/, '');
    const byId = (id: string) => [...members].find(([, i]) => i === id)?.[0];
    switch (args[0]) {
      case 'member':
        if (args[1] === 'list') return ok([...members].map(([name, id]) => `${id}, started, ${name}, https://${name}:2380, https://${name}:2379, false`).join('\n'));
        if (args[1] === 'remove') {
          const name = byId(args[2] ?? '');
          if (!name) return { ok: false, stdout: '', stderr: `Error: etcdserver: member not found` };
          members.delete(name);
          if (leader === name) leader = members.keys().next().value;
          return ok(`Member ${args[2]} removed from cluster`);
        }
        break;
      case 'endpoint':
        if (members.has(self)) return ok(`https://127.0.0.1:2379, ${members.get(self)}, 3.5.16, 20 MB, ${leader === self}, false, 2, 10, 10, `);
        return { ok: false, stdout: '', stderr: 'context deadline exceeded' };
      case 'move-leader':
        if (leader !== self) return { ok: false, stdout: '', stderr: 'etcdserver: not leader' };
        leader = byId(args[1] ?? '') ?? leader;
        return ok(`Leadership transferred from ${members.get(self)} to ${args[1]}`);
    }
    return { ok: false, stdout: '', stderr: `fake etcdctl: unsupported ${args.join(' ')}` };
  };
  return {
    members,
    runner,
    add(name: string) {
      members.set(name, (++seq).toString(16).padStart(16, '0'));
      leader ??= name;
    },
  };
}

/** Builds the harness; `options` tune the fake AWS. */
export async function makeEc2Harness(options: FakeAwsOptions = {}) {
  const kube = await startFakeKubeApi();
  const callbackServer = await startCallbackServer();
  const cluster: ClusterRef = { name: 'demo', uid: 'uid-0001', scope };
  const spec = awsSpec();
  const pendingBoots: Promise<unknown>[] = [];
  const etcd = fakeEtcd();
  const fake = createFakeAws({
    ...options,
    onLaunch: (instance) => {
      const facts = bootFacts(instance.input.UserData);
      if (!facts.node) return; // user data not rendered by Capstan: nothing boots
      const controlPlane = instance.tags['capstan.dev/role'] === 'control-plane';
      kube.addNode(facts.node, { controlPlane });
      if (controlPlane) etcd.add(facts.node); // kubeadm init / join --control-plane adds the member
      standInForFirstControlPlane(instance.tags['capstan.dev/cluster'] ?? '', instance.tags['capstan.dev/cluster-uid'] ?? '');
      pendingBoots.push(
        fetch(facts.callbackUrl, {
          method: 'POST',
          headers: { authorization: `Bearer ${facts.callbackToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ machine: facts.node, providerId: `aws:///${instance.az}/${instance.id}` }),
        }).catch(() => undefined),
      );
      options.onLaunch?.(instance);
    },
  });
  /**
   * The contract launches workers of clusters that never had a control plane; Capstan makes a cluster's admin
   * kubeconfig with its first control-plane machine, so the harness does that step for such a cluster, with the real
   * code (pki.ts) and the CAs the provider stored.
   */
  function standInForFirstControlPlane(name: string, uid: string): void {
    const names = clusterSecretNames({ name, uid });
    const cp = fake.secrets.get(names.controlPlane);
    const lb = fake.of('lb').find((l) => l.tags['capstan.dev/cluster-uid'] === uid);
    if (fake.secrets.has(names.kubeconfig) || !cp?.value || !lb) return;
    const ca = clusterCaOf(parseControlPlaneSecret(cp.value, names.controlPlane).pki);
    const value = adminKubeconfig({ clusterName: name, server: `https://${lb.dns}:6443`, ca });
    fake.secrets.set(names.kubeconfig, { arn: `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${names.kubeconfig}-AbCdEf`, value, tags: { 'capstan.dev/secret-audience': 'capstan' } });
  }
  const make = () =>
    new Ec2Provider({
      credentials: new MemberCredentials({ externalId: 'capstan-test' }),
      retry: { sleep: async () => undefined },
      nodes: new LoopbackNodeOperations(kube.url, { pollIntervalMs: 10 }),
      etcdctl: etcd.runner,
    });
  const provider = make();
  // The contract creates machines without ensureInfrastructure (the local provider needs none); EC2 machines need a
  // network, so the harness prepares one for each cluster incarnation the suite uses.
  for (const ref of [cluster, { ...cluster, uid: `${cluster.uid}-2` }, { ...cluster, name: `${cluster.name}-b`, uid: `${cluster.uid}-b` }]) {
    // Until ready: on the strict fake the NAT gateway is pending and the NLB provisioning for a Describe or two.
    for (let i = 0; i < 5 && !(await provider.ensureInfrastructure(ref, spec)).ready; i++);
  }
  fake.resetCalls();
  const harness: ProviderHarness & { fake: typeof fake; kube: typeof kube; etcd: typeof etcd; callbackServer: typeof callbackServer } = {
    provider,
    scope,
    cluster,
    spec,
    fake,
    kube,
    etcd,
    callbackServer,
    callbacks: { waitForReady: (machine) => callbackServer.waitForReady(machine) },
    bootstrapFor: (machine) => callbackServer.bootstrapFor(machine),
    faults: { kinds: ['throttled', 'unavailable', 'capacity', 'rejected'], inject: (k) => fake.inject(k), clear: () => fake.clear() },
    reopen: make,
    async cleanup() {
      await Promise.all(pendingBoots);
      fake.restore();
      await kube.close();
      await callbackServer.close();
    },
  };
  return harness;
}
