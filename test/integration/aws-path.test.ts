/**
 * The cloud path end to end, offline (create 3 + 2, upgrade, scale both ways, delete): the same API, workflow file
 * and phase handlers as local mode, with the EC2 provider (real SDK clients, real STS credential cache, real kubeadm
 * user data) over an in-memory AWS. A launched
 * instance "boots" by reading its own cloud-init and calling back with the token it finds there.
 */
import { staticRegistry } from '../../providers/index.js';
import { makeEc2Harness } from '../providers/aws-ec2/ec2-harness.js';
import { clusterDoc, startTestStack, waitFor, waitReady, type TestStack } from './harness.js';

describe('an AWS cluster through the workflow with the EC2 provider (in-memory AWS)', () => {
  let stack: TestStack;
  let ec2: Awaited<ReturnType<typeof makeEc2Harness>>;

  beforeAll(async () => {
    ec2 = await makeEc2Harness();
    stack = await startTestStack({ providers: () => staticRegistry({ aws: ec2.provider }) });
  }, 60_000);

  afterAll(async () => {
    await stack?.destroy();
    await ec2?.cleanup();
  });

  const spec = {
    infrastructure: { provider: 'aws', account: '111122223333', region: 'eu-west-1' },
    version: 'v1.31.4',
    failureDomains: ['eu-west-1a', 'eu-west-1b'],
    controlPlane: { replicas: 3 },
    workers: [{ name: 'md-0', replicas: 2 }],
  };

  it('creates the network, the load balancer and tagged instances with client tokens, spread over the AZs', async () => {
    expect((await stack.call('PUT', '/v1/clusters/cloud', clusterDoc('cloud', spec))).status).toBe(201);
    const ready = await waitReady(stack, 'cloud', 60_000);
    expect(ready.status.controlPlaneEndpoint).toMatch(/^https:\/\/.+:6443$/);
    const machines = (await stack.call('GET', '/v1/clusters/cloud/machines')).body.items;
    expect(machines).toHaveLength(5);
    expect(machines.every((m: any) => /^aws:\/\/\/eu-west-1[ab]\/i-[0-9a-f]+$/.test(m.providerId))).toBe(true);
    expect(new Set(machines.filter((m: any) => m.role === 'control-plane').map((m: any) => m.failureDomain))).toEqual(new Set(['eu-west-1a', 'eu-west-1b']));
    const listed = await ec2.provider.listMachines({ provider: 'aws', account: '111122223333', region: 'eu-west-1' }, { cluster: 'cloud' });
    expect(listed.map((p) => p.name).sort()).toEqual(machines.map((m: any) => m.name).sort());
  }, 90_000);

  it('rolls every instance to a new version and terminates the old ones', async () => {
    await stack.call('PATCH', '/v1/clusters/cloud', { spec: { version: 'v1.32.0' } }, { 'content-type': 'application/merge-patch+json' });
    const ready = await waitReady(stack, 'cloud', 90_000);
    expect(ready.metadata.generation).toBe(2);
    const machines = (await stack.call('GET', '/v1/clusters/cloud/machines')).body.items;
    expect(machines.every((m: any) => m.version === 'v1.32.0')).toBe(true);
    const live = await ec2.provider.listMachines({ provider: 'aws', account: '111122223333', region: 'eu-west-1' }, { cluster: 'cloud' });
    expect(live.filter((p) => p.state !== 'terminated').map((p) => p.name).sort()).toEqual(machines.map((m: any) => m.name).sort());
    // Each retired control plane left etcd before its instance went (issue 12, defect 5): members = live control planes
    const controlPlanes = machines.filter((m: any) => m.role === 'control-plane').map((m: any) => m.name).sort();
    expect([...ec2.etcd.members.keys()].filter((n) => n.startsWith('cloud-')).sort()).toEqual(controlPlanes);
  }, 120_000);

  it('scales to 5 + 3 and back to 3 + 1: instances follow, etcd members follow the control plane', async () => {
    const live = async () => (await ec2.provider.listMachines({ provider: 'aws', account: '111122223333', region: 'eu-west-1' }, { cluster: 'cloud' })).filter((p) => p.state !== 'terminated');
    for (const [cp, workers] of [[5, 3], [3, 1]] as const) {
      await stack.call('PATCH', '/v1/clusters/cloud', { spec: { controlPlane: { replicas: cp }, workers: [{ name: 'md-0', replicas: workers }] } }, { 'content-type': 'application/merge-patch+json' });
      const machines = await waitFor(async () => {
        const c = (await stack.call('GET', '/v1/clusters/cloud')).body;
        const items = (await stack.call('GET', '/v1/clusters/cloud/machines')).body.items as { name: string; role: string }[];
        return c.status.phase === 'Ready' && c.status.observedGeneration === c.metadata.generation && items.length === cp + workers ? items : undefined;
      }, 90_000);
      expect((await live()).map((p) => p.name).sort()).toEqual(machines.map((m) => m.name).sort());
      const controlPlanes = machines.filter((m) => m.role === 'control-plane').map((m) => m.name).sort();
      expect(controlPlanes).toHaveLength(cp);
      expect([...ec2.etcd.members.keys()].filter((n) => n.startsWith('cloud-')).sort()).toEqual(controlPlanes);
    }
  }, 200_000);

  it('deletes the cluster: instances terminated, infrastructure torn down, record gone', async () => {
    const uid = (await stack.call('GET', '/v1/clusters/cloud')).body.metadata.uid;
    const ofCluster = (kind: string) => ec2.fake.of(kind).filter((r: any) => r.tags?.['capstan.dev/cluster-uid'] === uid);
    expect(ofCluster('vpc')).toHaveLength(1);
    expect((await stack.call('DELETE', '/v1/clusters/cloud')).status).toBe(202);
    await waitFor(async () => (await stack.call('GET', '/v1/clusters/cloud')).status === 404, 90_000);
    const live = await ec2.provider.listMachines({ provider: 'aws', account: '111122223333', region: 'eu-west-1' }, { cluster: 'cloud' });
    expect(live.filter((p) => p.state !== 'terminated')).toEqual([]);
    expect(ofCluster('vpc')).toEqual([]);
    expect(ofCluster('subnet')).toEqual([]);
    expect(ofCluster('sg')).toEqual([]);
  }, 120_000);
});
