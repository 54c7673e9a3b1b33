/**
 * A small in-memory AWS (EC2, ELBv2, Secrets Manager, STS) behind aws-sdk-client-mock `callsFake`: enough state and
 * rules for the EC2 provider's calls — tags and filters, ClientToken idempotency, dependency violations on delete,
 * NAT gateway and instance state transitions (one step per Describe call), pagination, fault injection.
 */
import { createHash } from 'node:crypto';
import * as ec2 from '@aws-sdk/client-ec2';
import * as elb from '@aws-sdk/client-elastic-load-balancing-v2';
import * as sm from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';

type Tags = Record<string, string>;
interface Res {
  id: string;
  kind: string;
  tags: Tags;
  [key: string]: any;
}

/** An AWS error as the SDK raises it. */
export function awsError(code: string, status = 400, message = code): Error {
  return Object.assign(new Error(message), { name: code, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
}

const FAULT_CODES = {
  throttled: ['RequestLimitExceeded', 503],
  unavailable: ['ServiceUnavailable', 503],
  capacity: ['InsufficientInstanceCapacity', 500],
  rejected: ['UnauthorizedOperation', 403],
} as const;

export type FakeFault = keyof typeof FAULT_CODES;

const toTags = (list: { Key?: string; Value?: string }[] | undefined): Tags => Object.fromEntries((list ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
const tagList = (tags: Tags) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const specTags = (specs: { ResourceType?: string; Tags?: { Key?: string; Value?: string }[] }[] | undefined, type: string) => toTags(specs?.find((s) => s.ResourceType === type)?.Tags);

/** One request the fake received, for evaluating against IAM policies (test/infra IAM tests read these). */
export interface FakeRequest {
  /** The IAM service prefix of the API. */
  readonly service: 'ec2' | 'elasticloadbalancing' | 'secretsmanager' | 'sts';
  /** The API name, e.g. `RunInstances`. */
  readonly action: string;
  /** The command input as sent (a copy). */
  readonly input: any;
  /** The client's region. */
  readonly region: string;
  /** `management` for the management credentials, else the RoleArn assumed through STS AssumeRole. */
  readonly principal: string;
  /** `ok`, or the error code the fake answered with. */
  result: 'ok' | string;
}

const SERVICE_OF: Record<string, FakeRequest['service']> = {
  ...Object.fromEntries(
    ['DescribeLoadBalancers', 'CreateLoadBalancer', 'DeleteLoadBalancer', 'DescribeListeners', 'CreateListener', 'DescribeTargetGroups', 'CreateTargetGroup', 'ModifyTargetGroupAttributes', 'DeleteTargetGroup', 'RegisterTargets', 'DeregisterTargets', 'DescribeTargetHealth', 'SetSecurityGroups', 'DescribeTags', 'AddTags'].map((a) => [a, 'elasticloadbalancing' as const]),
  ),
  ...Object.fromEntries(['DescribeSecret', 'CreateSecret', 'GetSecretValue', 'PutSecretValue', 'DeleteSecret', 'TagResource', 'UpdateSecret'].map((a) => [a, 'secretsmanager' as const])),
  AssumeRole: 'sts',
  GetCallerIdentity: 'sts',
};

/** Options of the fake. */
export interface FakeAwsOptions {
  /** NAT gateways are `available` at once (otherwise `pending` for one Describe). @default true */
  readonly natAvailableAtOnce?: boolean;
  /** Availability zones where RunInstances fails with InsufficientInstanceCapacity. */
  readonly noCapacityIn?: readonly string[];
  /** Called after an instance is launched (simulate its boot). */
  readonly onLaunch?: (instance: Res) => void;
  /** Images DescribeImages knows. @default one CAPA image per version used */
  readonly images?: { ImageId: string; Name: string; CreationDate: string; RootDeviceName?: string; OwnerId?: string }[];
}

/** The fake's state and its mocks; `restore()` un-mocks the SDK clients. */
export function createFakeAws(options: FakeAwsOptions = {}) {
  const resources = new Map<string, Res>();
  const tokens = new Map<string, { id: string; fingerprint: string }>();
  const secrets = new Map<string, { arn: string; value?: string; tags: Tags }>();
  const calls: string[] = [];
  const requests: FakeRequest[] = [];
  /** Access key id handed out by AssumeRole → the RoleArn it was assumed for. */
  const assumedRoles = new Map<string, string>();
  let seq = 0;
  let fault: FakeFault | undefined;
  const ec2Mock = mockClient(ec2.EC2Client);
  const elbMock = mockClient(elb.ElasticLoadBalancingV2Client);
  const smMock = mockClient(sm.SecretsManagerClient);
  const stsMock = mockClient(STSClient);
  const newId = (prefix: string) => `${prefix}-${(++seq).toString(16).padStart(8, '0')}`;
  const of = (kind: string) => [...resources.values()].filter((r) => r.kind === kind);
  const add = (r: Res) => (resources.set(r.id, r), r);

  function matches(r: Res, filters: { Name?: string; Values?: string[] }[] | undefined): boolean {
    return (filters ?? []).every((f) => {
      const values = f.Values ?? [];
      if (f.Name?.startsWith('tag:')) return values.includes(r.tags[f.Name.slice(4)] ?? '\u0000');
      if (f.Name === 'instance-state-name' || f.Name === 'state') return r.state === undefined || values.includes(r.state);
      if (f.Name === 'vpc-id') return values.includes(r.vpcId);
      return true;
    });
  }

  /** One step of time: pending things become ready, deleting things disappear. */
  function tick(): void {
    for (const r of resources.values()) {
      if (r.kind === 'instance' && r.state === 'pending') r.state = 'running';
      else if (r.kind === 'instance' && r.state === 'shutting-down') r.state = 'terminated';
      else if (r.kind === 'nat' && r.state === 'pending') r.state = 'available';
      else if (r.kind === 'nat' && r.state === 'deleting') r.state = 'deleted';
    }
  }

  /** Who sent a request: the management credentials, or the role whose AssumeRole returned the client's access key. */
  async function callerOf(getClient: (() => any) | undefined): Promise<{ region: string; principal: string }> {
    const client = getClient?.();
    const region = await Promise.resolve(typeof client?.config?.region === 'function' ? client.config.region() : client?.config?.region).catch(() => undefined);
    // Read the credentials the client was built with (`initConfig`), never the resolved provider: resolving the
    // default chain of a management client would probe the instance metadata service (no network here).
    const given = client?.initConfig?.credentials;
    const credentials = typeof given === 'function' ? await Promise.resolve(given()).catch(() => undefined) : given;
    return { region: region ?? 'unknown', principal: assumedRoles.get(credentials?.accessKeyId) ?? 'management' };
  }

  function guard<I, O>(name: string, fn: (input: I) => O | Promise<O>): (input: I, getClient?: () => any) => Promise<O> {
    const service = SERVICE_OF[name] ?? 'ec2';
    return async (input: I, getClient?: () => any) => {
      calls.push(name);
      const request: FakeRequest = { service, action: name, input: structuredClone(input), ...(await callerOf(getClient)), result: 'ok' };
      requests.push(request);
      try {
        if (fault) {
          const [code, status] = FAULT_CODES[fault];
          throw awsError(code, status);
        }
        return await fn(input);
      } catch (error) {
        request.result = (error as Error).name;
        throw error;
      }
    };
  }
  const liveInstancesIn = (pred: (i: Res) => boolean) => of('instance').filter((i) => i.state !== 'terminated' && pred(i));

  // ---- EC2: network
  ec2Mock.on(ec2.DescribeAvailabilityZonesCommand).callsFake(guard('DescribeAvailabilityZones', () => ({ AvailabilityZones: [{ ZoneName: 'eu-west-1b' }, { ZoneName: 'eu-west-1a' }] })));
  ec2Mock.on(ec2.DescribeVpcsCommand).callsFake(
    guard('DescribeVpcs', (i: ec2.DescribeVpcsCommandInput) => ({
      Vpcs: of('vpc')
        .filter((v) => (i.VpcIds ? i.VpcIds.includes(v.id) : matches(v, i.Filters)))
        .map((v) => ({ VpcId: v.id, CidrBlock: v.cidr, State: 'available', Tags: tagList(v.tags) })),
    })),
  );
  ec2Mock.on(ec2.CreateVpcCommand).callsFake(guard('CreateVpc', (i: ec2.CreateVpcCommandInput) => {
    const v = add({ id: newId('vpc'), kind: 'vpc', cidr: i.CidrBlock, tags: specTags(i.TagSpecifications, 'vpc') });
    return { Vpc: { VpcId: v.id, CidrBlock: v.cidr } };
  }));
  ec2Mock.on(ec2.ModifyVpcAttributeCommand).callsFake(guard('ModifyVpcAttribute', () => ({})));
  ec2Mock.on(ec2.DescribeSubnetsCommand).callsFake(
    guard('DescribeSubnets', (i: ec2.DescribeSubnetsCommandInput) => ({
      Subnets: of('subnet')
        .filter((s) => (i.SubnetIds ? i.SubnetIds.includes(s.id) : matches(s, i.Filters)))
        .map((s) => ({ SubnetId: s.id, VpcId: s.vpcId, AvailabilityZone: s.az, CidrBlock: s.cidr, Tags: tagList(s.tags) })),
    })),
  );
  ec2Mock.on(ec2.CreateSubnetCommand).callsFake(guard('CreateSubnet', (i: ec2.CreateSubnetCommandInput) => {
    const s = add({ id: newId('subnet'), kind: 'subnet', vpcId: i.VpcId, az: i.AvailabilityZone, cidr: i.CidrBlock, tags: specTags(i.TagSpecifications, 'subnet') });
    return { Subnet: { SubnetId: s.id } };
  }));
  ec2Mock.on(ec2.DeleteSubnetCommand).callsFake(guard('DeleteSubnet', (i: ec2.DeleteSubnetCommandInput) => {
    if (liveInstancesIn((x) => x.subnetId === i.SubnetId).length > 0) throw awsError('DependencyViolation');
    if (of('nat').some((n) => n.subnetId === i.SubnetId && n.state !== 'deleted')) throw awsError('DependencyViolation');
    if (!resources.delete(i.SubnetId!)) throw awsError('InvalidSubnetID.NotFound');
    for (const rt of of('rt')) rt.associations = rt.associations.filter((a: any) => a.subnetId !== i.SubnetId);
    return {};
  }));
  ec2Mock.on(ec2.DescribeInternetGatewaysCommand).callsFake(guard('DescribeInternetGateways', (i: ec2.DescribeInternetGatewaysCommandInput) => ({
    InternetGateways: of('igw').filter((g) => matches(g, i.Filters)).map((g) => ({ InternetGatewayId: g.id, Attachments: g.vpcId ? [{ VpcId: g.vpcId, State: 'available' }] : [], Tags: tagList(g.tags) })),
  })));
  ec2Mock.on(ec2.CreateInternetGatewayCommand).callsFake(guard('CreateInternetGateway', (i: ec2.CreateInternetGatewayCommandInput) => ({
    InternetGateway: { InternetGatewayId: add({ id: newId('igw'), kind: 'igw', tags: specTags(i.TagSpecifications, 'internet-gateway') }).id },
  })));
  ec2Mock.on(ec2.AttachInternetGatewayCommand).callsFake(guard('AttachInternetGateway', (i: ec2.AttachInternetGatewayCommandInput) => ((resources.get(i.InternetGatewayId!)!.vpcId = i.VpcId), {})));
  ec2Mock.on(ec2.DetachInternetGatewayCommand).callsFake(guard('DetachInternetGateway', (i: ec2.DetachInternetGatewayCommandInput) => {
    const vpcOfNat = (natId: string) => resources.get(resources.get(natId)?.subnetId)?.vpcId;
    if (of('eip').some((e) => e.natId && vpcOfNat(e.natId) === i.VpcId)) throw awsError('DependencyViolation'); // mapped public addresses
    delete resources.get(i.InternetGatewayId!)!.vpcId;
    return {};
  }));
  ec2Mock.on(ec2.DeleteInternetGatewayCommand).callsFake(guard('DeleteInternetGateway', (i: ec2.DeleteInternetGatewayCommandInput) => {
    if (resources.get(i.InternetGatewayId!)?.vpcId) throw awsError('DependencyViolation');
    resources.delete(i.InternetGatewayId!);
    return {};
  }));
  ec2Mock.on(ec2.DescribeAddressesCommand).callsFake(guard('DescribeAddresses', (i: ec2.DescribeAddressesCommandInput) => ({
    Addresses: of('eip').filter((e) => matches(e, i.Filters)).map((e) => ({ AllocationId: e.id, ...(e.natId ? { AssociationId: `eipassoc-${e.natId}` } : {}), Tags: tagList(e.tags) })),
  })));
  ec2Mock.on(ec2.AllocateAddressCommand).callsFake(guard('AllocateAddress', (i: ec2.AllocateAddressCommandInput) => ({ AllocationId: add({ id: newId('eipalloc'), kind: 'eip', tags: specTags(i.TagSpecifications, 'elastic-ip') }).id })));
  ec2Mock.on(ec2.ReleaseAddressCommand).callsFake(guard('ReleaseAddress', (i: ec2.ReleaseAddressCommandInput) => {
    if (resources.get(i.AllocationId!)?.natId) throw awsError('InvalidIPAddress.InUse');
    resources.delete(i.AllocationId!);
    return {};
  }));
  ec2Mock.on(ec2.DescribeNatGatewaysCommand).callsFake(guard('DescribeNatGateways', (i: ec2.DescribeNatGatewaysCommandInput) => {
    tick();
    for (const n of of('nat')) if (n.state === 'deleted') for (const e of of('eip')) if (e.natId === n.id) delete e.natId;
    return { NatGateways: of('nat').filter((n) => matches(n, i.Filter)).map((n) => ({ NatGatewayId: n.id, State: n.state, SubnetId: n.subnetId, Tags: tagList(n.tags) })) };
  }));
  ec2Mock.on(ec2.CreateNatGatewayCommand).callsFake(guard('CreateNatGateway', (i: ec2.CreateNatGatewayCommandInput) => {
    const prior = i.ClientToken ? tokens.get(i.ClientToken) : undefined;
    if (prior) return { NatGateway: { NatGatewayId: prior.id, State: resources.get(prior.id)?.state } };
    const n = add({ id: newId('nat'), kind: 'nat', subnetId: i.SubnetId, state: options.natAvailableAtOnce === false ? 'pending' : 'available', tags: specTags(i.TagSpecifications, 'natgateway') });
    resources.get(i.AllocationId!)!.natId = n.id;
    if (i.ClientToken) tokens.set(i.ClientToken, { id: n.id, fingerprint: '' });
    return { NatGateway: { NatGatewayId: n.id, State: n.state } };
  }));
  ec2Mock.on(ec2.DeleteNatGatewayCommand).callsFake(guard('DeleteNatGateway', (i: ec2.DeleteNatGatewayCommandInput) => ((resources.get(i.NatGatewayId!)!.state = 'deleting'), {})));
  ec2Mock.on(ec2.DescribeRouteTablesCommand).callsFake(guard('DescribeRouteTables', (i: ec2.DescribeRouteTablesCommandInput) => ({
    RouteTables: of('rt').filter((r) => matches(r, i.Filters)).map((r) => ({
      RouteTableId: r.id,
      Routes: r.routes,
      Associations: r.associations.map((a: any) => ({ RouteTableAssociationId: a.id, SubnetId: a.subnetId, Main: false })),
      Tags: tagList(r.tags),
    })),
  })));
  ec2Mock.on(ec2.CreateRouteTableCommand).callsFake(guard('CreateRouteTable', (i: ec2.CreateRouteTableCommandInput) => {
    const prior = i.ClientToken ? tokens.get(i.ClientToken) : undefined;
    if (prior) return { RouteTable: { RouteTableId: prior.id } };
    const r = add({ id: newId('rtb'), kind: 'rt', vpcId: i.VpcId, routes: [], associations: [], tags: specTags(i.TagSpecifications, 'route-table') });
    if (i.ClientToken) tokens.set(i.ClientToken, { id: r.id, fingerprint: '' });
    return { RouteTable: { RouteTableId: r.id } };
  }));
  ec2Mock.on(ec2.CreateRouteCommand).callsFake(guard('CreateRoute', (i: ec2.CreateRouteCommandInput) => {
    const rt = resources.get(i.RouteTableId!)!;
    if (rt.routes.some((x: any) => x.DestinationCidrBlock === i.DestinationCidrBlock)) throw awsError('RouteAlreadyExists');
    rt.routes.push({ DestinationCidrBlock: i.DestinationCidrBlock, GatewayId: i.GatewayId, NatGatewayId: i.NatGatewayId, State: 'active' });
    return { Return: true };
  }));
  ec2Mock.on(ec2.AssociateRouteTableCommand).callsFake(guard('AssociateRouteTable', (i: ec2.AssociateRouteTableCommandInput) => {
    const id = newId('rtbassoc');
    resources.get(i.RouteTableId!)!.associations.push({ id, subnetId: i.SubnetId });
    return { AssociationId: id };
  }));
  ec2Mock.on(ec2.DisassociateRouteTableCommand).callsFake(guard('DisassociateRouteTable', (i: ec2.DisassociateRouteTableCommandInput) => {
    for (const rt of of('rt')) rt.associations = rt.associations.filter((a: any) => a.id !== i.AssociationId);
    return {};
  }));
  ec2Mock.on(ec2.DeleteRouteTableCommand).callsFake(guard('DeleteRouteTable', (i: ec2.DeleteRouteTableCommandInput) => {
    if (resources.get(i.RouteTableId!)?.associations.length) throw awsError('DependencyViolation');
    resources.delete(i.RouteTableId!);
    return {};
  }));
  ec2Mock.on(ec2.DescribeSecurityGroupsCommand).callsFake(guard('DescribeSecurityGroups', (i: ec2.DescribeSecurityGroupsCommandInput) => ({
    SecurityGroups: of('sg').filter((g) => matches(g, i.Filters)).map((g) => ({ GroupId: g.id, VpcId: g.vpcId, GroupName: g.name, IpPermissions: structuredClone(g.permissions), Tags: tagList(g.tags) })),
  })));
  ec2Mock.on(ec2.CreateSecurityGroupCommand).callsFake(guard('CreateSecurityGroup', (i: ec2.CreateSecurityGroupCommandInput) => {
    if (of('sg').some((g) => g.name === i.GroupName && g.vpcId === i.VpcId)) throw awsError('InvalidGroup.Duplicate');
    return { GroupId: add({ id: newId('sg'), kind: 'sg', name: i.GroupName, vpcId: i.VpcId, permissions: [], tags: specTags(i.TagSpecifications, 'security-group') }).id };
  }));
  ec2Mock.on(ec2.AuthorizeSecurityGroupIngressCommand).callsFake(guard('AuthorizeSecurityGroupIngress', (i: ec2.AuthorizeSecurityGroupIngressCommandInput) => {
    resources.get(i.GroupId!)!.permissions.push(...structuredClone(i.IpPermissions ?? []));
    return { Return: true };
  }));
  ec2Mock.on(ec2.RevokeSecurityGroupIngressCommand).callsFake(guard('RevokeSecurityGroupIngress', (i: ec2.RevokeSecurityGroupIngressCommandInput) => {
    const g = resources.get(i.GroupId!)!;
    g.permissions = g.permissions.filter((p: any) => !(p.UserIdGroupPairs ?? []).length);
    return { Return: true };
  }));
  ec2Mock.on(ec2.DeleteSecurityGroupCommand).callsFake(guard('DeleteSecurityGroup', (i: ec2.DeleteSecurityGroupCommandInput) => {
    if (liveInstancesIn((x) => x.securityGroups.includes(i.GroupId)).length > 0) throw awsError('DependencyViolation');
    if (of('sg').some((g) => g.id !== i.GroupId && g.permissions.some((p: any) => (p.UserIdGroupPairs ?? []).some((u: any) => u.GroupId === i.GroupId)))) throw awsError('DependencyViolation');
    if (!resources.delete(i.GroupId!)) throw awsError('InvalidGroup.NotFound');
    return {};
  }));
  ec2Mock.on(ec2.DeleteVpcCommand).callsFake(guard('DeleteVpc', (i: ec2.DeleteVpcCommandInput) => {
    if ([...resources.values()].some((r) => r.vpcId === i.VpcId && r.kind !== 'instance')) throw awsError('DependencyViolation');
    resources.delete(i.VpcId!);
    return {};
  }));

  // ---- EC2: images and instances
  ec2Mock.on(ec2.DescribeImagesCommand).callsFake(guard('DescribeImages', (i: ec2.DescribeImagesCommandInput) => {
    const images = options.images ?? [];
    if (i.ImageIds) return { Images: images.filter((im) => i.ImageIds!.includes(im.ImageId)).concat(images.length ? [] : i.ImageIds.map((id) => ({ ImageId: id, Name: id, CreationDate: '2025-01-01T00:00:00Z' }))) };
    const pattern = i.Filters?.find((f) => f.Name === 'name')?.Values?.[0] ?? '*';
    const re = new RegExp(`^${pattern.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`);
    const known = images.length ? images : [{ ImageId: `ami-${createHash('sha256').update(pattern).digest('hex').slice(0, 8)}`, Name: pattern.replace('*', '1700000000'), CreationDate: '2025-01-01T00:00:00Z' }];
    return { Images: known.filter((im) => re.test(im.Name)) };
  }));
  ec2Mock.on(ec2.RunInstancesCommand).callsFake(guard('RunInstances', (i: ec2.RunInstancesCommandInput) => {
    const subnet = resources.get(i.SubnetId!);
    const az = subnet?.az ?? 'eu-west-1a';
    const fingerprint = JSON.stringify([i.ImageId, i.InstanceType, i.SubnetId, i.UserData]);
    const prior = i.ClientToken ? tokens.get(i.ClientToken) : undefined;
    if (prior) {
      if (prior.fingerprint !== fingerprint) throw awsError('IdempotentParameterMismatch');
      return { Instances: [describeInstance(resources.get(prior.id)!)] };
    }
    if (options.noCapacityIn?.includes(az)) throw awsError('InsufficientInstanceCapacity', 500, `We currently do not have sufficient ${i.InstanceType} capacity in ${az}`);
    const inst = add({
      id: `i-${(++seq).toString(16).padStart(17, '0')}`,
      kind: 'instance',
      state: 'pending',
      az,
      subnetId: i.SubnetId,
      vpcId: subnet?.vpcId,
      securityGroups: i.SecurityGroupIds ?? [],
      privateIp: `10.0.${seq % 250}.${(seq * 7) % 250}`,
      launchTime: new Date(Date.UTC(2030, 0, 1, 0, 0, seq)),
      input: i,
      tags: specTags(i.TagSpecifications, 'instance'),
    });
    if (i.ClientToken) tokens.set(i.ClientToken, { id: inst.id, fingerprint });
    options.onLaunch?.(inst);
    return { Instances: [describeInstance(inst)] };
  }));
  function describeInstance(r: Res): ec2.Instance {
    return {
      InstanceId: r.id,
      State: { Name: r.state },
      Placement: { AvailabilityZone: r.az },
      SubnetId: r.subnetId,
      PrivateIpAddress: r.privateIp,
      LaunchTime: r.launchTime,
      Tags: tagList(r.tags),
    };
  }
  /** Page size of DescribeInstances (tests of pagination lower it). */
  let pageSize = 1000;
  /** Filtered DescribeInstances calls that still miss every instance (eventual consistency). */
  let staleDescribes = 0;
  ec2Mock.on(ec2.DescribeInstancesCommand).callsFake(guard('DescribeInstances', (i: ec2.DescribeInstancesCommandInput) => {
    tick();
    if (i.InstanceIds) {
      const found = i.InstanceIds.map((id) => resources.get(id)).filter((r): r is Res => r?.kind === 'instance');
      if (found.length === 0) throw awsError('InvalidInstanceID.NotFound');
      return { Reservations: [{ Instances: found.map(describeInstance) }] };
    }
    if (staleDescribes > 0) {
      staleDescribes--;
      return { Reservations: [] };
    }
    const all = of('instance').filter((r) => matches(r, i.Filters));
    const start = i.NextToken ? Number(i.NextToken) : 0;
    const size = Math.min(pageSize, i.MaxResults ?? pageSize);
    const page = all.slice(start, start + size);
    return { Reservations: page.map((r) => ({ Instances: [describeInstance(r)] })), ...(start + size < all.length ? { NextToken: String(start + size) } : {}) };
  }));
  ec2Mock.on(ec2.TerminateInstancesCommand).callsFake(guard('TerminateInstances', (i: ec2.TerminateInstancesCommandInput) => {
    const r = resources.get(i.InstanceIds![0]!);
    if (!r || r.kind !== 'instance') throw awsError('InvalidInstanceID.NotFound');
    if (r.state !== 'terminated') r.state = 'shutting-down';
    return { TerminatingInstances: [{ InstanceId: r.id, CurrentState: { Name: r.state } }] };
  }));

  // ---- ELBv2
  elbMock.on(elb.DescribeLoadBalancersCommand).callsFake(guard('DescribeLoadBalancers', (i: elb.DescribeLoadBalancersCommandInput) => {
    const found = of('lb').filter((l) => i.Names?.includes(l.name));
    if (found.length === 0) throw awsError('LoadBalancerNotFound');
    return { LoadBalancers: found.map((l) => ({ LoadBalancerArn: l.id, DNSName: l.dns, State: { Code: 'active' } })) };
  }));
  elbMock.on(elb.CreateLoadBalancerCommand).callsFake(guard('CreateLoadBalancer', (i: elb.CreateLoadBalancerCommandInput) => {
    const existing = of('lb').find((l) => l.name === i.Name);
    const l = existing ?? add({ id: `arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/net/${i.Name}/${newId('lb')}`, kind: 'lb', name: i.Name, subnets: i.Subnets, dns: `${i.Name}-0123456789.elb.eu-west-1.amazonaws.com`, tags: toTags(i.Tags) });
    return { LoadBalancers: [{ LoadBalancerArn: l.id, DNSName: l.dns, State: { Code: 'provisioning' } }] };
  }));
  elbMock.on(elb.DeleteLoadBalancerCommand).callsFake(guard('DeleteLoadBalancer', (i: elb.DeleteLoadBalancerCommandInput) => {
    resources.delete(i.LoadBalancerArn!);
    for (const l of of('listener')) if (l.lbArn === i.LoadBalancerArn) resources.delete(l.id);
    return {};
  }));
  elbMock.on(elb.DescribeListenersCommand).callsFake(guard('DescribeListeners', (i: elb.DescribeListenersCommandInput) => ({ Listeners: of('listener').filter((l) => l.lbArn === i.LoadBalancerArn).map((l) => ({ ListenerArn: l.id, Port: l.port })) })));
  elbMock.on(elb.CreateListenerCommand).callsFake(guard('CreateListener', (i: elb.CreateListenerCommandInput) => ({ Listeners: [{ ListenerArn: add({ id: newId('listener'), kind: 'listener', lbArn: i.LoadBalancerArn, port: i.Port, tgArn: i.DefaultActions?.[0]?.TargetGroupArn, tags: {} }).id }] })));
  elbMock.on(elb.DescribeTargetGroupsCommand).callsFake(guard('DescribeTargetGroups', (i: elb.DescribeTargetGroupsCommandInput) => {
    const found = of('tg').filter((t) => i.Names?.includes(t.name));
    if (found.length === 0) throw awsError('TargetGroupNotFound');
    return { TargetGroups: found.map((t) => ({ TargetGroupArn: t.id, TargetGroupName: t.name })) };
  }));
  elbMock.on(elb.CreateTargetGroupCommand).callsFake(guard('CreateTargetGroup', (i: elb.CreateTargetGroupCommandInput) => {
    const t = of('tg').find((x) => x.name === i.Name) ?? add({ id: `arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/${i.Name}/${newId('tg')}`, kind: 'tg', name: i.Name, port: i.Port, targets: new Set<string>(), tags: toTags(i.Tags) });
    return { TargetGroups: [{ TargetGroupArn: t.id }] };
  }));
  elbMock.on(elb.ModifyTargetGroupAttributesCommand).callsFake(guard('ModifyTargetGroupAttributes', () => ({})));
  elbMock.on(elb.DeleteTargetGroupCommand).callsFake(guard('DeleteTargetGroup', (i: elb.DeleteTargetGroupCommandInput) => {
    if (of('listener').some((l) => l.tgArn === i.TargetGroupArn)) throw awsError('ResourceInUse');
    resources.delete(i.TargetGroupArn!);
    return {};
  }));
  elbMock.on(elb.RegisterTargetsCommand).callsFake(guard('RegisterTargets', (i: elb.RegisterTargetsCommandInput) => {
    for (const t of i.Targets ?? []) resources.get(i.TargetGroupArn!)!.targets.add(t.Id);
    return {};
  }));
  elbMock.on(elb.DeregisterTargetsCommand).callsFake(guard('DeregisterTargets', (i: elb.DeregisterTargetsCommandInput) => {
    for (const t of i.Targets ?? []) resources.get(i.TargetGroupArn!)?.targets.delete(t.Id);
    return {};
  }));

  // ---- Secrets Manager
  smMock.on(sm.DescribeSecretCommand).callsFake(guard('DescribeSecret', (i: sm.DescribeSecretCommandInput) => {
    const s = secrets.get(i.SecretId!);
    if (!s) throw awsError('ResourceNotFoundException');
    return { ARN: s.arn, Name: i.SecretId };
  }));
  smMock.on(sm.CreateSecretCommand).callsFake(guard('CreateSecret', (i: sm.CreateSecretCommandInput) => {
    if (secrets.has(i.Name!)) throw awsError('ResourceExistsException');
    const arn = `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${i.Name}-AbCdEf`;
    secrets.set(i.Name!, { arn, ...(i.SecretString ? { value: i.SecretString } : {}), tags: toTags(i.Tags) });
    return { ARN: arn, Name: i.Name };
  }));
  smMock.on(sm.GetSecretValueCommand).callsFake(guard('GetSecretValue', (i: sm.GetSecretValueCommandInput) => {
    const s = secrets.get(i.SecretId!) ?? [...secrets.values()].find((x) => x.arn === i.SecretId);
    if (!s || s.value === undefined) throw awsError('ResourceNotFoundException');
    return { ARN: s.arn, SecretString: s.value };
  }));
  smMock.on(sm.DeleteSecretCommand).callsFake(guard('DeleteSecret', (i: sm.DeleteSecretCommandInput) => {
    if (!secrets.delete(i.SecretId!)) throw awsError('ResourceNotFoundException');
    return {};
  }));

  // ---- STS
  stsMock.on(AssumeRoleCommand).callsFake(guard('AssumeRole', (i: AssumeRoleCommandInput) => {
    const accessKeyId = `ASIAFAKE${(++seq).toString(16).toUpperCase().padStart(12, '0')}`;
    assumedRoles.set(accessKeyId, i.RoleArn!);
    return { Credentials: { AccessKeyId: accessKeyId, SecretAccessKey: 'fake', SessionToken: 'fake-session', Expiration: new Date(Date.now() + 3600_000) } };
  }));

  return {
    resources,
    secrets,
    calls,
    /** Every request received, in order, with its principal and outcome (never reset: IAM tests read the whole log). */
    requests,
    ec2Mock,
    elbMock,
    smMock,
    stsMock,
    of,
    /** Live (not terminated) instances. */
    instances: () => of('instance').filter((i) => i.state !== 'terminated'),
    setPageSize: (n: number) => void (pageSize = n),
    /** The next `n` filtered DescribeInstances calls see no instance (EC2 is eventually consistent). */
    staleDescribes: (n: number) => void (staleDescribes = n),
    inject: (kind: FakeFault) => void (fault = kind),
    clear: () => void (fault = undefined),
    /** Names of the calls made since the last `resetCalls`. */
    resetCalls: () => void (calls.length = 0),
    restore(): void {
      ec2Mock.restore();
      elbMock.restore();
      smMock.restore();
      stsMock.restore();
    },
  };
}

export type FakeAws = ReturnType<typeof createFakeAws>;
