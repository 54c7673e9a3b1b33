/**
 * Calls that must be DENIED by the synthesised policies, each evaluated by a real IAM evaluator with the resource
 * ARNs and condition keys IAM would see: the member role outside the `capstan.dev/managed` tag, untagged creates,
 * tag escalation, PassRole and service-linked roles beyond what Capstan needs, AssumeRole without the external ID or
 * from roles the member role does not trust, and management functions beyond their catalog access.
 */
import { describeVerdict, Evaluator, iamRequestsFor, type AwsCall, type World } from './authorize.js';
import { DEPLOYMENT, synthesizeDeployment, type DeployedRole, type Deployment } from './deployment.js';

const { memberAccount: MEMBER, managementAccount: MANAGEMENT, region: REGION } = DEPLOYMENT;
const MANAGED = { 'capstan.dev/managed': 'true', 'capstan.dev/cluster': 'a' };
const FOREIGN = { team: 'payments' };
const SECRET = (name: string) => `arn:aws:secretsmanager:${REGION}:${MEMBER}:secret:${name}-AbCdEf`;
const TG = (name: string) => `arn:aws:elasticloadbalancing:${REGION}:${MEMBER}:targetgroup/${name}/0123456789abcdef`;

/** What the member account holds: Capstan's tagged resources and the owner's untagged ones. */
const TAGS: Record<string, Record<string, string>> = {
  'i-capstan': MANAGED,
  'i-owner': FOREIGN,
  'sg-capstan': MANAGED,
  'sg-owner': FOREIGN,
  'subnet-capstan': MANAGED,
  'vpc-capstan': MANAGED,
  [TG('capstan-tg')]: MANAGED,
  [TG('owner-tg')]: FOREIGN,
  [SECRET('capstan/a/kubeconfig')]: { ...MANAGED, 'capstan.dev/secret-audience': 'capstan', 'capstan.dev/vpc-id': 'vpc-a' },
  [SECRET('capstan/a/join')]: { ...MANAGED, 'capstan.dev/secret-audience': 'worker', 'capstan.dev/vpc-id': 'vpc-a' },
  [SECRET('capstan/a/control-plane')]: { ...MANAGED, 'capstan.dev/secret-audience': 'control-plane', 'capstan.dev/vpc-id': 'vpc-a' },
  [SECRET('capstan/b/join')]: { 'capstan.dev/managed': 'true', 'capstan.dev/cluster': 'b', 'capstan.dev/secret-audience': 'worker', 'capstan.dev/vpc-id': 'vpc-b' },
  [SECRET('capstan/b/control-plane')]: { 'capstan.dev/managed': 'true', 'capstan.dev/cluster': 'b', 'capstan.dev/secret-audience': 'control-plane', 'capstan.dev/vpc-id': 'vpc-b' },
  [SECRET('payments/db')]: FOREIGN,
};

let deployment: Deployment;
let world: World;
const evaluator = new Evaluator();
let asserted = 0;

beforeAll(() => {
  deployment = synthesizeDeployment();
  world = {
    tags: (id) => TAGS[id],
    secretArn: (name) => (name.startsWith('arn:') ? name : SECRET(name)),
    roleOfInstanceProfile: (name) => deployment.instanceProfiles.get(name)?.arn ?? `arn:aws:iam::${MEMBER}:role/${name}`,
    elbServiceLinkedRoleExists: () => true,
    markElbServiceLinkedRole: () => undefined,
    trustPolicy: (arn) => deployment.roleByArn(arn)?.trust,
    resourcePolicy: (arn) => (arn === deployment.eventBusArn ? deployment.eventBusPolicy : undefined),
  };
});

afterAll(() => {
  const c = evaluator.counts;
  console.log(`IAM denials: ${asserted} denied calls asserted (${c.authorizations} authorisations evaluated, ${c.denied} denied)`);
});

/** Evaluates every authorisation of the call; the call is refused when any one is. */
async function refused(role: DeployedRole, call: Omit<AwsCall, 'region'>): Promise<string[]> {
  const verdicts = [];
  for (const request of await iamRequestsFor({ region: REGION, ...call }, world)) verdicts.push(await evaluator.evaluate(role, request));
  return verdicts.filter((v) => v.result !== 'Allowed').map(describeVerdict);
}

const member = () => deployment.memberRole('CapstanMemberRole');
const ec2 = (action: string, input: unknown): Omit<AwsCall, 'region'> => ({ service: 'ec2', action, input, account: MEMBER });
const tagSpec = (type: string, tags: Record<string, string>) => ({ TagSpecifications: [{ ResourceType: type, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }] });
const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const run = (overrides: Record<string, unknown>) => ({
  ImageId: 'ami-0123456789abcdef0',
  SubnetId: 'subnet-capstan',
  SecurityGroupIds: ['sg-capstan'],
  IamInstanceProfile: { Name: 'capstan-node' },
  TagSpecifications: [{ ResourceType: 'instance', Tags: tagList(MANAGED) }, { ResourceType: 'volume', Tags: tagList(MANAGED) }],
  ...overrides,
});

describe('IAM: the member role is refused outside what Capstan created', () => {
  it.each([
    ['terminating an instance without the managed tag', ec2('TerminateInstances', { InstanceIds: ['i-owner'] })],
    ['deleting a security group without the managed tag', ec2('DeleteSecurityGroup', { GroupId: 'sg-owner' })],
    ['opening a port on a security group without the managed tag', ec2('AuthorizeSecurityGroupIngress', { GroupId: 'sg-owner', IpPermissions: [] })],
    ['registering targets in a target group without the managed tag', { service: 'elasticloadbalancing', action: 'RegisterTargets', input: { TargetGroupArn: TG('owner-tg'), Targets: [{ Id: 'i-capstan' }] }, account: MEMBER }],
    ['putting a value into a secret without the managed tag', { service: 'secretsmanager', action: 'PutSecretValue', input: { SecretId: SECRET('payments/db') }, account: MEMBER }],
    ['reading a secret without the managed tag', { service: 'secretsmanager', action: 'GetSecretValue', input: { SecretId: SECRET('payments/db') }, account: MEMBER }],
    ['running an instance without the managed tag', ec2('RunInstances', run({ TagSpecifications: [{ ResourceType: 'instance', Tags: tagList(FOREIGN) }, { ResourceType: 'volume', Tags: tagList(FOREIGN) }] }))],
    ['running an instance with no tags at all', ec2('RunInstances', run({ TagSpecifications: undefined }))],
    ['creating an untagged VPC', ec2('CreateVpc', { CidrBlock: '10.0.0.0/16' })],
    ['creating a security group tagged for someone else', ec2('CreateSecurityGroup', { GroupName: 'x', VpcId: 'vpc-capstan', ...tagSpec('security-group', FOREIGN) })],
    ['creating an untagged secret', { service: 'secretsmanager', action: 'CreateSecret', input: { Name: 'capstan/x/ca' }, account: MEMBER }],
    ['creating an untagged load balancer', { service: 'elasticloadbalancing', action: 'CreateLoadBalancer', input: { Name: 'x', Type: 'network' }, account: MEMBER }],
    ['tagging an existing instance managed (outside its create call)', ec2('CreateTags', { Resources: ['i-owner'], Tags: tagList(MANAGED) })],
  ] as [string, Omit<AwsCall, 'region'>][])('fails when %s', async (_name, call) => {
    // Act
    const denials = await refused(member(), call);

    // Assess
    expect(denials.length).toBeGreaterThan(0);
    asserted++;
  });

  it('passes no role but the node roles, and those only to EC2', async () => {
    // Arrange
    const admin = `arn:aws:iam::${MEMBER}:role/Admin`;
    const node = deployment.memberRole('capstan-node').arn;
    const pass = (role: string, service: string) => ({ action: 'iam:PassRole', resource: role, resourceAccount: MEMBER, context: { 'iam:PassedToService': service } });

    // Act
    const results = [
      await evaluator.evaluate(member(), pass(admin, 'ec2.amazonaws.com')),
      await evaluator.evaluate(member(), pass(node, 'lambda.amazonaws.com')),
      await evaluator.evaluate(member(), pass(node, 'ec2.amazonaws.com')),
    ].map((v) => v.result);

    // Assess
    expect(results).toEqual(['ImplicitlyDenied', 'ImplicitlyDenied', 'Allowed']);
    asserted += 2;
  });

  it('creates the service-linked role of ELB only (defect 7), not of another service', async () => {
    // Arrange
    const slr = (service: string, name: string) => ({
      action: 'iam:CreateServiceLinkedRole',
      resource: `arn:aws:iam::${MEMBER}:role/aws-service-role/${service}/${name}`,
      resourceAccount: MEMBER,
      context: { 'iam:AWSServiceName': service },
    });

    // Act
    const elb = await evaluator.evaluate(member(), slr('elasticloadbalancing.amazonaws.com', 'AWSServiceRoleForElasticLoadBalancing'));
    const autoscaling = await evaluator.evaluate(member(), slr('autoscaling.amazonaws.com', 'AWSServiceRoleForAutoScaling'));

    // Assess
    expect(elb.result).toBe('Allowed');
    expect(autoscaling.result).toBe('ImplicitlyDenied');
    asserted++;
  });
});

describe('IAM: only the workflow roles of the management account assume the member role, with the external ID', () => {
  const assume = (input: Record<string, unknown>): Omit<AwsCall, 'region'> => ({
    service: 'sts',
    action: 'AssumeRole',
    input: { RoleArn: `arn:aws:iam::${MEMBER}:role/CapstanMemberRole`, RoleSessionName: 'capstan', ...input },
    account: MEMBER,
  });
  /** A role anywhere whose own policy lets it assume any role: only the member role's trust policy can stop it. */
  const outsider = (account: string, path: string): DeployedRole => ({
    stack: 'management',
    logicalId: `Outsider${account}`,
    account,
    name: 'PhasePlan',
    arn: `arn:aws:iam::${account}:role${path}PhasePlan`,
    trust: { Statement: [] },
    identityPolicies: [{ name: 'AssumeAnything', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] } }],
  });

  it('allows a workflow role with the external ID (the control case)', async () => {
    expect(await refused(deployment.functionRole('PhasePlan'), assume({ ExternalId: DEPLOYMENT.externalId }))).toEqual([]);
  });

  it.each([
    ['without the external ID', () => deployment.functionRole('PhasePlan'), {}],
    ['with another external ID', () => deployment.functionRole('PhasePlan'), { ExternalId: 'guess' }],
    ['from an API function role (not on the workflow path)', () => deployment.functionRole('ApiClusters'), { ExternalId: DEPLOYMENT.externalId }],
    ['from a management-account role off the workflow path that may assume anything', () => outsider(MANAGEMENT, '/'), { ExternalId: DEPLOYMENT.externalId }],
    ['from a workflow-path role of another account', () => outsider('444455556666', '/capstan/workflow/'), { ExternalId: DEPLOYMENT.externalId }],
  ] as [string, () => DeployedRole, Record<string, unknown>][])('fails when assuming it %s', async (_name, role, input) => {
    // Act
    const denials = await refused(role(), assume(input));

    // Assess
    expect(denials.length).toBeGreaterThan(0);
    asserted++;
  });
});

describe('IAM: management functions are refused beyond their catalog access', () => {
  const tableArn = () => deployment.arnOf('management', 'ControlPlaneTable');

  it.each([
    ['ApiMachines writes the table (read access only)', 'ApiMachines', () => ({ service: 'dynamodb', action: 'PutItem', input: { TableName: tableArn() }, account: MANAGEMENT })],
    ['ApiHealthz reads the callback secret', 'ApiHealthz', () => ({ service: 'secretsmanager', action: 'GetSecretValue', input: { SecretId: deployment.arnOf('management', 'ControlPlaneCallbackSecret') }, account: MANAGEMENT })],
    ['ApiClusters reads a member account secret', 'ApiClusters', () => ({ service: 'secretsmanager', action: 'GetSecretValue', input: { SecretId: SECRET('capstan/a/kubeconfig') }, account: MEMBER })],
    ['PhasePlan starts an execution (not in its access)', 'PhasePlan', () => ({ service: 'states', action: 'StartExecution', input: { stateMachineArn: `arn:aws:states:${REGION}:${MANAGEMENT}:stateMachine:other` }, account: MANAGEMENT })],
  ] as [string, string, () => Omit<AwsCall, 'region'>][])('fails when %s', async (_name, fn, call) => {
    // Act
    const denials = await refused(deployment.functionRole(fn), call());

    // Assess
    expect(denials.length).toBeGreaterThan(0);
    asserted++;
  });
});

/**
 * Machines (issue 12, defects 3 and 6): each reads only its own cluster's secrets (the secret's VPC tag against the VPC
 * its instance credentials were delivered to) and only what its role needs; no machine writes a secret. The allowed
 * rows are the control: they prove the denials come from the scoping, not from a role that can read nothing.
 */
describe('IAM: machine roles', () => {
  const instance = (id: string) => `arn:aws:ec2:${REGION}:${MEMBER}:instance/${id}`;
  /** A call signed with the instance-role credentials of a machine of cluster `a` (VPC vpc-a) unless said otherwise. */
  const fromMachine = (action: string, secret: string, vpc = 'vpc-a'): Omit<AwsCall, 'region'> => ({
    service: 'secretsmanager',
    action,
    input: { SecretId: SECRET(secret), ...(action === 'PutSecretValue' ? { SecretString: 'x' } : {}) },
    account: MEMBER,
    sourceInstanceArn: instance('i-0a'),
    sourceVpc: vpc,
  });
  const worker = () => deployment.memberRole('capstan-node');
  const controlPlane = () => deployment.memberRole('capstan-control-plane');

  it.each([
    ['a worker reads its cluster\'s join secret', worker, fromMachine('GetSecretValue', 'capstan/a/join')],
    ['a control plane reads its cluster\'s join secret', controlPlane, fromMachine('GetSecretValue', 'capstan/a/join')],
    ['a control plane reads its cluster\'s CAs', controlPlane, fromMachine('GetSecretValue', 'capstan/a/control-plane')],
  ])('allows: %s', async (_name, role, call) => {
    expect(await refused(role(), call)).toEqual([]);
  });

  it.each([
    ['a worker reads its cluster\'s CA and service-account keys', worker, fromMachine('GetSecretValue', 'capstan/a/control-plane')],
    ['a worker reads the admin kubeconfig', worker, fromMachine('GetSecretValue', 'capstan/a/kubeconfig')],
    ['a control plane reads the admin kubeconfig', controlPlane, fromMachine('GetSecretValue', 'capstan/a/kubeconfig')],
    ['a worker of cluster a reads cluster b\'s join secret', worker, fromMachine('GetSecretValue', 'capstan/b/join')],
    ['a control plane of cluster a reads cluster b\'s CAs', controlPlane, fromMachine('GetSecretValue', 'capstan/b/control-plane')],
    ['a machine of cluster b (its VPC) reads cluster a\'s join secret', worker, fromMachine('GetSecretValue', 'capstan/a/join', 'vpc-b')],
    ['credentials taken off an instance, used outside EC2 (no source VPC)', controlPlane, { ...fromMachine('GetSecretValue', 'capstan/a/control-plane'), sourceVpc: undefined }],
    ['a control plane writes its cluster\'s CA secret', controlPlane, fromMachine('PutSecretValue', 'capstan/a/control-plane')],
    ['a control plane writes the kubeconfig', controlPlane, fromMachine('PutSecretValue', 'capstan/a/kubeconfig')],
    ['a worker writes the join secret', worker, fromMachine('PutSecretValue', 'capstan/a/join')],
    ['a machine reads a secret that is not Capstan\'s', controlPlane, fromMachine('GetSecretValue', 'payments/db')],
  ])('denies: %s', async (_name, role, call) => {
    expect(await refused(role(), call)).not.toEqual([]);
    asserted++;
  });
});
