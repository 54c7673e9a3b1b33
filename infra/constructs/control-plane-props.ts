/**
 * The properties of {@link CapstanControlPlane} and their validation. Its own file so that the construct reads in
 * one sitting: every prop with its `@default`, and the check that reports every bad one at once before anything is
 * created.
 */
import type { Duration } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';

/** Properties of {@link CapstanControlPlane}. */
export interface CapstanControlPlaneProps {
  /**
   * AWS Organizations ID (`o-…`) whose principals may call the API, put events on `capstan-events`, and whose
   * accounts' member roles the workflow may assume.
   * @default - none: only `allowedAccounts` and `memberAccounts` are admitted
   */
  readonly organizationId?: string;
  /**
   * Accounts whose IAM principals may call the API (in addition to the organisation, if any).
   * @default - the account of the stack, when no `organizationId` is given; none otherwise
   */
  readonly allowedAccounts?: readonly string[];
  /**
   * Accounts Capstan creates clusters in (each runs the member stack). With an `organizationId` any account of the
   * organisation is allowed and this list only adds accounts outside it.
   * @default - the account of the stack
   */
  readonly memberAccounts?: readonly string[];
  /**
   * Name of the role the workflow assumes in member accounts (created by the member stack).
   * @default 'CapstanMemberRole'
   */
  readonly memberRoleName?: string;
  /**
   * The `sts:ExternalId` the workflow passes when assuming a member role. Not a secret (AWS guidance: it guards
   * against the confused deputy, not against an attacker who knows it), so it is plain configuration (`EXTERNAL_ID`).
   * @default 'capstan'
   */
  readonly externalId?: string;
  /**
   * IAM principal ARNs (roles or users) that administer Capstan through the API (`ADMIN_PRINCIPALS` of the API
   * functions): they may grant other principals access with `PUT /v1/principals/{id}`.
   * @default - none: nobody can grant access until an admin is configured
   */
  readonly adminPrincipals?: readonly string[];
  /**
   * How often the sweep checks every cluster against its spec (whole minutes).
   * @default Duration.minutes(5)
   */
  readonly reconcilePeriod?: Duration;
  /**
   * Retention of every log group (functions, API access logs, state machine).
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
  /**
   * Topic notified when an alarm fires or recovers.
   * @default - alarms have no actions
   */
  readonly alarmTopic?: ITopic;
  /**
   * Steady request rate (per second) across the authenticated API.
   * @default 50
   */
  readonly throttlingRateLimit?: number;
  /**
   * Burst of requests across the authenticated API.
   * @default 100
   */
  readonly throttlingBurstLimit?: number;
  /**
   * Steady request rate (per second) of each public route (health check, machine callback).
   * @default 10
   */
  readonly publicThrottlingRateLimit?: number;
  /**
   * Create the account-wide API Gateway CloudWatch role (`AWS::ApiGateway::Account`), needed for execution logs.
   * Turn off when the account already has one (it is a per-region singleton).
   * @default true
   */
  readonly configureApiGatewayAccount?: boolean;
  /**
   * Lambda errors per function in five minutes that raise its alarm. Phases throw retryable errors on purpose
   * (throttling, conflicts), so one error is not an incident.
   * @default 5
   */
  readonly lambdaErrorsThreshold?: number;
}

/** Problems found in {@link CapstanControlPlaneProps}, each naming the prop, the value and the rule. */
export function validateControlPlaneProps(props: CapstanControlPlaneProps): string[] {
  const problems: string[] = [];
  const isToken = (v: string): boolean => v.includes('${Token[');
  if (props.organizationId !== undefined && !isToken(props.organizationId) && !/^o-[a-z0-9]{10,32}$/.test(props.organizationId)) {
    problems.push(`organizationId: must look like o-abc123defg (o- and 10-32 lowercase letters or digits), got ${JSON.stringify(props.organizationId)}`);
  }
  for (const key of ['allowedAccounts', 'memberAccounts'] as const) {
    (props[key] ?? []).forEach((account, i) => {
      if (!isToken(account) && !/^\d{12}$/.test(account)) problems.push(`${key}[${i}]: must be a 12-digit account ID, got ${JSON.stringify(account)}`);
    });
  }
  (props.adminPrincipals ?? []).forEach((arn, i) => {
    if (!isToken(arn) && !/^arn:aws[\w-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/.test(arn)) {
      problems.push(`adminPrincipals[${i}]: must be an IAM role or user ARN, got ${JSON.stringify(arn)}`);
    }
  });
  if (props.memberRoleName !== undefined && !/^[\w+=,.@-]{1,64}$/.test(props.memberRoleName)) {
    problems.push(`memberRoleName: must be an IAM role name (1-64 of letters, digits and +=,.@_-), got ${JSON.stringify(props.memberRoleName)}`);
  }
  if (props.externalId !== undefined && !/^[\w+=,.@:/-]{2,1224}$/.test(props.externalId)) {
    problems.push(`externalId: must be 2-1224 of letters, digits and +=,.@:/_-, got ${JSON.stringify(props.externalId)}`);
  }
  if (props.reconcilePeriod !== undefined && !props.reconcilePeriod.isUnresolved()) {
    const seconds = props.reconcilePeriod.toSeconds();
    if (seconds < 60 || seconds % 60 !== 0) problems.push(`reconcilePeriod: must be whole minutes, at least 1, got ${seconds} seconds`);
  }
  return problems;
}
