/**
 * The contract harness of the EC2 provider: the real provider, real SDK clients and real STS credential cache,
 * over the in-memory AWS of fake-aws.ts. A launched instance "boots": the fake reads its cloud-init user data,
 * registers a Ready node of the machine's name in the fake Kubernetes API, publishes the admin kubeconfig the way
 * the first control-plane machine does, and POSTs the Ready callback with the token found in the user data.
 */
import { parse } from 'yaml';
import type { ClusterSpec } from '../../../functions/domain/cluster.js';
import type { ClusterRef, ProviderScope } from '../../../functions/domain/provider.js';
import { clusterSecretNames } from '../../../providers/aws-ec2/bootstrap.js';
import { MemberCredentials } from '../../../providers/aws-ec2/credentials.js';
import { Ec2Provider } from '../../../providers/aws-ec2/ec2-provider.js';
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

/** Builds the harness; `options` tune the fake AWS. */
export async function makeEc2Harness(options: FakeAwsOptions = {}) {
  const kube = await startFakeKubeApi();
  const callbackServer = await startCallbackServer();
  const cluster: ClusterRef = { name: 'demo', uid: 'uid-0001', scope };
  const spec = awsSpec();
  const pendingBoots: Promise<unknown>[] = [];
  const fake = createFakeAws({
    ...options,
    onLaunch: (instance) => {
      const facts = bootFacts(instance.input.UserData);
      if (!facts.node) return; // user data not rendered by Capstan: nothing boots
      kube.addNode(facts.node);
      const names = clusterSecretNames({ name: instance.tags['capstan.dev/cluster'] ?? '', uid: instance.tags['capstan.dev/cluster-uid'] ?? '' });
      const kc = fake.secrets.get(names.kubeconfig);
      if (kc) kc.value ??= kube.kubeconfig();
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
  const make = () =>
    new Ec2Provider({
      credentials: new MemberCredentials({ externalId: 'capstan-test' }),
      retry: { sleep: async () => undefined },
      nodes: new NodeOperations({ pollIntervalMs: 10 }),
    });
  const provider = make();
  // The contract creates machines without ensureInfrastructure (the local provider needs none); EC2 machines need a
  // network, so the harness prepares one for each cluster incarnation the suite uses.
  for (const ref of [cluster, { ...cluster, uid: `${cluster.uid}-2` }, { ...cluster, name: `${cluster.name}-b`, uid: `${cluster.uid}-b` }]) {
    // Until ready: on the strict fake the NAT gateway is pending and the NLB provisioning for a Describe or two.
    for (let i = 0; i < 5 && !(await provider.ensureInfrastructure(ref, spec)).ready; i++);
  }
  fake.resetCalls();
  const harness: ProviderHarness & { fake: typeof fake; kube: typeof kube; callbackServer: typeof callbackServer } = {
    provider,
    scope,
    cluster,
    spec,
    fake,
    kube,
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
