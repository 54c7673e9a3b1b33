/**
 * A small in-memory AWS (EC2, ELBv2, Secrets Manager, STS) behind aws-sdk-client-mock `callsFake`: enough state and
 * rules for the EC2 provider's calls — tags and filters, ClientToken idempotency, dependency violations on delete,
 * state transitions, pagination, fault injection.
 *
 * Strict where the real one is (each rule cites the API reference page it comes from; time is counted in calls):
 *  - a new instance is unknown to DescribeInstances for a while, then `pending`, then `running` (eventual consistency);
 *  - RegisterTargets refuses targets that are not `running` or not in the target group's VPC (InvalidTarget);
 *  - AuthorizeSecurityGroupIngress fails whole (InvalidPermission.Duplicate) when one rule already exists, and a
 *    group created moments ago may be unknown to it (InvalidGroup.NotFound);
 *  - load balancers are `provisioning` before `active`, NAT gateways `pending` before `available`;
 *  - RunInstances refuses an instance profile IAM has not propagated yet (InvalidParameterValue);
 *  - public images exist only under the account that publishes them now;
 *  - errors have the SDK's shape per service (ELBv2 `TargetGroupNotFoundException` with `Code: TargetGroupNotFound`);
 *  - every request is first checked against the API model shipped in the SDK packages (api-model.ts): a missing
 *    required member, an unknown member or a value of the wrong type fails it with 400 as the service would
 *    (EC2 `MissingParameter`/`UnknownParameter`/`InvalidParameterValue`, the others `ValidationError`).
 */
import { createHash } from 'node:crypto';
import * as ec2 from '@aws-sdk/client-ec2';
import * as elb from '@aws-sdk/client-elastic-load-balancing-v2';
import * as sm from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient, STSServiceException, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { assertValidRequest, commandFor } from './api-model.js';

type Tags = Record<string, string>;
interface Res {
  id: string;
  kind: string;
  tags: Tags;
  [key: string]: any;
}

/** An AWS error as the SDK raises it (generic shape; the fake's handlers re-shape theirs per service, see `shaped`). */
export function awsError(code: string, status = 400, message = code): Error {
  return Object.assign(new Error(message), { name: code, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
}

/**
 * The error the SDK itself raises for `code` from `service` (checked by deserializing real error responses with the
 * SDK clients of package.json): EC2 (ec2 query protocol) gives an `EC2ServiceException` named by the code with
 * `Code` = code; ELBv2 (awsQuery) gives the modeled class, e.g. `TargetGroupNotFoundException`, with `Code:
 * 'TargetGroupNotFound'`; Secrets Manager and STS (JSON/awsQuery) give the modeled class named by the code.
 * Error codes: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html,
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/CommonErrors.html.
 */
function shaped(service: FakeRequest['service'], error: Error): Error {
  const e = error as Error & { $fault?: 'client' | 'server'; $metadata?: { httpStatusCode?: number } };
  if (e.constructor !== Error || !e.$metadata) return error; // already an SDK-shaped error
  const base = { message: e.message, $metadata: e.$metadata };
  const code = e.name;
  const fault = e.$fault ?? 'client';
  const make = (): Error => {
    switch (service) {
      case 'elasticloadbalancing': {
        const Modeled = (elb as unknown as Record<string, new (o: typeof base) => Error>)[`${code}Exception`];
        return Object.assign(Modeled ? new Modeled(base) : new elb.ElasticLoadBalancingV2ServiceException({ name: code, $fault: fault, ...base }), { Code: code, Type: fault === 'server' ? 'Receiver' : 'Sender' });
      }
      case 'secretsmanager': {
        const Modeled = (sm as unknown as Record<string, new (o: typeof base) => Error>)[code];
        return Modeled && code.endsWith('Exception') ? new Modeled(base) : new sm.SecretsManagerServiceException({ name: code, $fault: fault, ...base });
      }
      case 'sts':
        return Object.assign(new STSServiceException({ name: code, $fault: fault, ...base }), { Code: code });
      default:
        return Object.assign(new ec2.EC2ServiceException({ name: code, $fault: fault, ...base }), { Code: code });
    }
  };
  return make();
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

/**
 * The account whose public images DescribeImages knows (CAPA's publishing account today; the former one,
 * 258751437250, was emptied). https://github.com/kubernetes-sigs/cluster-api-provider-aws/blob/main/docs/book/src/topics/images/built-amis.md
 */
export const PUBLISHED_IMAGE_OWNER = '819546954734';

/** Options of the fake. */
export interface FakeAwsOptions {
  /** NAT gateways are `available` at once (otherwise `pending` for one DescribeNatGateways). @default false */
  readonly natAvailableAtOnce?: boolean;
  /** DescribeInstances calls that do not see a new instance yet (by id: InvalidInstanceID.NotFound). @default 1 */
  readonly instanceVisibilityLag?: number;
  /** DescribeInstances calls that still see a visible new instance `pending`. @default 1 */
  readonly instancePendingDescribes?: number;
  /** DescribeLoadBalancers calls that see a new load balancer `provisioning`. @default 1 */
  readonly loadBalancerProvisioningDescribes?: number;
  /** EC2 calls after CreateSecurityGroup during which AuthorizeSecurityGroupIngress does not know the group. @default 1 */
  readonly securityGroupVisibilityLag?: number;
  /** Instance profiles IAM knows. @default ['capstan-control-plane', 'capstan-node'] */
  readonly instanceProfiles?: readonly string[];
  /** The first `n` RunInstances calls refuse the (just created) instance profile as unknown. @default 0 */
  readonly instanceProfilePropagationCalls?: number;
  /** Availability zones where RunInstances fails with InsufficientInstanceCapacity. */
  readonly noCapacityIn?: readonly string[];
  /** Called after an instance is launched (simulate its boot). */
  readonly onLaunch?: (instance: Res) => void;
  /** Images DescribeImages knows (`OwnerId` @default PUBLISHED_IMAGE_OWNER). @default one CAPA image per version asked for, owned by PUBLISHED_IMAGE_OWNER */
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

  /**
   * One step of NAT gateway time: `pending` → `available`, `deleting` → `deleted`
   * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_NatGateway.html, State).
   */
  function tickNat(): void {
    for (const r of of('nat')) {
      if (r.state === 'pending') r.state = 'available';
      else if (r.state === 'deleting') r.state = 'deleted';
    }
  }

  /**
   * One step of instance time, before a DescribeInstances answers: a new instance is invisible for
   * `instanceVisibilityLag` calls ("if you run a command to modify or describe the resource that you just created,
   * its ID might not have propagated", https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html),
   * then `pending` for `instancePendingDescribes` calls, then `running`; `shutting-down` becomes `terminated`
   * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html). Returns the ids still hidden.
   */
  function tickInstances(): Set<string> {
    const hidden = new Set<string>();
    for (const r of of('instance')) {
      if (r.hiddenFor > 0) {
        r.hiddenFor--;
        hidden.add(r.id);
      } else if (r.state === 'pending') {
        if (r.pendingFor > 0) r.pendingFor--;
        else r.state = 'running';
      } else if (r.state === 'shutting-down') r.state = 'terminated';
    }
    return hidden;
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
        assertValidRequest(commandFor(service, name, input));
        if (fault) {
          const [code, status] = FAULT_CODES[fault];
          throw awsError(code, status);
        }
        if (service === 'ec2') for (const g of of('sg')) if (g.hiddenForCalls > 0) g.hiddenForCalls--;
        return await fn(input);
      } catch (error) {
        const real = shaped(service, error as Error);
        request.result = (real as { Code?: string }).Code ?? real.name;
        throw real;
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
    Addresses: of('eip').filter((e) => matches(e, i.Filters)).map((e) => ({ AllocationId: e.id, PublicIp: e.publicIp, Domain: 'vpc', ...(e.natId ? { AssociationId: `eipassoc-${e.natId}` } : {}), Tags: tagList(e.tags) })),
  })));
  ec2Mock.on(ec2.AllocateAddressCommand).callsFake(guard('AllocateAddress', (i: ec2.AllocateAddressCommandInput) => {
    const e = add({ id: newId('eipalloc'), kind: 'eip', publicIp: `203.0.113.${(seq % 250) + 1}`, tags: specTags(i.TagSpecifications, 'elastic-ip') });
    return { AllocationId: e.id, PublicIp: e.publicIp, Domain: 'vpc' };
  }));
  ec2Mock.on(ec2.ReleaseAddressCommand).callsFake(guard('ReleaseAddress', (i: ec2.ReleaseAddressCommandInput) => {
    if (resources.get(i.AllocationId!)?.natId) throw awsError('InvalidIPAddress.InUse');
    resources.delete(i.AllocationId!);
    return {};
  }));
  ec2Mock.on(ec2.DescribeNatGatewaysCommand).callsFake(guard('DescribeNatGateways', (i: ec2.DescribeNatGatewaysCommandInput) => {
    tickNat();
    for (const r of of('instance')) if (r.state === 'shutting-down') r.state = 'terminated'; // time passes for every resource
    for (const n of of('nat')) if (n.state === 'deleted') for (const e of of('eip')) if (e.natId === n.id) delete e.natId;
    return { NatGateways: of('nat').filter((n) => matches(n, i.Filter)).map((n) => ({ NatGatewayId: n.id, State: n.state, SubnetId: n.subnetId, Tags: tagList(n.tags) })) };
  }));
  ec2Mock.on(ec2.CreateNatGatewayCommand).callsFake(guard('CreateNatGateway', (i: ec2.CreateNatGatewayCommandInput) => {
    const prior = i.ClientToken ? tokens.get(i.ClientToken) : undefined;
    if (prior) return { NatGateway: { NatGatewayId: prior.id, State: resources.get(prior.id)?.state } };
    const n = add({ id: newId('nat'), kind: 'nat', subnetId: i.SubnetId, state: options.natAvailableAtOnce === true ? 'available' : 'pending', tags: specTags(i.TagSpecifications, 'natgateway') });
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
  /** DescribeSecurityGroups calls that still show the rules as they were before (rule changes propagate with a delay). */
  let staleRules = 0;
  ec2Mock.on(ec2.DescribeSecurityGroupsCommand).callsFake(guard('DescribeSecurityGroups', (i: ec2.DescribeSecurityGroupsCommandInput) => {
    const stale = staleRules > 0 && staleRules-- > 0;
    return {
      SecurityGroups: of('sg').filter((g) => matches(g, i.Filters)).map((g) => ({ GroupId: g.id, VpcId: g.vpcId, GroupName: g.name, IpPermissions: stale ? [] : structuredClone(g.permissions), Tags: tagList(g.tags) })),
    };
  }));
  ec2Mock.on(ec2.CreateSecurityGroupCommand).callsFake(guard('CreateSecurityGroup', (i: ec2.CreateSecurityGroupCommandInput) => {
    if (of('sg').some((g) => g.name === i.GroupName && g.vpcId === i.VpcId)) throw awsError('InvalidGroup.Duplicate');
    // +1: the CreateSecurityGroup call itself is counted as it returns.
    const g = add({ id: newId('sg'), kind: 'sg', name: i.GroupName, vpcId: i.VpcId, permissions: [], hiddenForCalls: (options.securityGroupVisibilityLag ?? 1) + 1, tags: specTags(i.TagSpecifications, 'security-group') });
    return { GroupId: g.id, SecurityGroupArn: `arn:aws:ec2:eu-west-1:111122223333:security-group/${g.id}` };
  }));
  /** One key per (protocol, ports, source) of a permission list, as EC2 compares rules. */
  const ruleKeys = (perms: ec2.IpPermission[] | undefined): string[] =>
    (perms ?? []).flatMap((p) => {
      const base = `${p.IpProtocol}|${p.FromPort ?? ''}-${p.ToPort ?? ''}`;
      return [...(p.IpRanges ?? []).map((r) => `${base}|${r.CidrIp}`), ...(p.UserIdGroupPairs ?? []).map((u) => `${base}|${u.GroupId}`)];
    });
  /** The group of a rule call; a group created moments ago is not known yet (eventual-consistency page above names InvalidGroup.NotFound). */
  const groupFor = (id: string | undefined): Res => {
    const g = id ? resources.get(id) : undefined;
    if (!g || g.kind !== 'sg' || g.hiddenForCalls > 0) throw awsError('InvalidGroup.NotFound', 400, `The security group '${id}' does not exist`);
    return g;
  };
  ec2Mock.on(ec2.AuthorizeSecurityGroupIngressCommand).callsFake(guard('AuthorizeSecurityGroupIngress', (i: ec2.AuthorizeSecurityGroupIngressCommandInput) => {
    const g = groupFor(i.GroupId);
    // All or nothing: one rule that exists already (or twice in the request) fails the whole request and adds none.
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html,
    // InvalidPermission.Duplicate in https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
    const existing = new Set(ruleKeys(g.permissions));
    const wanted = ruleKeys(i.IpPermissions);
    const duplicate = wanted.find((k, index) => existing.has(k) || wanted.indexOf(k) !== index);
    if (duplicate) throw awsError('InvalidPermission.Duplicate', 400, `the specified rule "${duplicate}" already exists`);
    g.permissions.push(...structuredClone(i.IpPermissions ?? []));
    return { Return: true };
  }));
  ec2Mock.on(ec2.RevokeSecurityGroupIngressCommand).callsFake(guard('RevokeSecurityGroupIngress', (i: ec2.RevokeSecurityGroupIngressCommandInput) => {
    const g = groupFor(i.GroupId);
    // In a non-default VPC a rule that does not exist fails the request (InvalidPermission.NotFound) and revokes none.
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RevokeSecurityGroupIngress.html
    const gone = new Set(ruleKeys(i.IpPermissions));
    const existing = new Set(ruleKeys(g.permissions));
    const missing = [...gone].find((k) => !existing.has(k));
    if (missing) throw awsError('InvalidPermission.NotFound', 400, `The specified rule "${missing}" does not exist in this security group`);
    g.permissions = g.permissions.filter((p: ec2.IpPermission) => !ruleKeys([p]).every((k) => gone.has(k)));
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
  /**
   * DescribeImages over a catalog of public images: the given ones, or one CAPA image per version asked for, all
   * owned by PUBLISHED_IMAGE_OWNER. Filters `name` (`*`, `?` wildcards), `owner-id`, `architecture`, `state`,
   * `virtualization-type` and `Owners` as documented
   * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html).
   */
  ec2Mock.on(ec2.DescribeImagesCommand).callsFake(guard('DescribeImages', (i: ec2.DescribeImagesCommandInput) => {
    const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    const filter = (name: string) => i.Filters?.find((f) => f.Name === name)?.Values;
    const namePatterns = filter('name') ?? ['*'];
    const catalog = (options.images ?? namePatterns.filter((n) => /^capa-ami-ubuntu-24\.04-v/.test(n)).map((n) => ({ ImageId: `ami-${createHash('sha256').update(n).digest('hex').slice(0, 17)}`, Name: n.replace('*', '1730000000'), CreationDate: '2025-01-01T00:00:00.000Z' })))
      .map((im) => ({ OwnerId: PUBLISHED_IMAGE_OWNER, Architecture: 'x86_64', State: 'available', VirtualizationType: 'hvm', RootDeviceName: '/dev/sda1', ...im }));
    const owners = [...(i.Owners ?? []), ...(filter('owner-id') ?? [])];
    const images = catalog.filter(
      (im) =>
        (!i.ImageIds || i.ImageIds.includes(im.ImageId)) &&
        (owners.length === 0 || owners.includes(im.OwnerId)) &&
        namePatterns.some((n) => glob(n).test(im.Name)) &&
        (filter('architecture') ?? [im.Architecture]).includes(im.Architecture) &&
        (filter('state') ?? [im.State]).includes(im.State) &&
        (filter('virtualization-type') ?? [im.VirtualizationType]).includes(im.VirtualizationType),
    );
    // An explicit image id the catalog does not hold: a private image of the account (the template's own imageId).
    if (i.ImageIds && !options.images) return { Images: i.ImageIds.map((id) => ({ ImageId: id, Name: id, OwnerId: '111122223333', State: 'available', CreationDate: '2025-01-01T00:00:00.000Z', RootDeviceName: '/dev/sda1' })) };
    return { Images: images };
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
    // IAM is eventually consistent: an instance profile created moments ago is refused for a while, exactly as one
    // that does not exist (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
    const profile = i.IamInstanceProfile?.Name;
    if (profile !== undefined && (!(options.instanceProfiles ?? ['capstan-control-plane', 'capstan-node']).includes(profile) || profileRefusals < (options.instanceProfilePropagationCalls ?? 0))) {
      profileRefusals++;
      throw awsError('InvalidParameterValue', 400, `Value (${profile}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name`);
    }
    const inst = add({
      id: `i-${(++seq).toString(16).padStart(17, '0')}`,
      kind: 'instance',
      state: 'pending',
      hiddenFor: options.instanceVisibilityLag ?? 1,
      pendingFor: options.instancePendingDescribes ?? 1,
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
  let profileRefusals = 0;
  ec2Mock.on(ec2.DescribeInstancesCommand).callsFake(guard('DescribeInstances', (i: ec2.DescribeInstancesCommandInput) => {
    const hidden = tickInstances();
    if (i.InstanceIds) {
      // One unknown id fails the whole call (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html).
      const unknown = i.InstanceIds.find((id) => resources.get(id)?.kind !== 'instance' || hidden.has(id));
      if (unknown) throw awsError('InvalidInstanceID.NotFound', 400, `The instance ID '${unknown}' does not exist`);
      return { Reservations: [{ Instances: i.InstanceIds.map((id) => describeInstance(resources.get(id)!)) }] };
    }
    if (staleDescribes > 0) {
      staleDescribes--;
      return { Reservations: [] };
    }
    const all = of('instance').filter((r) => !hidden.has(r.id) && matches(r, i.Filters));
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
    if (found.length === 0) throw awsError('LoadBalancerNotFound', 400, 'One or more load balancers not found');
    // `provisioning` for a while after CreateLoadBalancer, then `active`
    // (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerState.html).
    for (const l of found) if (l.provisioningFor-- <= 0) l.state = 'active';
    return { LoadBalancers: found.map((l) => ({ LoadBalancerArn: l.id, LoadBalancerName: l.name, DNSName: l.dns, Scheme: l.scheme, Type: 'network', VpcId: l.vpcId, SecurityGroups: l.securityGroups, State: { Code: l.state } })) };
  }));
  /**
   * ELBv2 names: at most 32 characters, alphanumerics and hyphens, not starting or ending with a hyphen, and a load
   * balancer's not starting with `internal-` — stated only in the API reference (the published model has no limit):
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html (Name),
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html (Name).
   */
  const assertElbName = (name: string | undefined, what: string) => {
    if (!name || name.length > 32 || !/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/.test(name) || (what === 'load balancer' && name.startsWith('internal-'))) {
      throw awsError('ValidationError', 400, `The ${what} name '${name}' must be 1–32 alphanumerics or hyphens, not starting or ending with a hyphen`);
    }
  };
  elbMock.on(elb.CreateLoadBalancerCommand).callsFake(guard('CreateLoadBalancer', (i: elb.CreateLoadBalancerCommandInput) => {
    assertElbName(i.Name, 'load balancer');
    const existing = of('lb').find((l) => l.name === i.Name);
    // A second create with the same name and settings returns the existing one; other settings: DuplicateLoadBalancerName
    // (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html).
    if (existing && (existing.scheme !== (i.Scheme ?? 'internet-facing') || JSON.stringify(existing.securityGroups) !== JSON.stringify(i.SecurityGroups ?? []))) throw awsError('DuplicateLoadBalancerName', 400, 'A load balancer with the same name exists, with other settings');
    const vpcId = resources.get(i.Subnets?.[0] ?? '')?.vpcId;
    const internal = i.Scheme === 'internal';
    const l = existing ?? add({ id: `arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/net/${i.Name}/${newId('lb')}`, kind: 'lb', name: i.Name, subnets: i.Subnets, vpcId, scheme: i.Scheme ?? 'internet-facing', securityGroups: i.SecurityGroups ?? [], state: 'provisioning', provisioningFor: options.loadBalancerProvisioningDescribes ?? 1, dns: `${internal ? 'internal-' : ''}${i.Name}-0123456789.elb.eu-west-1.amazonaws.com`, tags: toTags(i.Tags) });
    return { LoadBalancers: [{ LoadBalancerArn: l.id, DNSName: l.dns, Scheme: l.scheme, VpcId: vpcId, SecurityGroups: l.securityGroups, State: { Code: l.state } }] };
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
    if (found.length === 0) throw awsError('TargetGroupNotFound', 400, 'One or more target groups not found');
    return { TargetGroups: found.map((t) => ({ TargetGroupArn: t.id, TargetGroupName: t.name })) };
  }));
  elbMock.on(elb.CreateTargetGroupCommand).callsFake(guard('CreateTargetGroup', (i: elb.CreateTargetGroupCommandInput) => {
    assertElbName(i.Name, 'target group');
    const t = of('tg').find((x) => x.name === i.Name) ?? add({ id: `arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/${i.Name}/${newId('tg')}`, kind: 'tg', name: i.Name, port: i.Port, vpcId: i.VpcId, targets: new Set<string>(), tags: toTags(i.Tags) });
    return { TargetGroups: [{ TargetGroupArn: t.id }] };
  }));
  elbMock.on(elb.ModifyTargetGroupAttributesCommand).callsFake(guard('ModifyTargetGroupAttributes', () => ({})));
  elbMock.on(elb.DeleteTargetGroupCommand).callsFake(guard('DeleteTargetGroup', (i: elb.DeleteTargetGroupCommandInput) => {
    if (of('listener').some((l) => l.tgArn === i.TargetGroupArn)) throw awsError('ResourceInUse');
    resources.delete(i.TargetGroupArn!);
    return {};
  }));
  elbMock.on(elb.RegisterTargetsCommand).callsFake(guard('RegisterTargets', (i: elb.RegisterTargetsCommandInput) => {
    const tg = resources.get(i.TargetGroupArn!);
    if (tg?.kind !== 'tg') throw awsError('TargetGroupNotFound', 400, 'One or more target groups not found');
    // "If the target is an EC2 instance, it must be in the running state when you register it"; else InvalidTarget:
    // "does not exist, is not in the same VPC as the target group, or has an unsupported instance type".
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RegisterTargets.html
    for (const t of i.Targets ?? []) {
      const instance = resources.get(t.Id!);
      if (instance?.kind !== 'instance' || instance.vpcId !== tg.vpcId) throw awsError('InvalidTarget', 400, `The following targets are not in the target group VPC '${tg.vpcId}': '${t.Id}'`);
      if (instance.state !== 'running') throw awsError('InvalidTarget', 400, `The following targets are not in a running state and cannot be registered: '${t.Id}'`);
    }
    for (const t of i.Targets ?? []) tg.targets.add(t.Id);
    return {};
  }));
  elbMock.on(elb.DescribeTargetHealthCommand).callsFake(guard('DescribeTargetHealth', (i: elb.DescribeTargetHealthCommandInput) => {
    const tg = resources.get(i.TargetGroupArn!);
    if (tg?.kind !== 'tg') throw awsError('TargetGroupNotFound', 400, 'One or more target groups not found');
    return { TargetHealthDescriptions: [...tg.targets].map((id) => ({ Target: { Id: id, Port: tg.port }, HealthCheckPort: String(tg.port), TargetHealth: { State: resources.get(id)?.state === 'running' ? 'healthy' : 'unused' } })) };
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
  // PutSecretValue stores a new AWSCURRENT version of an existing secret; unknown secret → ResourceNotFoundException.
  // https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
  smMock.on(sm.PutSecretValueCommand).callsFake(guard('PutSecretValue', (i: sm.PutSecretValueCommandInput) => {
    const s = secrets.get(i.SecretId!) ?? [...secrets.values()].find((x) => x.arn === i.SecretId);
    if (!s) throw awsError('ResourceNotFoundException');
    s.value = i.SecretString;
    return { ARN: s.arn, Name: i.SecretId };
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
    /** The next `n` DescribeSecurityGroups calls show no rules (a stale view). */
    staleSecurityGroupRules: (n: number) => void (staleRules = n),
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
