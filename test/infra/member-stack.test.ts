import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { MANAGED_TAG, WORKFLOW_ROLE_PATH } from '../../infra/constructs/function-catalog.js';
import { MemberStack, NODE_PROFILES } from '../../infra/stacks/member-stack.js';
import { actionsOf, ORG_CONTEXT, resourcesOf, type Statement } from './helpers.js';

let template: Template;
let memberStatements: Statement[];

beforeAll(() => {
  const stack = new MemberStack(new App({ builtinCloudFormationValidation: false }), 'Member', { managementAccount: ORG_CONTEXT.managementAccount, managementRegion: ORG_CONTEXT.region });
  template = Template.fromStack(stack);
  const role = Object.values(template.findResources('AWS::IAM::Role', { Properties: { RoleName: 'CapstanMemberRole' } }))[0]!;
  memberStatements = role.Properties.Policies[0].PolicyDocument.Statement as Statement[];
});

const RESOURCE_TAGGED = { StringEquals: { [`aws:ResourceTag/${MANAGED_TAG.key}`]: 'true' } };
const REQUEST_TAGGED = { StringEquals: { [`aws:RequestTag/${MANAGED_TAG.key}`]: 'true' } };

/** The statements that allow an action. */
function allowing(action: string): Statement[] {
  return memberStatements.filter((s) => actionsOf(s).includes(action));
}

describe('MemberStack role', () => {
  it('trusts only the management workflow roles, with the external ID', () => {
    // Act
    const role = Object.values(template.findResources('AWS::IAM::Role', { Properties: { RoleName: 'CapstanMemberRole' } }))[0]!;
    const [trust, ...others] = role.Properties.AssumeRolePolicyDocument.Statement as Statement[];

    // Assess
    expect(others).toHaveLength(0);
    expect(JSON.stringify(trust!.Principal)).toContain('{"Ref":"ManagementAccountId"},":root"');
    expect(trust!.Condition!.StringEquals).toEqual({ 'sts:ExternalId': { Ref: 'ExternalId' } });
    expect(JSON.stringify(trust!.Condition!.ArnLike!['aws:PrincipalArn'])).toContain(`:role${WORKFLOW_ROLE_PATH}*`);
  });

  it('takes the management account, region and external ID as parameters with the configured defaults', () => {
    template.hasParameter('ManagementAccountId', { Default: ORG_CONTEXT.managementAccount, AllowedPattern: '^\\d{12}$' });
    template.hasParameter('ManagementRegion', { Default: ORG_CONTEXT.region });
    template.hasParameter('ExternalId', { Default: 'capstan' });
  });

  it.each(['ec2:TerminateInstances', 'ec2:StopInstances', 'ec2:DeleteVpc', 'ec2:DeleteNatGateway', 'ec2:ReleaseAddress', 'ec2:DeleteSubnet', 'ec2:DeleteSecurityGroup', 'elasticloadbalancing:DeleteLoadBalancer', 'secretsmanager:DeleteSecret'])(
    'allows %s only on resources tagged capstan.dev/managed=true',
    (action) => {
      expect(allowing(action).length).toBeGreaterThan(0);
      for (const s of allowing(action)) expect(s.Condition).toEqual(RESOURCE_TAGGED);
    },
  );

  it('runs instances only with the managed tag on the instance and its volumes', () => {
    // Act
    const run = allowing('ec2:RunInstances');
    const tagged = run.filter((s) => JSON.stringify(s.Resource).match(/instance\/\*|volume\/\*/));

    // Assess
    expect(tagged).toHaveLength(1);
    expect(tagged[0]!.Condition).toEqual(REQUEST_TAGGED);
    const untagged = run.filter((s) => s.Condition === undefined).flatMap((s) => resourcesOf(s).map((r) => JSON.stringify(r).match(/:([a-z-]+)\/\*/)?.[1]));
    expect(untagged.sort()).toEqual(['image', 'key-pair', 'network-interface', 'security-group', 'subnet']);
  });

  it.each(['ec2:CreateVpc', 'ec2:AllocateAddress', 'elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup', 'secretsmanager:CreateSecret'])(
    'creates with %s only with the managed request tag',
    (action) => {
      for (const s of allowing(action)) expect(s.Condition).toEqual(REQUEST_TAGGED);
    },
  );

  it('creates listeners only tagged, on tagged load balancers', () => {
    expect(allowing('elasticloadbalancing:CreateListener').map((s) => s.Condition)).toEqual([REQUEST_TAGGED, RESOURCE_TAGGED]);
  });

  it('tags only in the call that creates the resource', () => {
    expect(allowing('ec2:CreateTags').map((s) => Object.keys(s.Condition?.StringEquals ?? {}))).toEqual([['ec2:CreateAction']]);
    expect(allowing('elasticloadbalancing:AddTags').map((s) => Object.keys(s.Condition?.StringEquals ?? {}))).toEqual([['elasticloadbalancing:CreateAction']]);
  });

  it('uses no wildcard actions and keeps unscoped resources to Describe calls', () => {
    for (const s of memberStatements) {
      for (const action of actionsOf(s)) expect(action).not.toContain('*');
      if (resourcesOf(s).includes('*')) for (const action of actionsOf(s)) expect(action).toMatch(/:Describe/);
    }
  });

  it('has no unconditioned statement besides describes, AMI parameters, RunInstances inputs, rules of tagged groups and reads of capstan/* secrets', () => {
    expect(memberStatements.filter((s) => s.Condition === undefined).map((s) => s.Sid)).toEqual([
      'DescribeUnscoped',
      'ReadPublicAmiParameters',
      'RunInstancesWith',
      'SecurityGroupRulesOfTaggedGroups',
      'ReadCapstanSecrets',
    ]);
    const reads = memberStatements.find((s) => s.Sid === 'ReadCapstanSecrets')!;
    expect(reads.Action).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    expect(JSON.stringify(reads.Resource)).toMatch(/:secret:capstan\/\*"/);
  });

  it('passes only the node roles, only to EC2', () => {
    // Act
    const pass = allowing('iam:PassRole');

    // Assess
    expect(pass).toHaveLength(1);
    expect(pass[0]!.Resource).toEqual([
      { 'Fn::GetAtt': [expect.stringMatching(/^ControlPlaneNodeRole/), 'Arn'] },
      { 'Fn::GetAtt': [expect.stringMatching(/^WorkerNodeRole/), 'Arn'] },
    ]);
    expect(pass[0]!.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
  });
});

describe('MemberStack machines', () => {
  it.each(Object.values(NODE_PROFILES))('gives machines the instance profile %s with SSM and tagged-secret read only', (name) => {
    template.hasResourceProperties('AWS::IAM::InstanceProfile', { InstanceProfileName: name, Roles: [Match.anyValue()] });
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: name,
      ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore']] }],
      Policies: [
        {
          PolicyName: 'ClusterSecrets',
          PolicyDocument: Match.objectLike({
            Statement: [Match.objectLike({ Action: 'secretsmanager:GetSecretValue', Condition: RESOURCE_TAGGED })],
          }),
        },
      ],
    });
  });
});

describe('MemberStack event forwarding', () => {
  it('forwards the EC2 instance state changes of a lost machine (not pending/running) to the management capstan-events bus with a role and a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['stopping', 'stopped', 'shutting-down', 'terminated'] } },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: 'ManagementRegion' }, { Ref: 'ManagementAccountId' }, ':event-bus/capstan-events'])] },
          RoleArn: Match.anyValue(),
          DeadLetterConfig: Match.anyValue(),
        }),
      ],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: 'events:PutEvents' })] },
    });
  });

  it('needs no CDK bootstrap (StackSet targets are not bootstrapped)', () => {
    expect(template.toJSON().Parameters.BootstrapVersion).toBeUndefined();
    expect(template.toJSON().Rules?.CheckBootstrapVersion).toBeUndefined();
  });
});
