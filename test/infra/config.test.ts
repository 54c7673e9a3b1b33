import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { readDeploymentConfig } from '../../infra/stacks/config.js';
import { validateControlPlaneProps } from '../../infra/constructs/capstan-control-plane.js';

const reader = (context: Record<string, unknown>) => (key: string) => context[key];

describe('readDeploymentConfig', () => {
  it('defaults to a 5 minute sweep, 90 day logs, CapstanMemberRole and external ID capstan', () => {
    // Act
    const config = readDeploymentConfig(reader({}));

    // Assess
    expect(config).toMatchObject({
      managementAccount: undefined,
      organizationId: undefined,
      memberAccounts: [],
      logRetention: RetentionDays.THREE_MONTHS,
      memberRoleName: 'CapstanMemberRole',
      externalId: 'capstan',
    });
    expect(config.reconcilePeriod.toSeconds()).toBe(300);
  });

  it.each([
    ['a comma-separated string', '111111111111, 222222222222'],
    ['an array', ['111111111111', '222222222222']],
  ])('reads member accounts from %s', (_name, memberAccounts) => {
    expect(readDeploymentConfig(reader({ memberAccounts })).memberAccounts).toEqual(['111111111111', '222222222222']);
  });

  it.each([
    ['10m', 600],
    ['1h', 3600],
    [120, 120],
  ])('reads reconcilePeriod %j as %i seconds', (reconcilePeriod, seconds) => {
    expect(readDeploymentConfig(reader({ reconcilePeriod })).reconcilePeriod.toSeconds()).toBe(seconds);
  });

  it('fails when values are invalid, listing every problem at once', () => {
    // Prepare
    const context = {
      managementAccount: '12345',
      region: 'Europe',
      organizationId: 'org-1',
      memberAccounts: '111111111111,abc',
      reconcilePeriod: '90s',
      logRetentionDays: 42,
      alarmTopicArn: 'topic',
      adminPrincipals: 'root',
    };

    // Act
    const act = (): unknown => readDeploymentConfig(reader(context));

    // Assess
    expect(act).toThrow(/managementAccount.*"12345"/);
    const message = (() => {
      try {
        act();
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    for (const key of ['managementAccount', 'region', 'organizationId', 'memberAccounts[1]', 'reconcilePeriod', 'logRetentionDays', 'alarmTopicArn', 'adminPrincipals[0]']) {
      expect(message).toContain(`context ${key}:`);
    }
  });
});

describe('validateControlPlaneProps', () => {
  it('accepts the defaults', () => {
    expect(validateControlPlaneProps({})).toEqual([]);
  });

  it.each([
    ['organizationId', { organizationId: 'o-x' }, /organizationId: .*got "o-x"/],
    ['memberAccounts', { memberAccounts: ['1'] }, /memberAccounts\[0\]: .*got "1"/],
    ['memberRoleName', { memberRoleName: 'no spaces allowed' }, /memberRoleName: /],
    ['adminPrincipals', { adminPrincipals: ['arn:aws:iam::1:root'] }, /adminPrincipals\[0\]: .*got "arn:aws:iam::1:root"/],
    ['reconcilePeriod', { reconcilePeriod: Duration.seconds(90) }, /reconcilePeriod: .*got 90 seconds/],
  ])('fails when %s is invalid', (_name, props, expected) => {
    expect(validateControlPlaneProps(props).join('\n')).toMatch(expected);
  });
});
