/**
 * The deployment settings of the Capstan CDK app, read from CDK context (`cdk.json` or `cdk synth -c key=value`).
 *
 * Every problem is reported at once, naming the context key, the value received and what is allowed, so that one
 * failed synth shows everything to fix.
 */
import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { parseDuration } from '../../functions/domain/duration.js';
import { DEFAULT_MEMBER_ROLE_NAME } from '../catalog/index.js';

/** The settings both stacks are built from. */
export interface DeploymentConfig {
  /** The management account; undefined synthesises an environment-agnostic stack. */
  readonly managementAccount: string | undefined;
  /** The region of the management stack (and default of the member stack); undefined means environment-agnostic. */
  readonly region: string | undefined;
  /** The AWS Organizations ID admitted to the API and event bus, if any. */
  readonly organizationId: string | undefined;
  /** Accounts Capstan manages clusters in. */
  readonly memberAccounts: readonly string[];
  /** IAM role/user ARNs that administer Capstan through the API. */
  readonly adminPrincipals: readonly string[];
  /** Extra accounts whose principals may call the API. */
  readonly allowedAccounts: readonly string[];
  /** How often the sweep runs. */
  readonly reconcilePeriod: Duration;
  /** Log retention of every log group. */
  readonly logRetention: RetentionDays;
  /** External ID for assuming member roles. */
  readonly externalId: string;
  /** Name of the member role. */
  readonly memberRoleName: string;
  /** SNS topic for alarm actions, if any. */
  readonly alarmTopicArn: string | undefined;
}

/** Context keys the app reads, with what each means (shown in errors and docs/deploy.md). */
export const CONTEXT_KEYS = {
  managementAccount: '12-digit account ID of the management stack',
  region: 'region of the management stack, e.g. eu-west-1',
  organizationId: 'AWS Organizations ID (o-…) admitted to the API and event bus',
  memberAccounts: 'account IDs Capstan manages clusters in (array or comma-separated)',
  adminPrincipals: 'IAM role or user ARNs that administer Capstan (array or comma-separated)',
  allowedAccounts: 'extra account IDs whose principals may call the API (array or comma-separated)',
  reconcilePeriod: 'sweep period as a duration (5m, 1h) in whole minutes',
  logRetentionDays: 'log retention in days, one of the CloudWatch Logs values (1, 3, 5, 7, 14, 30, 60, 90, ...)',
  externalId: 'sts:ExternalId for assuming member roles',
  memberRoleName: 'name of the role created by the member stack',
  alarmTopicArn: 'ARN of an SNS topic notified by the alarms',
} as const;

/** Reads a context value; CDK gives `undefined` for a missing key. */
export type ContextReader = (key: string) => unknown;

const ACCOUNT = /^\d{12}$/;
const RETENTION_VALUES = new Set(Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'));

function list(value: unknown): unknown[] {
  if (value === undefined || value === null || value === '') return [];
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return [value];
}

function optionalString(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
}

/** Reads and validates the deployment settings; throws one error listing every problem. */
export function readDeploymentConfig(context: ContextReader): DeploymentConfig {
  const problems: string[] = [];

  const accounts = (key: 'memberAccounts' | 'allowedAccounts'): string[] =>
    list(context(key)).map((v, i) => {
      const account = String(v);
      if (!ACCOUNT.test(account)) problems.push(`context ${key}[${i}]: must be a 12-digit account ID, got ${JSON.stringify(v)}`);
      return account;
    });

  const managementAccount = optionalString(context('managementAccount'));
  if (managementAccount !== undefined && !ACCOUNT.test(managementAccount)) {
    problems.push(`context managementAccount: must be a 12-digit account ID, got ${JSON.stringify(managementAccount)}`);
  }
  const region = optionalString(context('region'));
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
    problems.push(`context region: must be a region name like eu-west-1, got ${JSON.stringify(region)}`);
  }
  const organizationId = optionalString(context('organizationId'));
  if (organizationId !== undefined && !/^o-[a-z0-9]{10,32}$/.test(organizationId)) {
    problems.push(`context organizationId: must look like o-abc123defg, got ${JSON.stringify(organizationId)}`);
  }

  const periodRaw = context('reconcilePeriod') ?? '5m';
  const periodSeconds = parseDuration(periodRaw);
  if (periodSeconds === undefined || periodSeconds < 60 || periodSeconds % 60 !== 0) {
    problems.push(`context reconcilePeriod: must be whole minutes, at least 1m (e.g. 5m, 1h), got ${JSON.stringify(periodRaw)}`);
  }

  const retentionRaw = context('logRetentionDays') ?? RetentionDays.THREE_MONTHS;
  const retention = Number(retentionRaw);
  if (!RETENTION_VALUES.has(retention)) {
    problems.push(`context logRetentionDays: must be one of ${[...RETENTION_VALUES].sort((a, b) => a - b).join(', ')}, got ${JSON.stringify(retentionRaw)}`);
  }

  const externalId = optionalString(context('externalId')) ?? 'capstan';
  if (!/^[\w+=,.@:/-]{2,1224}$/.test(externalId)) {
    problems.push(`context externalId: must be 2-1224 of letters, digits and +=,.@:/_-, got ${JSON.stringify(externalId)}`);
  }
  const memberRoleName = optionalString(context('memberRoleName')) ?? DEFAULT_MEMBER_ROLE_NAME;
  if (!/^[\w+=,.@-]{1,64}$/.test(memberRoleName)) {
    problems.push(`context memberRoleName: must be an IAM role name, got ${JSON.stringify(memberRoleName)}`);
  }
  const alarmTopicArn = optionalString(context('alarmTopicArn'));
  if (alarmTopicArn !== undefined && !/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]+$/.test(alarmTopicArn)) {
    problems.push(`context alarmTopicArn: must be an SNS topic ARN, got ${JSON.stringify(alarmTopicArn)}`);
  }

  const adminPrincipals = list(context('adminPrincipals')).map((v, i) => {
    const arn = String(v);
    if (!/^arn:aws[\w-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/.test(arn)) {
      problems.push(`context adminPrincipals[${i}]: must be an IAM role or user ARN, got ${JSON.stringify(v)}`);
    }
    return arn;
  });
  const memberAccounts = accounts('memberAccounts');
  const allowedAccounts = accounts('allowedAccounts');
  if (problems.length > 0) throw new Error(`Invalid Capstan deployment context:\n- ${problems.join('\n- ')}`);

  return {
    managementAccount,
    region,
    organizationId,
    memberAccounts,
    allowedAccounts,
    adminPrincipals,
    reconcilePeriod: Duration.seconds(periodSeconds ?? 300),
    logRetention: retention as RetentionDays,
    externalId,
    memberRoleName,
    alarmTopicArn,
  };
}
