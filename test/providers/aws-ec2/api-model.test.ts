/**
 * The request check of the fake AWS against the API model the SDK packages ship (api-model.ts), alone and as the
 * fake applies it to every request.
 */
import * as ec2 from '@aws-sdk/client-ec2';
import * as elb from '@aws-sdk/client-elastic-load-balancing-v2';
import * as sm from '@aws-sdk/client-secrets-manager';
import * as sts from '@aws-sdk/client-sts';
import { assertValidRequest, commandFor, validateAgainstModel } from './api-model.js';
import { createFakeAws } from './fake-aws.js';

describe('validateAgainstModel', () => {
  it.each([
    ['ec2 RunInstances', new ec2.RunInstancesCommand({
      ImageId: 'ami-0123', InstanceType: 'm7i.large', MinCount: 1, MaxCount: 1, SubnetId: 'subnet-1', SecurityGroupIds: ['sg-1'],
      UserData: 'I2Nsb3VkLWNvbmZpZw==', IamInstanceProfile: { Name: 'capstan-node' }, ClientToken: 'token',
      MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 }, BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeSize: 40, Encrypted: true } }],
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'cp-0' }] }],
    })],
    ['ec2 DescribeInstances with no input', new ec2.DescribeInstancesCommand({})],
    ['ec2 AuthorizeSecurityGroupIngress', new ec2.AuthorizeSecurityGroupIngressCommand({ GroupId: 'sg-1', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 6443, ToPort: 6443, IpRanges: [{ CidrIp: '10.0.0.0/16' }], UserIdGroupPairs: [{ GroupId: 'sg-2' }] }] })],
    ['elbv2 CreateLoadBalancer', new elb.CreateLoadBalancerCommand({ Name: 'capstan-a', Type: 'network', Scheme: 'internal', Subnets: ['subnet-1', 'subnet-2'], SecurityGroups: ['sg-1'], Tags: [{ Key: 'k', Value: 'v' }] })],
    ['elbv2 RegisterTargets', new elb.RegisterTargetsCommand({ TargetGroupArn: 'arn:tg', Targets: [{ Id: 'i-1', Port: 6443 }] })],
    ['secretsmanager CreateSecret', new sm.CreateSecretCommand({ Name: 'capstan/a/ca', SecretString: 'pem', SecretBinary: new Uint8Array([1, 2]), Tags: [{ Key: 'k', Value: 'v' }] })],
    ['sts AssumeRole', new sts.AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111122223333:role/R', RoleSessionName: 'capstan', DurationSeconds: 900 })],
    ['an optional member set to undefined', new elb.CreateLoadBalancerCommand({ Name: 'capstan-a', Scheme: undefined })],
  ])('accepts a valid request: %s', (_name, command) => {
    expect(validateAgainstModel(command)).toEqual([]);
  });

  it.each([
    ['fails when a required member is missing', new elb.RegisterTargetsCommand({ TargetGroupArn: 'arn:tg' } as elb.RegisterTargetsCommandInput), ['RegisterTargets.Targets: required member of RegisterTargetsInput is missing']],
    ['fails when a structure in a list misses a required member', new elb.RegisterTargetsCommand({ TargetGroupArn: 'arn:tg', Targets: [{ Id: 'i-1' }, { Port: 6443 } as elb.TargetDescription] }), ['RegisterTargets.Targets[1].Id: required member of TargetDescription is missing']],
    ['fails when every required member is missing', new ec2.RunInstancesCommand({ ImageId: 'ami-1' } as ec2.RunInstancesCommandInput), ['RunInstances.MaxCount: required member of RunInstancesRequest is missing', 'RunInstances.MinCount: required member of RunInstancesRequest is missing']],
    ['fails when a member is unknown (a different case)', new elb.CreateLoadBalancerCommand({ Name: 'a', subnets: ['subnet-1'] } as elb.CreateLoadBalancerCommandInput), ['CreateLoadBalancer.subnets: unknown member of CreateLoadBalancerInput; did you mean Subnets?']],
    ['fails when a member is unknown', new sts.AssumeRoleCommand({ RoleArn: 'r', RoleSessionName: 's', Duration: 900 } as sts.AssumeRoleCommandInput), [expect.stringMatching(/^AssumeRole\.Duration: unknown member of AssumeRoleRequest; its members are RoleArn, RoleSessionName, .*DurationSeconds/)]],
    ['fails when a number is a string', new elb.CreateTargetGroupCommand({ Name: 'tg', Port: '6443' } as unknown as elb.CreateTargetGroupCommandInput), ['CreateTargetGroup.Port: must be a number, got string "6443"']],
    ['fails when a list is a string', new elb.CreateLoadBalancerCommand({ Name: 'a', Subnets: 'subnet-1' } as unknown as elb.CreateLoadBalancerCommandInput), ['CreateLoadBalancer.Subnets: must be a list, got string "subnet-1"']],
    ['fails when a list member has the wrong type', new elb.CreateLoadBalancerCommand({ Name: 'a', Subnets: ['subnet-1', 2] } as unknown as elb.CreateLoadBalancerCommandInput), ['CreateLoadBalancer.Subnets[1]: must be a string, got number 2']],
    ['fails when a list member is null', new ec2.DescribeInstancesCommand({ InstanceIds: ['i-1', null] } as unknown as ec2.DescribeInstancesCommandInput), ['DescribeInstances.InstanceIds[1]: list member must not be null, got null']],
    ['fails when a structure is a string', new ec2.RunInstancesCommand({ MinCount: 1, MaxCount: 1, IamInstanceProfile: 'capstan-node' } as unknown as ec2.RunInstancesCommandInput), ['RunInstances.IamInstanceProfile: must be a structure (IamInstanceProfileSpecification), got string "capstan-node"']],
    ['fails deep in lists of structures', new ec2.AuthorizeSecurityGroupIngressCommand({ GroupId: 'sg-1', IpPermissions: [{ IpProtocol: 'tcp', FromPort: '80', IpRanges: [{ CidrIp: '10.0.0.0/16', Cidr: 'x' }] }] } as unknown as ec2.AuthorizeSecurityGroupIngressCommandInput), [
      'AuthorizeSecurityGroupIngress.IpPermissions[0].FromPort: must be a number, got string "80"',
      expect.stringMatching(/^AuthorizeSecurityGroupIngress\.IpPermissions\[0\]\.IpRanges\[0\]\.Cidr: unknown member of IpRange; its members are /),
    ]],
    ['fails when a boolean is a string', new ec2.ModifyVpcAttributeCommand({ VpcId: 'vpc-1', EnableDnsHostnames: { Value: 'true' } } as unknown as ec2.ModifyVpcAttributeCommandInput), ['ModifyVpcAttribute.EnableDnsHostnames.Value: must be a boolean, got string "true"']],
    ['fails when a blob is a string', new sm.CreateSecretCommand({ Name: 'a', SecretBinary: 'pem' } as unknown as sm.CreateSecretCommandInput), ['CreateSecret.SecretBinary: must be a blob (Uint8Array), got string "pem"']],
  ])('%s', (_name, command, problems) => {
    expect(validateAgainstModel(command)).toEqual(problems);
  });

  it('fails when given something that is not an SDK command', () => {
    expect(() => validateAgainstModel({ input: {} })).toThrow('not an AWS SDK v3 command');
  });
});

describe('assertValidRequest', () => {
  it.each([
    ['EC2 picks the code of the first problem', new ec2.CreateVpcCommand({ CidrBlock: 'x', Bogus: 1, TagSpecifications: 'x' } as unknown as ec2.CreateVpcCommandInput), 'UnknownParameter'],
    ['EC2 names an unknown member UnknownParameter', new ec2.DeleteSubnetCommand({ SubnetId: 'subnet-1', Subnet: 'x' } as ec2.DeleteSubnetCommandInput), 'UnknownParameter'],
    ['EC2 names a missing required member MissingParameter', new ec2.DeleteSubnetCommand({} as ec2.DeleteSubnetCommandInput), 'MissingParameter'],
    ['EC2 names a value of the wrong type InvalidParameterValue', new ec2.DescribeInstancesCommand({ MaxResults: '5' } as unknown as ec2.DescribeInstancesCommandInput), 'InvalidParameterValue'],
    ['ELBv2 answers ValidationError', new elb.RegisterTargetsCommand({ TargetGroupArn: 'arn:tg', Targets: [{}] } as elb.RegisterTargetsCommandInput), 'ValidationError'],
    ['Secrets Manager answers ValidationError', new sm.GetSecretValueCommand({} as sm.GetSecretValueCommandInput), 'ValidationError'],
    ['STS answers ValidationError', new sts.AssumeRoleCommand({ RoleArn: 'r' } as sts.AssumeRoleCommandInput), 'ValidationError'],
  ])('fails a request against the model as the service would: %s', (_name, command, code) => {
    expect(() => assertValidRequest(command)).toThrow(expect.objectContaining({ name: code, $fault: 'client', $metadata: { httpStatusCode: 400 } }));
  });

  it('lists every problem at once', () => {
    const command = new ec2.RunInstancesCommand({} as ec2.RunInstancesCommandInput);
    expect(() => assertValidRequest(command)).toThrow('2 validation errors detected: RunInstances.MaxCount: required member of RunInstancesRequest is missing; RunInstances.MinCount: required member of RunInstancesRequest is missing');
  });

  it('passes a valid request', () => {
    expect(() => assertValidRequest(new ec2.DeleteSubnetCommand({ SubnetId: 'subnet-1' }))).not.toThrow();
  });
});

describe('commandFor', () => {
  it('builds the SDK command of an action, carrying its model', () => {
    expect(validateAgainstModel(commandFor('elasticloadbalancing', 'RegisterTargets', { TargetGroupArn: 'arn:tg' }))).toEqual(['RegisterTargets.Targets: required member of RegisterTargetsInput is missing']);
  });

  it('fails when the SDK has no such command', () => {
    expect(() => commandFor('ec2', 'LaunchRocket', {})).toThrow('the ec2 SDK has no LaunchRocketCommand');
  });
});

describe('fake AWS request check', () => {
  const fake = createFakeAws();
  afterAll(() => fake.restore());

  it('fails a request that breaks the model with the SDK exception the service would raise, before any handler runs', async () => {
    // Prepare
    const client = new elb.ElasticLoadBalancingV2Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIAFAKE', secretAccessKey: 'fake' } });
    // Act
    const sent = client.send(new elb.RegisterTargetsCommand({ TargetGroupArn: 'arn:unknown', Targets: [{ Port: 6443 } as elb.TargetDescription] }));
    // Assess: ValidationError, not the handler's TargetGroupNotFound
    await expect(sent).rejects.toThrow(expect.objectContaining({ name: 'ValidationError', Code: 'ValidationError', $metadata: { httpStatusCode: 400 }, message: '1 validation error detected: RegisterTargets.Targets[0].Id: required member of TargetDescription is missing' }));
    await expect(sent).rejects.toBeInstanceOf(elb.ElasticLoadBalancingV2ServiceException);
    expect(fake.requests.at(-1)).toMatchObject({ action: 'RegisterTargets', result: 'ValidationError' });
  });

  it('fails an EC2 request with the EC2 error code', async () => {
    const client = new ec2.EC2Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIAFAKE', secretAccessKey: 'fake' } });
    const sent = client.send(new ec2.RunInstancesCommand({ ImageId: 'ami-1', MinCount: 1 } as ec2.RunInstancesCommandInput));
    await expect(sent).rejects.toThrow(expect.objectContaining({ name: 'MissingParameter', Code: 'MissingParameter' }));
    await expect(sent).rejects.toBeInstanceOf(ec2.EC2ServiceException);
    expect(fake.instances()).toEqual([]);
  });

  it('passes a valid request on to the handler', async () => {
    const client = new sm.SecretsManagerClient({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIAFAKE', secretAccessKey: 'fake' } });
    await expect(client.send(new sm.CreateSecretCommand({ Name: 'capstan/a/ca', SecretString: 'pem' }))).resolves.toMatchObject({ Name: 'capstan/a/ca' });
  });
});
