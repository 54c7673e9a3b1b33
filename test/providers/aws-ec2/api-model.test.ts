/**
 * The request check of the fake AWS against the API model the SDK packages ship and the constraints of the services'
 * published models (python3-botocore; api-model.ts), alone and as the fake applies it to every request.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as ec2 from '@aws-sdk/client-ec2';
import * as elb from '@aws-sdk/client-elastic-load-balancing-v2';
import * as sm from '@aws-sdk/client-secrets-manager';
import * as sts from '@aws-sdk/client-sts';
import { assertValidRequest, BOTOCORE_DATA, commandFor, javaPattern, loadConstraints, type ModelService, validateAgainstModel } from './api-model.js';
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
    ['fails when a member is unknown', new sts.AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111122223333:role/R', RoleSessionName: 'capstan', Duration: 900 } as sts.AssumeRoleCommandInput), [expect.stringMatching(/^AssumeRole\.Duration: unknown member of AssumeRoleRequest; its members are RoleArn, RoleSessionName, .*DurationSeconds/)]],
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

/**
 * The model of `service` python3-botocore ships. Required: without it the fake AWS silently stops checking enums,
 * lengths, ranges and patterns, so the suite fails instead (.ci/run installs the package).
 */
function requireBotocore(service: ModelService) {
  const model = loadConstraints(service);
  if (!model) {
    throw new Error(
      `python3-botocore is not installed: no model of ${service} under ${BOTOCORE_DATA}. The fake AWS checks enum, length, range and pattern ` +
        'constraints against it; install it with `apt-get install -y python3-botocore` (.ci/run does).',
    );
  }
  return model;
}

const SERVICES: readonly ModelService[] = ['ec2', 'elasticloadbalancing', 'secretsmanager', 'sts'];

describe('validateAgainstModel: constraints of the published models (python3-botocore)', () => {
  beforeAll(() => SERVICES.forEach(requireBotocore));

  it.each([
    ['ec2', 'ec2'],
    ['elasticloadbalancing', 'elbv2'],
    ['secretsmanager', 'secretsmanager'],
    ['sts', 'sts'],
  ] as const)('loads the newest model of %s python3-botocore ships (required)', (service, dir) => {
    const model = requireBotocore(service);
    expect(relative(BOTOCORE_DATA, model.file)).toMatch(new RegExp(`^${dir}/\\d{4}-\\d{2}-\\d{2}/service-2\\.json(\\.gz)?$`));
    expect(model.counts.length + model.counts.range + model.counts.enum + model.counts.pattern).toBeGreaterThan(0);
  });

  it.each([
    ['an enum value newer than the 2022 model, from the SDK\'s enum (m7i.large)', new ec2.RunInstancesCommand({ ImageId: 'ami-1', InstanceType: 'm7i.large', MinCount: 1, MaxCount: 1 })],
    ['the API server target group', new elb.CreateTargetGroupCommand({
      Name: 'capstan-0123456789ab-cp', Protocol: 'TCP', Port: 6443, VpcId: 'vpc-1', TargetType: 'instance', HealthCheckProtocol: 'TCP',
      HealthCheckIntervalSeconds: 10, HealthyThresholdCount: 3, UnhealthyThresholdCount: 3, Tags: [{ Key: 'capstan.io/cluster', Value: 'a' }],
    })],
    ['a ClientRequestToken of 32 characters', new sm.CreateSecretCommand({ Name: 'capstan/a/ca', ClientRequestToken: '0123456789abcdef0123456789abcdef', SecretString: 'pem' })],
    ['a secret name of 512 characters', new sm.CreateSecretCommand({ Name: 'a'.repeat(512) })],
    ['a length in Unicode code points (512 emoji are 1024 UTF-16 units)', new sm.CreateSecretCommand({ Name: '\u{1F600}'.repeat(512) })],
    ['a value matching a translated Java pattern (\\!, \\/, \\=)', new sm.ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['!capstan/a=b'] }] })],
    ['AssumeRole at the bounds of its ranges', new sts.AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111122223333:role/R', RoleSessionName: 'capstan@a.b-c_d', DurationSeconds: 43200 })],
    ['a member newer than the 2022 model: skipped (TargetControlPort)', new elb.CreateTargetGroupCommand({ Name: 'tg', TargetControlPort: 0 })],
  ])('accepts a valid request: %s', (_name, command) => {
    expect(validateAgainstModel(command)).toEqual([]);
  });

  it('does not check a limit the model does not carry: ELBv2 documents 32 characters for a load balancer name, LoadBalancerName has no max', () => {
    expect(validateAgainstModel(new elb.CreateLoadBalancerCommand({ Name: 'a'.repeat(33) }))).toEqual([]);
  });

  it.each([
    ['fails when a load balancer scheme is not in its enum', new elb.CreateLoadBalancerCommand({ Name: 'capstan-a', Scheme: 'public' as elb.LoadBalancerSchemeEnum }), ['CreateLoadBalancer.Scheme: must be a value of enum LoadBalancerSchemeEnum (internet-facing, internal), got string "public"']],
    ['fails when a target group protocol is not in its enum', new elb.CreateTargetGroupCommand({ Name: 'tg', Protocol: 'TCPX' as elb.ProtocolEnum }), [expect.stringMatching(/^CreateTargetGroup\.Protocol: must be a value of enum ProtocolEnum \(HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP, .*\), got string "TCPX"$/)]],
    ['fails when an instance type is not in its enum', new ec2.RunInstancesCommand({ MinCount: 1, MaxCount: 1, InstanceType: 'm7i.colossal' as ec2._InstanceType }), [expect.stringMatching(/^RunInstances\.InstanceType: must be a value of enum InstanceType \(\S+, .*, … \d+ in all\), got string "m7i\.colossal"$/)]],
    ['fails when a secret name is longer than its max', new sm.CreateSecretCommand({ Name: 'a'.repeat(513) }), ['CreateSecret.Name: length must be between 1 and 512 (NameType), got 513 characters']],
    ['fails when a ClientRequestToken is shorter than its min', new sm.CreateSecretCommand({ Name: 'capstan/a/ca', ClientRequestToken: 'retry-1' }), ['CreateSecret.ClientRequestToken: length must be between 32 and 64 (ClientRequestTokenType), got 7 characters']],
    ['fails when a ClientRequestToken is longer than its max', new sm.PutSecretValueCommand({ SecretId: 'capstan/a/ca', ClientRequestToken: 'a'.repeat(65), SecretString: 'pem' }), ['PutSecretValue.ClientRequestToken: length must be between 32 and 64 (ClientRequestTokenType), got 65 characters']],
    ['fails when a list is longer than its max', new sm.ListSecretsCommand({ Filters: Array.from({ length: 11 }, () => ({ Key: 'name' as const, Values: ['capstan'] })) }), ['ListSecrets.Filters: length must be at most 10 (FiltersListType), got 11 members']],
    ['fails when a list is shorter than its min', new elb.CreateLoadBalancerCommand({ Name: 'capstan-a', Tags: [] }), ['CreateLoadBalancer.Tags: length must be at least 1 (TagList), got 0 members']],
    ['fails when a blob is longer than its max', new sm.CreateSecretCommand({ Name: 'a', SecretBinary: new Uint8Array(65537) }), ['CreateSecret.SecretBinary: length must be between 0 and 65536 (SecretBinaryType), got 65537 bytes']],
    ['fails when a number is out of its range', new sts.AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111122223333:role/R', RoleSessionName: 'capstan', DurationSeconds: 60 }), ['AssumeRole.DurationSeconds: must be between 900 and 43200 (range of roleDurationSecondsType), got 60']],
    ['fails when an integer has a fraction', new elb.CreateTargetGroupCommand({ Name: 'tg', Port: 6443.5 }), ['CreateTargetGroup.Port: must be an integer (integer Port), got number 6443.5']],
    ['fails deep in a list of structures', new elb.RegisterTargetsCommand({ TargetGroupArn: 'arn:tg', Targets: [{ Id: 'i-1', Port: 6443 }, { Id: 'i-2', Port: 0 }] }), ['RegisterTargets.Targets[1].Port: must be between 1 and 65535 (range of Port), got 0']],
    ['fails when a value breaks its pattern (matched against the whole value)', new sts.AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111122223333:role/R', RoleSessionName: 'capstan session' }), ['AssumeRole.RoleSessionName: must match the pattern [\\w+=,.@-]* (roleSessionNameType), got string "capstan session"']],
    ['fails when a value breaks a translated Java pattern', new sm.ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['capstan*'] }] }), ['ListSecrets.Filters[0].Values[0]: must match the pattern ^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-]*$ (FilterValueStringType), got string "capstan*"']],
    ['fails when a tag key breaks its pattern', new elb.CreateLoadBalancerCommand({ Name: 'capstan-a', Tags: [{ Key: 'a#b', Value: 'v' }] }), ['CreateLoadBalancer.Tags[0].Key: must match the pattern ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$ (TagKey), got string "a#b"']],
    ['fails on every broken constraint at once', new sts.AssumeRoleCommand({ RoleArn: 'r', RoleSessionName: 'a b', DurationSeconds: 60 }), [
      'AssumeRole.RoleArn: length must be between 20 and 2048 (arnType), got 1 character',
      'AssumeRole.RoleSessionName: must match the pattern [\\w+=,.@-]* (roleSessionNameType), got string "a b"',
      'AssumeRole.DurationSeconds: must be between 900 and 43200 (range of roleDurationSecondsType), got 60',
    ]],
  ])('%s', (_name, command, problems) => {
    expect(validateAgainstModel(command)).toEqual(problems);
  });
});

describe('javaPattern', () => {
  it.each([
    ['matches the whole value, as the services do', '[\\w+=,.@-]*', 'a b', false],
    ['keeps \\w', '[\\w+=,.@-]*', 'capstan@a.b', true],
    ['reads an escaped punctuation character as literal, as Java does', '^\\!?[a-z\\:\\-]*$', '!a:b-c', true],
    ['reads \\p{L} as any letter', '[\\p{L}]+', 'Zürich', true],
    ['reads \\uXXXX as four hex digits, as Java does (\\u10000 is \\u1000 then 0)', '[\\u10000-\\u10FFFF]+', '\u{1F600}', false],
  ])('%s', (_name, java, value, matches) => {
    const regex = javaPattern(java);
    expect(regex).toBeInstanceOf(RegExp);
    expect((regex as RegExp).test(value)).toBe(matches);
  });

  it.each([
    ['a Java-specific property (\\p{Alpha} is ASCII in Java, any alphabetic character in JS)', '\\p{Alpha}+', '\\p{Alpha} is a Java-specific property'],
    ['a class intersection', '[a-z&&[^aeiou]]', 'a character class intersection (&&)'],
    ['a class union', '[a-c[x-z]]', 'a nested character class (a union in Java)'],
    ['\\v (vertical whitespace in Java)', '\\v', '\\v is vertical whitespace in Java, U+000B in JS'],
    ['a possessive quantifier', 'a*+', expect.stringMatching(/^JS cannot compile it: /)],
    ['a \\Q…\\E quote', '\\Qa.b\\E', expect.stringMatching(/^JS cannot compile it: /)],
  ])('fails when given %s: says why it is skipped', (_name, java, reason) => {
    expect(javaPattern(java)).toEqual(reason);
  });
});

describe('loadConstraints', () => {
  it('is undefined without python3-botocore: the constraint checks are skipped', () => {
    expect(loadConstraints('sts', join(tmpdir(), 'no-botocore-here'))).toBeUndefined();
  });

  it('reads the newest api-version of the service, gzipped or not', () => {
    // Prepare: an older plain model and a newer gzipped one
    const data = mkdtempSync(join(tmpdir(), 'botocore-'));
    const model = (min: number) => JSON.stringify({ operations: { AssumeRole: { input: { shape: 'AssumeRoleRequest' } } }, shapes: { AssumeRoleRequest: { type: 'structure', members: { RoleSessionName: { shape: 'name' } } }, name: { type: 'string', min } } });
    mkdirSync(join(data, 'sts', '2011-06-15'), { recursive: true });
    mkdirSync(join(data, 'sts', '2030-01-01'), { recursive: true });
    writeFileSync(join(data, 'sts', '2011-06-15', 'service-2.json'), model(1));
    writeFileSync(join(data, 'sts', '2030-01-01', 'service-2.json.gz'), gzipSync(model(5)));
    try {
      // Act
      const loaded = loadConstraints('sts', data);
      // Assess
      expect(loaded).toMatchObject({ file: join(data, 'sts', '2030-01-01', 'service-2.json.gz'), counts: { enum: 0, length: 1, range: 0, pattern: 0 }, operations: { AssumeRole: 'AssumeRoleRequest' }, shapes: { name: { min: 5 } } });
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});

describe('assertValidRequest', () => {
  it.each([
    ['EC2 picks the code of the first problem', new ec2.CreateVpcCommand({ CidrBlock: 'x', Bogus: 1, TagSpecifications: 'x' } as unknown as ec2.CreateVpcCommandInput), 'UnknownParameter'],
    ['EC2 names an unknown member UnknownParameter', new ec2.DeleteSubnetCommand({ SubnetId: 'subnet-1', Subnet: 'x' } as ec2.DeleteSubnetCommandInput), 'UnknownParameter'],
    ['EC2 names a missing required member MissingParameter', new ec2.DeleteSubnetCommand({} as ec2.DeleteSubnetCommandInput), 'MissingParameter'],
    ['EC2 names a value of the wrong type InvalidParameterValue', new ec2.DescribeInstancesCommand({ MaxResults: '5' } as unknown as ec2.DescribeInstancesCommandInput), 'InvalidParameterValue'],
    ['EC2 names a value outside its enum InvalidParameterValue', new ec2.RunInstancesCommand({ MinCount: 1, MaxCount: 1, InstanceType: 'm7i.colossal' as ec2._InstanceType }), 'InvalidParameterValue'],
    ['EC2 names a value out of its range InvalidParameterValue', new ec2.DescribeVpcsCommand({ MaxResults: 1 }), 'InvalidParameterValue'],
    ['ELBv2 answers ValidationError to a value outside its enum', new elb.CreateLoadBalancerCommand({ Name: 'capstan-a', Scheme: 'public' as elb.LoadBalancerSchemeEnum }), 'ValidationError'],
    ['Secrets Manager answers ValidationError to a value outside its length', new sm.CreateSecretCommand({ Name: 'capstan/a/ca', ClientRequestToken: 'retry-1' }), 'ValidationError'],
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

  it.each([
    ['a load balancer name of 33 characters', () => new elb.CreateLoadBalancerCommand({ Name: 'a'.repeat(33), Type: 'network', Subnets: ['subnet-1'] })],
    ['a load balancer name starting with internal-', () => new elb.CreateLoadBalancerCommand({ Name: 'internal-api', Type: 'network', Subnets: ['subnet-1'] })],
    ['a target group name ending with a hyphen', () => new elb.CreateTargetGroupCommand({ Name: 'capstan-', Protocol: 'TCP', Port: 6443, VpcId: 'vpc-1' })],
  ])('refuses %s, as the ELBv2 reference documents (the model does not say)', async (_name, command) => {
    const client = new elb.ElasticLoadBalancingV2Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIAFAKE', secretAccessKey: 'fake' } });
    await expect(client.send(command() as never)).rejects.toThrow(expect.objectContaining({ name: 'ValidationError' }));
  });

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

  it('fails a request that breaks a constraint of the published model, before any handler runs', async () => {
    const client = new elb.ElasticLoadBalancingV2Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIAFAKE', secretAccessKey: 'fake' } });
    const sent = client.send(new elb.CreateLoadBalancerCommand({ Name: 'capstan-a', Scheme: 'public' as elb.LoadBalancerSchemeEnum, Subnets: ['subnet-1'] }));
    await expect(sent).rejects.toThrow(expect.objectContaining({ name: 'ValidationError', message: '1 validation error detected: CreateLoadBalancer.Scheme: must be a value of enum LoadBalancerSchemeEnum (internet-facing, internal), got string "public"' }));
    expect(fake.requests.at(-1)).toMatchObject({ action: 'CreateLoadBalancer', result: 'ValidationError' });
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
