/**
 * The inline policy of the member role (`CapstanMemberRole`): what the management account's workflow may do in a
 * member account, statement by statement, with the wildcard resources cdk-nag needs acknowledged. Its own file
 * because it is the account's whole exposure to Capstan, reviewed and tested (test/infra/iam/) apart from the stack
 * that deploys it.
 */
import { Aws } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { MANAGED_TAG } from '../catalog/index.js';

/** One ARN pattern in two spellings: the real one, and how cdk-nag prints it in a finding ID. */
export interface ArnPattern {
  readonly arn: string;
  readonly nag: string;
}

function ec2(resource: string, account = true): ArnPattern {
  return {
    arn: `arn:${Aws.PARTITION}:ec2:*:${account ? Aws.ACCOUNT_ID : ''}:${resource}`,
    nag: `arn:<AWS::Partition>:ec2:*:${account ? '<AWS::AccountId>' : ''}:${resource}`,
  };
}

function elb(resource: string): ArnPattern {
  return {
    arn: `arn:${Aws.PARTITION}:elasticloadbalancing:*:${Aws.ACCOUNT_ID}:${resource}`,
    nag: `arn:<AWS::Partition>:elasticloadbalancing:*:<AWS::AccountId>:${resource}`,
  };
}

/** Every secret of the account: secrets are created at run time with generated names. */
export const ACCOUNT_SECRETS: ArnPattern = {
  arn: `arn:${Aws.PARTITION}:secretsmanager:*:${Aws.ACCOUNT_ID}:secret:*`,
  nag: 'arn:<AWS::Partition>:secretsmanager:*:<AWS::AccountId>:secret:*',
};
/** Capstan's secrets by name: every cluster secret is named `capstan/<cluster>/<uid>/…` (cluster-secrets.ts). */
const CAPSTAN_SECRETS: ArnPattern = {
  arn: `arn:${Aws.PARTITION}:secretsmanager:*:${Aws.ACCOUNT_ID}:secret:capstan/*`,
  nag: 'arn:<AWS::Partition>:secretsmanager:*:<AWS::AccountId>:secret:capstan/*',
};
const PUBLIC_PARAMETERS: ArnPattern = {
  arn: `arn:${Aws.PARTITION}:ssm:*::parameter/aws/service/*`,
  nag: 'arn:<AWS::Partition>:ssm:*::parameter/aws/service/*',
};

const RESOURCE_TAGGED = { StringEquals: { [`aws:ResourceTag/${MANAGED_TAG.key}`]: MANAGED_TAG.value } };
const REQUEST_TAGGED = { StringEquals: { [`aws:RequestTag/${MANAGED_TAG.key}`]: MANAGED_TAG.value } };

/** EC2 and ELB describe calls: EC2 and ELB authorise them on `*` only. */
const DESCRIBE_ACTIONS = [
  'ec2:DescribeAddresses',
  'ec2:DescribeAvailabilityZones',
  'ec2:DescribeImages',
  'ec2:DescribeInstanceStatus',
  'ec2:DescribeInstanceTypes',
  'ec2:DescribeInstances',
  'ec2:DescribeInternetGateways',
  'ec2:DescribeKeyPairs',
  'ec2:DescribeNatGateways',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeRouteTables',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSubnets',
  'ec2:DescribeTags',
  'ec2:DescribeVolumes',
  'ec2:DescribeVpcs',
  'elasticloadbalancing:DescribeListeners',
  'elasticloadbalancing:DescribeLoadBalancerAttributes',
  'elasticloadbalancing:DescribeLoadBalancers',
  'elasticloadbalancing:DescribeTags',
  'elasticloadbalancing:DescribeTargetGroupAttributes',
  'elasticloadbalancing:DescribeTargetGroups',
  'elasticloadbalancing:DescribeTargetHealth',
];

/** The actions that create taggable network resources and may tag them in the same call (`ec2:CreateAction`). */
const EC2_CREATE_ACTIONS = [
  'RunInstances',
  'CreateVpc',
  'CreateSubnet',
  'CreateSecurityGroup',
  'CreateInternetGateway',
  'CreateRouteTable',
  'AllocateAddress',
  'CreateNatGateway',
];

/**
 * The statements of the member role, with the wildcard resources they use. Exported for tests and docs: each
 * statement's `Sid` says what it is for.
 */
export function memberRoleStatements(nodeRoleArns: readonly string[]): { statements: PolicyStatement[]; wildcards: ArnPattern[] } {
  const instance = ec2('instance/*');
  const volume = ec2('volume/*');
  const subnet = ec2('subnet/*');
  const securityGroup = ec2('security-group/*');
  const securityGroupRule = ec2('security-group-rule/*');
  const image = ec2('image/*', false);
  const networkInterface = ec2('network-interface/*');
  const keyPair = ec2('key-pair/*');
  const vpc = ec2('vpc/*');
  const internetGateway = ec2('internet-gateway/*');
  const routeTable = ec2('route-table/*');
  const elasticIp = ec2('elastic-ip/*');
  const natGateway = ec2('natgateway/*');
  const loadBalancer = elb('loadbalancer/net/*/*');
  const targetGroup = elb('targetgroup/*/*');
  const listener = elb('listener/net/*/*/*');
  const arns = (...patterns: ArnPattern[]): string[] => patterns.map((p) => p.arn);

  const statements = [
    new PolicyStatement({ sid: 'DescribeUnscoped', actions: DESCRIBE_ACTIONS, resources: ['*'] }),
    new PolicyStatement({ sid: 'ReadPublicAmiParameters', actions: ['ssm:GetParameter', 'ssm:GetParameters'], resources: arns(PUBLIC_PARAMETERS) }),
    new PolicyStatement({ sid: 'RunTaggedInstances', actions: ['ec2:RunInstances'], resources: arns(instance, volume), conditions: REQUEST_TAGGED }),
    new PolicyStatement({
      sid: 'RunInstancesWith',
      actions: ['ec2:RunInstances'],
      resources: arns(subnet, securityGroup, image, networkInterface, keyPair),
    }),
    new PolicyStatement({
      sid: 'TagOnCreate',
      actions: ['ec2:CreateTags'],
      resources: arns(instance, volume, networkInterface, vpc, subnet, securityGroup, internetGateway, routeTable, elasticIp, natGateway),
      conditions: { StringEquals: { 'ec2:CreateAction': EC2_CREATE_ACTIONS } },
    }),
    new PolicyStatement({
      sid: 'ManageTaggedInstances',
      actions: ['ec2:TerminateInstances', 'ec2:StopInstances', 'ec2:StartInstances', 'ec2:RebootInstances'],
      resources: arns(instance),
      conditions: RESOURCE_TAGGED,
    }),
    new PolicyStatement({ sid: 'CreateTaggedVpc', actions: ['ec2:CreateVpc'], resources: arns(vpc), conditions: REQUEST_TAGGED }),
    new PolicyStatement({
      sid: 'CreateTaggedNetwork',
      actions: ['ec2:CreateSubnet', 'ec2:CreateSecurityGroup', 'ec2:CreateRouteTable', 'ec2:CreateInternetGateway', 'ec2:AllocateAddress', 'ec2:CreateNatGateway'],
      resources: arns(subnet, securityGroup, routeTable, internetGateway, elasticIp, natGateway),
      conditions: REQUEST_TAGGED,
    }),
    new PolicyStatement({
      sid: 'ManageTaggedNetwork',
      actions: [
        'ec2:CreateSubnet',
        'ec2:CreateSecurityGroup',
        'ec2:CreateRouteTable',
        'ec2:AttachInternetGateway',
        'ec2:DetachInternetGateway',
        'ec2:CreateRoute',
        'ec2:DeleteRoute',
        'ec2:AssociateRouteTable',
        'ec2:DisassociateRouteTable',
        'ec2:ModifyVpcAttribute',
        'ec2:ModifySubnetAttribute',
        'ec2:AuthorizeSecurityGroupIngress',
        'ec2:AuthorizeSecurityGroupEgress',
        'ec2:RevokeSecurityGroupIngress',
        'ec2:RevokeSecurityGroupEgress',
        'ec2:DeleteVpc',
        'ec2:DeleteSubnet',
        'ec2:DeleteSecurityGroup',
        'ec2:DeleteInternetGateway',
        'ec2:DeleteRouteTable',
        'ec2:CreateNatGateway',
        'ec2:DeleteNatGateway',
        'ec2:ReleaseAddress',
      ],
      resources: arns(vpc, subnet, securityGroup, internetGateway, routeTable, elasticIp, natGateway),
      conditions: RESOURCE_TAGGED,
    }),
    new PolicyStatement({
      sid: 'SecurityGroupRulesOfTaggedGroups',
      actions: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:AuthorizeSecurityGroupEgress', 'ec2:RevokeSecurityGroupIngress', 'ec2:RevokeSecurityGroupEgress'],
      resources: arns(securityGroupRule),
    }),
    new PolicyStatement({
      sid: 'CreateTaggedLoadBalancers',
      actions: ['elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup'],
      resources: arns(loadBalancer, targetGroup),
      conditions: REQUEST_TAGGED,
    }),
    new PolicyStatement({
      sid: 'CreateTaggedListeners',
      actions: ['elasticloadbalancing:CreateListener'],
      resources: arns(listener),
      conditions: REQUEST_TAGGED,
    }),
    new PolicyStatement({
      sid: 'TagLoadBalancersOnCreate',
      actions: ['elasticloadbalancing:AddTags'],
      resources: arns(loadBalancer, targetGroup, listener),
      conditions: { StringEquals: { 'elasticloadbalancing:CreateAction': ['CreateLoadBalancer', 'CreateTargetGroup', 'CreateListener'] } },
    }),
    new PolicyStatement({
      sid: 'ManageTaggedLoadBalancers',
      actions: [
        'elasticloadbalancing:CreateListener',
        'elasticloadbalancing:DeleteListener',
        'elasticloadbalancing:RegisterTargets',
        'elasticloadbalancing:DeregisterTargets',
        'elasticloadbalancing:ModifyLoadBalancerAttributes',
        'elasticloadbalancing:ModifyTargetGroup',
        'elasticloadbalancing:ModifyTargetGroupAttributes',
        'elasticloadbalancing:DeleteLoadBalancer',
        'elasticloadbalancing:DeleteTargetGroup',
      ],
      resources: arns(loadBalancer, targetGroup, listener),
      conditions: RESOURCE_TAGGED,
    }),
    new PolicyStatement({
      sid: 'CreateTaggedSecrets',
      actions: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
      resources: arns(ACCOUNT_SECRETS),
      conditions: REQUEST_TAGGED,
    }),
    new PolicyStatement({
      sid: 'ManageTaggedSecrets',
      actions: ['secretsmanager:PutSecretValue', 'secretsmanager:DeleteSecret'],
      resources: arns(ACCOUNT_SECRETS),
      conditions: RESOURCE_TAGGED,
    }),
    // Reads by name, not by tag: Capstan asks for a secret before it exists (is the kubeconfig there yet?), and a secret
    // that does not exist has no tags, so a tag condition refuses the call (AccessDeniedException) where Capstan must
    // learn ResourceNotFoundException. Found by evaluating every recorded call (test/infra/iam/workflow-calls.test.ts).
    // https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access-abac.html
    new PolicyStatement({
      sid: 'ReadCapstanSecrets',
      actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      resources: arns(CAPSTAN_SECRETS),
    }),
    new PolicyStatement({
      sid: 'PassNodeRoles',
      actions: ['iam:PassRole'],
      resources: [...nodeRoleArns],
      conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    }),
    // The first load balancer or target group of an account makes ELB create its service-linked role with the
    // caller's permissions; without this a fresh account refuses Capstan's first cluster (issue 12, defect 7).
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-service-linked-roles.html
    new PolicyStatement({
      sid: 'CreateElbServiceLinkedRole',
      actions: ['iam:CreateServiceLinkedRole'],
      resources: [`arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing`],
      conditions: { StringEquals: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' } },
    }),
  ];
  const wildcards = [
    instance,
    volume,
    subnet,
    securityGroup,
    securityGroupRule,
    image,
    networkInterface,
    keyPair,
    vpc,
    internetGateway,
    routeTable,
    elasticIp,
    natGateway,
    loadBalancer,
    targetGroup,
    listener,
    ACCOUNT_SECRETS,
    CAPSTAN_SECRETS,
    PUBLIC_PARAMETERS,
  ];
  return { statements, wildcards };
}
