import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { MemberCredentials, defaultMemberRoleArn, type MemberClients } from '../../../providers/aws-ec2/credentials.js';
import { ProviderRejectedError } from '../../../functions/domain/errors.js';
import type { ProviderScope } from '../../../functions/domain/provider.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const scope: ProviderScope = { provider: 'aws', account: '111122223333', region: 'eu-west-1' };

function setup(expirationOffsetSeconds = 3600) {
  const sts = mockClient(STSClient);
  let n = 0;
  sts.on(AssumeRoleCommand).callsFake(() => {
    n++;
    return { Credentials: { AccessKeyId: `AKID${n}`, SecretAccessKey: 's', SessionToken: `tok${n}`, Expiration: new Date(now + expirationOffsetSeconds * 1000) } };
  });
  let now = T0;
  const built: string[] = [];
  const creds = new MemberCredentials({
    externalId: 'ext-123',
    stsClient: () => new STSClient({ region: 'eu-west-1' }),
    clientFactory: (region, c) => {
      built.push(`${region}:${c.accessKeyId}`);
      return { ec2: {}, elb: {}, secrets: {} } as unknown as MemberClients;
    },
    clock: { now: () => new Date(now) },
  });
  return { sts, creds, built, advance: (s: number) => (now += s * 1000) };
}

describe('MemberCredentials', () => {
  afterEach(() => mockClient(STSClient).restore());

  it('assumes the default member role with the ExternalId and a session of at most 1 h', async () => {
    const { sts, creds } = setup();
    await creds.credentials(scope);
    const input = sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ RoleArn: defaultMemberRoleArn('111122223333'), ExternalId: 'ext-123', DurationSeconds: 3600 });
  });

  it('uses the scope roleArn when given', async () => {
    const { sts, creds } = setup();
    await creds.credentials({ ...scope, roleArn: 'arn:aws:iam::111122223333:role/Custom' });
    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input.RoleArn).toBe('arn:aws:iam::111122223333:role/Custom');
  });

  it.each([
    ['reuses the session well within expiry', 30 * 60, 1],
    ['reuses the session just before the refresh window', 54 * 60, 1],
    ['refreshes 5 minutes before expiry', 55 * 60 + 1, 2],
    ['refreshes after expiry', 2 * 3600, 2],
  ])('%s', async (_name, elapsedSeconds, assumeCalls) => {
    const { sts, creds, advance } = setup();
    const first = await creds.credentials(scope);
    advance(elapsedSeconds);
    const second = await creds.credentials(scope);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(assumeCalls);
    expect(second.accessKeyId === first.accessKeyId).toBe(assumeCalls === 1);
  });

  it('never caches beyond the requested session even if STS says later', async () => {
    const { sts, creds, advance } = setup(6 * 3600);
    await creds.credentials(scope);
    advance(56 * 60);
    await creds.credentials(scope);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('keeps one session per account and region and shares concurrent requests', async () => {
    const { sts, creds } = setup();
    await Promise.all([creds.credentials(scope), creds.credentials(scope), creds.credentials({ ...scope, region: 'us-east-2' })]);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('builds member clients from the current credentials at call time', async () => {
    const { creds, built, advance } = setup();
    await creds.withMemberClients(scope, async () => 1);
    advance(3600);
    const result = await creds.withMemberClients(scope, async () => 42);
    expect(result).toBe(42);
    expect(built).toEqual(['eu-west-1:AKID1', 'eu-west-1:AKID2']);
  });

  it('fails when the member role refuses with ProviderRejectedError', async () => {
    const sts = mockClient(STSClient);
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const creds = new MemberCredentials({ externalId: 'x', stsClient: () => new STSClient({}) });
    await expect(creds.credentials(scope)).rejects.toBeInstanceOf(ProviderRejectedError);
  });
});
