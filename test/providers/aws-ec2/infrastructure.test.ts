import { carveSubnets, desiredIngress, loadBalancerName, ruleKey, targetGroupName } from '../../../providers/aws-ec2/network.js';
import { TAGS } from '../../../functions/domain/provider.js';
import type { ClusterSpec } from '../../../functions/domain/cluster.js';
import { MemberCredentials } from '../../../providers/aws-ec2/credentials.js';
import { Ec2Provider } from '../../../providers/aws-ec2/ec2-provider.js';
import { awsSpec, makeEc2Harness } from './ec2-harness.js';

type Harness = Awaited<ReturnType<typeof makeEc2Harness>>;
const MUTATING = /^(Create|Allocate|Associate|Attach|Authorize|Modify|Run|Register|Delete|Release|Detach|Disassociate|Revoke|Terminate|Deregister|Put)/;

/** Runs ensureInfrastructure until it reports ready (the NAT gateway and the NLB take a while), at most 5 times. */
async function ensureUntilReady(h: Harness, ref: Parameters<Harness['provider']['ensureInfrastructure']>[0], spec = h.spec) {
  const runs: Awaited<ReturnType<Harness['provider']['ensureInfrastructure']>>[] = [];
  while (runs.length < 5 && !runs.at(-1)?.ready) runs.push(await h.provider.ensureInfrastructure(ref, spec));
  return runs;
}

describe('Ec2Provider.ensureInfrastructure', () => {
  let h: Harness;
  const fresh = { name: 'fresh', uid: 'uid-fresh', scope: { provider: 'aws', account: '111122223333', region: 'eu-west-1' } } as const;
  beforeEach(async () => (h = await makeEc2Harness()));
  afterEach(() => h.cleanup());

  it('creates a VPC with a public and a private subnet per AZ, gateways, routes, groups and the API load balancer, all tagged', async () => {
    const runs = await ensureUntilReady(h, fresh);
    const status = runs.at(-1)!;
    expect(runs.map((r) => r.ready)).toEqual([false, false, true]); // NAT gateway pending, NLB provisioning (one Describe longer), then ready
    const mine = [...h.fake.resources.values()].filter((r) => r.tags[TAGS.clusterUid] === fresh.uid);
    const count = (kind: string) => mine.filter((r) => r.kind === kind).length;
    expect([count('vpc'), count('subnet'), count('igw'), count('eip'), count('nat'), count('rt'), count('sg'), count('lb'), count('tg')]).toEqual([1, 4, 1, 1, 1, 2, 3, 1, 1]);
    for (const r of mine) expect(r.tags).toMatchObject({ [TAGS.managed]: 'true', [TAGS.cluster]: 'fresh', [TAGS.clusterUid]: 'uid-fresh', team: 'platform' });
    expect(mine.filter((r) => r.kind === 'subnet').map((s) => `${s.az} ${s.cidr} ${s.tags['capstan.dev/component']}`).sort()).toEqual([
      'eu-west-1a 10.0.0.0/18 public-subnet',
      'eu-west-1a 10.0.128.0/18 private-subnet',
      'eu-west-1b 10.0.192.0/18 private-subnet',
      'eu-west-1b 10.0.64.0/18 public-subnet',
    ]);
    expect(status).toEqual({ ready: true, controlPlaneEndpoint: `https://${loadBalancerName('uid-fresh')}-0123456789.elb.eu-west-1.amazonaws.com:6443`, failureDomains: ['eu-west-1a', 'eu-west-1b'] });
    const privateRt = mine.find((r) => r.tags['capstan.dev/component'] === 'private-route-table')!;
    expect(privateRt.routes).toEqual([expect.objectContaining({ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: mine.find((r) => r.kind === 'nat')!.id })]);
    expect(h.fake.ec2Mock.commandCalls((await import('@aws-sdk/client-ec2')).CreateNatGatewayCommand)[0]!.args[0].input.ClientToken).toMatch(/^capstan-nat-/);
  });

  it('creates nothing once ready', async () => {
    const first = (await ensureUntilReady(h, fresh)).at(-1)!;
    h.fake.resetCalls();
    const second = await h.provider.ensureInfrastructure(fresh, h.spec);
    expect(second).toEqual(first);
    expect(h.fake.calls.filter((c) => MUTATING.test(c))).toEqual([]);
  });

  it('reports not ready while the NAT gateway is pending and adds the private route once it is available', async () => {
    await h.cleanup();
    h = await makeEc2Harness({ natAvailableAtOnce: false, loadBalancerProvisioningDescribes: 0 });
    const first = await h.provider.ensureInfrastructure(fresh, h.spec);
    const privateRt = () => [...h.fake.resources.values()].find((r) => r.tags[TAGS.clusterUid] === fresh.uid && r.tags['capstan.dev/component'] === 'private-route-table')!;
    expect([first.ready, privateRt().routes.length]).toEqual([false, 0]);
    const second = await h.provider.ensureInfrastructure(fresh, h.spec);
    expect([second.ready, privateRt().routes.length]).toEqual([true, 1]);
  });

  it('is not ready while the load balancer is provisioning, even with the NAT gateway available', async () => {
    await h.cleanup();
    h = await makeEc2Harness({ natAvailableAtOnce: true, loadBalancerProvisioningDescribes: 1 });
    const runs = await ensureUntilReady(h, fresh);
    expect(runs.map((r) => r.ready)).toEqual([false, false, true]);
  });

  it('adds every missing rule when one of them exists already (a batch fails whole on one duplicate)', async () => {
    await ensureUntilReady(h, fresh);
    const sg = h.fake.of('sg').find((g) => g.tags[TAGS.clusterUid] === fresh.uid && g.tags['capstan.dev/component'] === 'control-plane-sg')!;
    const all = structuredClone(sg.permissions);
    sg.permissions = all.slice(0, 1); // all but one rule lost (or never added by a crashed run)
    h.fake.staleSecurityGroupRules(1); // and our view of the group is stale: we ask for all of them again
    await h.provider.ensureInfrastructure(fresh, h.spec);
    expect(h.fake.requests.filter((r) => r.action === 'AuthorizeSecurityGroupIngress').some((r) => r.result === 'InvalidPermission.Duplicate')).toBe(true);
    expect(sg.permissions.map((p: any) => JSON.stringify(p)).sort()).toEqual(all.map((p: any) => JSON.stringify(p)).sort());
  });

  it('creates only security groups and the load balancer in a bring-your-own VPC', async () => {
    await ensureUntilReady(h, fresh); // someone's existing VPC
    const vpc = [...h.fake.resources.values()].find((r) => r.kind === 'vpc' && r.tags[TAGS.clusterUid] === fresh.uid)!;
    const subnets = [...h.fake.resources.values()].filter((r) => r.kind === 'subnet' && r.vpcId === vpc.id).map((s) => s.id);
    const byo = { ...fresh, name: 'byo', uid: 'uid-byo' };
    const spec = awsSpec({ infrastructure: { provider: 'aws', account: '111122223333', region: 'eu-west-1', vpcId: vpc.id, subnetIds: subnets } });
    h.fake.resetCalls();
    const status = (await ensureUntilReady(h, byo, spec)).at(-1)!;
    // Two secrets (CAs, join): the admin kubeconfig comes with the first control-plane machine
    expect(h.fake.calls.filter((c) => c.startsWith('Create')).sort()).toEqual(['CreateListener', 'CreateLoadBalancer', 'CreateSecret', 'CreateSecret', 'CreateSecurityGroup', 'CreateSecurityGroup', 'CreateSecurityGroup', 'CreateTargetGroup']);
    expect(status.ready).toBe(true);
    h.fake.resetCalls();
    expect(await h.provider.deleteInfrastructure(byo, spec)).toEqual({ done: true });
    expect(h.fake.calls.filter((c) => c.startsWith('Delete')).sort()).toEqual(['DeleteLoadBalancer', 'DeleteSecret', 'DeleteSecret', 'DeleteSecret', 'DeleteSecurityGroup', 'DeleteSecurityGroup', 'DeleteSecurityGroup', 'DeleteTargetGroup']);
    expect(h.fake.resources.has(vpc.id)).toBe(true);
  });
});

describe('Ec2Provider.ensureInfrastructure: API server access (spec.controlPlane.endpoint)', () => {
  let h: Harness;
  const ref = { name: 'locked', uid: 'uid-locked', scope: { provider: 'aws', account: '111122223333', region: 'eu-west-1' } } as const;
  beforeEach(async () => (h = await makeEc2Harness()));
  afterEach(() => h.cleanup());
  const provider = () => new Ec2Provider({ credentials: new MemberCredentials({ externalId: 'capstan-test' }), retry: { sleep: async () => undefined }, managementCidrs: ['198.51.100.0/24'] });
  const ensure = async (endpoint?: ClusterSpec['controlPlane']['endpoint']) => {
    const spec = awsSpec({ controlPlane: { ...h.spec.controlPlane, ...(endpoint ? { endpoint } : {}) } });
    const p = provider();
    for (let i = 0; i < 5 && !(await p.ensureInfrastructure(ref, spec)).ready; i++);
  };
  const mine = (kind: string) => h.fake.of(kind).filter((r) => r.tags[TAGS.clusterUid] === ref.uid);
  const lbRules = () => {
    const sg = mine('sg').find((g) => g.tags['capstan.dev/component'] === 'api-lb-sg')!;
    return sg.permissions.flatMap((p: any) => (p.IpRanges ?? []).map((r: any) => `${p.IpProtocol}/${p.FromPort} ${r.CidrIp}`)).sort();
  };

  it('admits 6443 only from the VPC, the NAT gateway, Capstan and the allow-list, on an internet-facing NLB with its own group', async () => {
    await ensure({ scheme: 'internet-facing', allowedCidrs: ['192.0.2.0/24'] });
    const natIp = mine('eip')[0]!.publicIp;
    expect(lbRules()).toEqual(['tcp/6443 10.0.0.0/16', `tcp/6443 ${natIp}/32`, 'tcp/6443 192.0.2.0/24', 'tcp/6443 198.51.100.0/24'].sort());
    const lb = mine('lb')[0]!;
    const lbSg = mine('sg').find((g) => g.tags['capstan.dev/component'] === 'api-lb-sg')!;
    expect({ scheme: lb.scheme, securityGroups: lb.securityGroups, subnets: lb.subnets.map((id: string) => h.fake.resources.get(id)!.tags['capstan.dev/component']) }).toEqual({
      scheme: 'internet-facing',
      securityGroups: [lbSg.id],
      subnets: ['public-subnet', 'public-subnet'],
    });
  });

  it('defaults to internet-facing with only Capstan\'s own sources when the spec says nothing', async () => {
    await ensure();
    expect(lbRules()).toEqual(['tcp/6443 10.0.0.0/16', `tcp/6443 ${mine('eip')[0]!.publicIp}/32`, 'tcp/6443 198.51.100.0/24'].sort());
    expect(lbRules()).not.toContain('tcp/6443 0.0.0.0/0');
  });

  it('puts an internal NLB in the private subnets and admits the VPC, not the NAT gateway', async () => {
    await ensure({ scheme: 'internal', allowedCidrs: [] });
    expect(lbRules()).toEqual(['tcp/6443 10.0.0.0/16', 'tcp/6443 198.51.100.0/24']);
    const lb = mine('lb')[0]!;
    expect([lb.scheme, ...lb.subnets.map((id: string) => h.fake.resources.get(id)!.tags['capstan.dev/component'])]).toEqual(['internal', 'private-subnet', 'private-subnet']);
  });

  it('revokes an allow-list entry removed from the spec', async () => {
    await ensure({ scheme: 'internet-facing', allowedCidrs: ['192.0.2.0/24', '203.0.113.64/26'] });
    await ensure({ scheme: 'internet-facing', allowedCidrs: ['203.0.113.64/26'] });
    expect(lbRules()).not.toContain('tcp/6443 192.0.2.0/24');
    expect(lbRules()).toContain('tcp/6443 203.0.113.64/26');
  });
});

describe('Ec2Provider.deleteInfrastructure', () => {
  let h: Harness;
  beforeEach(async () => (h = await makeEc2Harness({ natAvailableAtOnce: false })));
  afterEach(() => h.cleanup());

  it('tears down in dependency order, not done until everything is gone', async () => {
    const results: boolean[] = [];
    for (let i = 0; i < 10 && results.at(-1) !== true; i++) results.push((await h.provider.deleteInfrastructure(h.cluster, h.spec)).done);
    const order = h.fake.calls.filter((c) => MUTATING.test(c));
    const first = (name: string) => order.indexOf(name);
    const sequence = ['DeleteLoadBalancer', 'DeleteTargetGroup', 'DeleteNatGateway', 'ReleaseAddress', 'DetachInternetGateway', 'DeleteInternetGateway', 'DeleteSubnet', 'DeleteRouteTable', 'DeleteSecurityGroup', 'DeleteVpc', 'DeleteSecret'];
    expect(sequence.map(first).every((index, i, all) => index >= 0 && (i === 0 || index > all[i - 1]!))).toBe(true);
    expect(results[0]).toBe(false); // the NAT gateway is still deleting
    expect(results.at(-1)).toBe(true);
    expect([...h.fake.resources.values()].filter((r) => r.tags[TAGS.clusterUid] === h.cluster.uid && r.kind !== 'nat')).toEqual([]);
    expect(await h.provider.deleteInfrastructure(h.cluster, h.spec)).toEqual({ done: true });
  });

  it('is not done while an instance still uses the subnets and groups', async () => {
    await h.provider.createMachine({ cluster: h.cluster, name: 'demo-md-0-1', role: 'worker', pool: 'md-0', version: 'v1.31.4', template: { instanceType: 'm6i.large' }, bootstrap: h.bootstrapFor!('demo-md-0-1'), spec: h.spec });
    for (let i = 0; i < 5; i++) expect(await h.provider.deleteInfrastructure(h.cluster, h.spec)).toEqual({ done: false });
    expect(h.fake.of('subnet').some((s) => s.tags[TAGS.clusterUid] === h.cluster.uid)).toBe(true);
  });
});

describe('carveSubnets', () => {
  it.each([
    ['10.0.0.0/16', ['a'], [['10.0.0.0/17', '10.0.128.0/17']]],
    ['10.0.0.0/16', ['a', 'b'], [['10.0.0.0/18', '10.0.128.0/18'], ['10.0.64.0/18', '10.0.192.0/18']]],
    ['10.0.0.0/16', ['a', 'b', 'c'], [['10.0.0.0/19', '10.0.96.0/19'], ['10.0.32.0/19', '10.0.128.0/19'], ['10.0.64.0/19', '10.0.160.0/19']]],
    ['172.16.0.0/20', ['a', 'b'], [['172.16.0.0/22', '172.16.8.0/22'], ['172.16.4.0/22', '172.16.12.0/22']]],
  ])('carves %s over %j', (cidr, azs, expected) => {
    expect(carveSubnets(cidr, azs).map((p) => [p.publicCidr, p.privateCidr])).toEqual(expected);
  });

  it.each([
    ['not a CIDR', 'banana'],
    ['too small for the AZs', '10.0.0.0/27'],
  ])('fails when the VPC CIDR is %s', (_name, cidr) => {
    expect(() => carveSubnets(cidr, ['a', 'b', 'c'])).toThrow(/spec.network.vpcCidr/);
  });
});

describe('desiredIngress', () => {
  const rules = desiredIngress('10.0.0.0/16', 'sg-cp', 'sg-node');
  const keys = (list: typeof rules.controlPlane) => new Set(list.map(ruleKey));
  it.each([
    ['API server from the VPC', 'controlPlane', 'tcp|6443-6443|10.0.0.0/16', true],
    ['etcd from the control plane', 'controlPlane', 'tcp|2379-2380|sg:sg-cp', true],
    ['etcd never from nodes', 'controlPlane', 'tcp|2379-2380|sg:sg-node', false],
    ['kubelet from the control plane on nodes', 'node', 'tcp|10250-10250|sg:sg-cp', true],
    ['kubelet from the control plane on the control plane', 'controlPlane', 'tcp|10250-10250|sg:sg-cp', true],
    ['no API server port on nodes', 'node', 'tcp|6443-6443|10.0.0.0/16', false],
  ] as const)('%s', (_name, group, key, present) => {
    expect(keys(rules[group]).has(key)).toBe(present);
  });
});

describe('load balancer names', () => {
  it('fit the 32-character ELB limit and differ per cluster uid', () => {
    const names = [loadBalancerName('a'), targetGroupName('a'), loadBalancerName('b')];
    expect(names.every((n) => n.length <= 32 && /^[a-z0-9-]+$/.test(n))).toBe(true);
    expect(new Set(names).size).toBe(3);
  });
});
