/**
 * `CapstanControlPlane`: the whole serverless control plane as one L3 construct — the table, the REST API and its
 * handlers, the rollout state machine and its phase functions, the reconcile sweep and instance-event path, the
 * callback secret, and the alarms.
 *
 * Note: dependency cycles are avoided by naming, not by references:
 * - the state machine has a fixed name, and functions that start or answer executions use an ARN formatted from that
 *   name (the state machine itself depends on the phase functions);
 * - `CALLBACK_BASE_URL` is built from the RestApi ID and the stage name, not from the Stage resource (the deployment
 *   depends on every API function, and the API functions depend on the state machine).
 */
import path from 'node:path';
import { Aws, Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestValidator,
  RestApi,
  type IResource as IApiResource,
} from 'aws-cdk-lib/aws-apigateway';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { AccountPrincipal, AnyPrincipal, Effect, Grant, PolicyDocument, PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType, type IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { GSI_DEFINITIONS, TABLE_KEYS, TTL_ATTRIBUTE } from '../../functions/adapters/store/table.js';
import { CapstanFunction, REPOSITORY_ROOT } from './capstan-function.js';
import {
  API_FUNCTIONS,
  DEFAULT_MEMBER_ROLE_NAME,
  EVENT_BUS_NAME,
  INSTANCE_EVENT_FUNCTION,
  PHASE_FUNCTIONS,
  SWEEP_FUNCTION,
  WORKFLOW_ROLE_PATH,
  type ApiRoute,
  type FunctionAccess,
} from './function-catalog.js';

/** The rollout workflow definition: the same file the local runner executes. */
export const ROLLOUT_ASL_PATH = path.join(REPOSITORY_ROOT, 'infra/workflows/rollout.asl.json');

/** The API stage; the public URL is `https://{api}.execute-api.{region}.{suffix}/{stage}/`. */
export const API_STAGE_NAME = 'prod';

/** The custom metric a phase emits when a rollout exceeds its progress deadline. */
export const ROLLOUT_DEADLINE_METRIC = { namespace: 'Capstan', metricName: 'RolloutProgressDeadlineExceeded' } as const;

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

/**
 * The Capstan control plane. Deploy one per management account and region; member accounts run the member stack.
 */
export class CapstanControlPlane extends Construct {
  /** The single table holding clusters, machines, events, principals and leases. */
  public readonly table: Table;
  /** The REST API (IAM auth except the health check and machine callback). */
  public readonly api: RestApi;
  /** The rollout state machine. */
  public readonly stateMachine: StateMachine;
  /** The bus member accounts forward EC2 instance events to. */
  public readonly eventBus: EventBus;
  /** The secret machine callback tokens are derived from. */
  public readonly callbackSecret: Secret;
  /** Every function, by construct ID (see function-catalog.ts). */
  public readonly functions: Readonly<Record<string, CapstanFunction>>;
  /** The dead-letter queues of the asynchronous paths (schedule and event rule targets, async invokes). */
  public readonly deadLetterQueues: readonly Queue[];
  /** Every alarm; their actions notify `alarmTopic` when given. */
  public readonly alarms: readonly Alarm[];
  /** The substitutions applied to the ASL file: placeholder → phase function ARN. */
  public readonly definitionSubstitutions: Readonly<Record<string, string>>;
  /** The API's base URL (ending in `/`), built without a reference to the Stage to avoid a dependency cycle. */
  public readonly apiUrl: string;
  /** The name of the role assumed in member accounts. */
  public readonly memberRoleName: string;
  /** The external ID passed when assuming member roles. */
  public readonly externalId: string;

  private readonly organizationId: string | undefined;
  private readonly adminPrincipals: readonly string[];
  private readonly memberAccounts: readonly string[];
  private readonly rolloutRef: IStateMachine;
  private requestValidator: RequestValidator | undefined;

  constructor(scope: Construct, id: string, props: CapstanControlPlaneProps = {}) {
    super(scope, id);
    const problems = validateControlPlaneProps(props);
    if (problems.length > 0) throw new Error(`Invalid CapstanControlPlane props:\n- ${problems.join('\n- ')}`);

    const stack = Stack.of(this);
    const logRetention = props.logRetention ?? RetentionDays.THREE_MONTHS;
    this.organizationId = props.organizationId;
    this.adminPrincipals = props.adminPrincipals ?? [];
    this.memberAccounts = props.memberAccounts ?? [stack.account];
    this.memberRoleName = props.memberRoleName ?? DEFAULT_MEMBER_ROLE_NAME;
    this.externalId = props.externalId ?? 'capstan';
    const allowedAccounts = props.allowedAccounts ?? (props.organizationId ? [] : [stack.account]);

    // ---- table --------------------------------------------------------------------------------------------------
    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const gsi of GSI_DEFINITIONS) {
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.indexName,
        partitionKey: { name: gsi.partitionKey, type: AttributeType.STRING },
        sortKey: { name: gsi.sortKey, type: AttributeType.STRING },
      });
    }

    // ---- names that break cycles ------------------------------------------------------------------------------
    const stateMachineName = `${Names.uniqueResourceName(this, { maxLength: 70, separator: '-' })}-rollout`;
    this.rolloutRef = StateMachine.fromStateMachineName(this, 'RolloutByName', stateMachineName);
    this.api = this.createApi(props, allowedAccounts, logRetention);
    this.apiUrl = `https://${this.api.restApiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}/${API_STAGE_NAME}/`;

    this.callbackSecret = new Secret(this, 'CallbackSecret', {
      description: 'Capstan: key machine callback tokens are derived from (HMAC)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(this.callbackSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The key derives the one-time callback tokens of machines that are booting; rotating it would invalidate every token in flight. Rotate by redeploying between rollouts.',
    });

    // ---- functions ----------------------------------------------------------------------------------------------
    const functions: Record<string, CapstanFunction> = {};
    const make = (
      spec: { id: string; entry: string; description: string; access: FunctionAccess },
      extra: { timeout?: Duration; deadLetterQueue?: Queue } = {},
    ): CapstanFunction => {
      const fn = new CapstanFunction(this, spec.id, {
        entry: spec.entry,
        description: spec.description,
        timeout: extra.timeout,
        deadLetterQueue: extra.deadLetterQueue,
        logRetention,
        rolePath: spec.access.assumeMemberRole ? WORKFLOW_ROLE_PATH : '/capstan/',
        environment: this.environmentFor(spec.access, spec.id.startsWith('Api')),
      });
      this.grantAccess(fn, spec.access);
      functions[spec.id] = fn;
      return fn;
    };

    for (const spec of API_FUNCTIONS) {
      const fn = make(spec, { timeout: Duration.seconds(25) });
      const integration = new LambdaIntegration(fn, { allowTestInvoke: false });
      for (const route of spec.routes as readonly ApiRoute[]) this.addRoute(route, integration);
    }

    const phaseFunctions = PHASE_FUNCTIONS.map((spec) => ({ spec, fn: make(spec, { timeout: Duration.seconds(spec.timeoutSeconds) }) }));

    const sweepDlq = this.deadLetterQueue('SweepDeadLetterQueue');
    const instanceEventDlq = this.deadLetterQueue('InstanceEventDeadLetterQueue');
    this.deadLetterQueues = [sweepDlq, instanceEventDlq];
    const sweep = make(SWEEP_FUNCTION, { timeout: Duration.seconds(SWEEP_FUNCTION.timeoutSeconds), deadLetterQueue: sweepDlq });
    const instanceEvent = make(INSTANCE_EVENT_FUNCTION, {
      timeout: Duration.seconds(INSTANCE_EVENT_FUNCTION.timeoutSeconds),
      deadLetterQueue: instanceEventDlq,
    });
    this.functions = functions;

    // ---- state machine ------------------------------------------------------------------------------------------
    this.definitionSubstitutions = Object.fromEntries(phaseFunctions.map(({ spec, fn }) => [spec.substitution, fn.functionArn]));
    const rolloutLogs = new LogGroup(this, 'RolloutLogs', {
      logGroupName: `/aws/vendedlogs/states/${stateMachineName}`,
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, 'Rollout', {
      stateMachineName,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromFile(ROLLOUT_ASL_PATH),
      definitionSubstitutions: this.definitionSubstitutions,
      logs: { destination: rolloutLogs, level: LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
      comment: 'Capstan rollout: plan, act, plan again until the cluster matches its spec',
    });
    // Note: not fn.grantInvoke(): that also grants every version (`arn:…:function:name:*`); the ASL invokes the
    // unqualified ARNs only.
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: phaseFunctions.map(({ fn }) => fn.functionArn) }),
    );
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions logging (logs:CreateLogDelivery and friends) and X-Ray (xray:PutTraceSegments) support no resource-level permissions.',
    });

    // ---- reconcile: schedule and instance events ----------------------------------------------------------------
    const reconcilePeriod = props.reconcilePeriod ?? Duration.minutes(5);
    new Rule(this, 'SweepSchedule', {
      description: 'Capstan: periodic reconcile sweep',
      schedule: Schedule.rate(reconcilePeriod),
      targets: [new LambdaFunction(sweep, { deadLetterQueue: sweepDlq, retryAttempts: 2, maxEventAge: reconcilePeriod })],
    });

    this.eventBus = new EventBus(this, 'EventBus', { eventBusName: EVENT_BUS_NAME });
    if (this.organizationId) {
      this.eventBus.addToResourcePolicy(
        new PolicyStatement({
          sid: 'OrganizationPutEvents',
          principals: [new AnyPrincipal()],
          actions: ['events:PutEvents'],
          resources: [this.eventBus.eventBusArn],
          conditions: { StringEquals: { 'aws:PrincipalOrgID': this.organizationId } },
        }),
      );
    }
    const externalMembers = this.memberAccounts.filter((a) => a !== stack.account);
    if (externalMembers.length > 0) {
      this.eventBus.addToResourcePolicy(
        new PolicyStatement({
          sid: 'MemberAccountsPutEvents',
          principals: externalMembers.map((a) => new AccountPrincipal(a)),
          actions: ['events:PutEvents'],
          resources: [this.eventBus.eventBusArn],
        }),
      );
    }
    new Rule(this, 'InstanceStateChangeRule', {
      description: 'Capstan: EC2 instance state changes forwarded by member accounts',
      eventBus: this.eventBus,
      eventPattern: { source: ['aws.ec2'], detailType: ['EC2 Instance State-change Notification'] },
      targets: [
        new LambdaFunction(instanceEvent, { deadLetterQueue: instanceEventDlq, retryAttempts: 8, maxEventAge: Duration.hours(2) }),
      ],
    });

    // ---- alarms -------------------------------------------------------------------------------------------------
    this.alarms = this.createAlarms(props, Object.values(functions));
  }

  /**
   * Lets `grantee` assume the member role in member accounts: in any account of the organisation (checked with
   * `aws:ResourceOrgID`) when an organisation is configured, else in the listed member accounts only.
   */
  public grantAssumeMemberRole(grantee: IGrantable): Grant {
    const partition = Aws.PARTITION;
    if (this.organizationId) {
      const statement = Grant.addToPrincipal({
        grantee,
        actions: ['sts:AssumeRole'],
        resourceArns: [`arn:${partition}:iam::*:role/${this.memberRoleName}`],
        conditions: { StringEquals: { 'aws:ResourceOrgID': this.organizationId } },
      });
      Validations.of(grantee.grantPrincipal as unknown as Construct).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/${this.memberRoleName}]`,
        reason: 'Member accounts join and leave the organisation; the aws:ResourceOrgID condition limits the role to its accounts.',
      });
      return statement;
    }
    return Grant.addToPrincipal({
      grantee,
      actions: ['sts:AssumeRole'],
      resourceArns: this.memberAccounts.map((account) => `arn:${partition}:iam::${account}:role/${this.memberRoleName}`),
    });
  }

  /** The environment of a function with the given access: what it needs to find what it may touch. */
  private environmentFor(access: FunctionAccess, api: boolean): Record<string, string> {
    const env: Record<string, string> = {
      TABLE_NAME: this.table.tableName,
      MEMBER_ROLE_NAME: this.memberRoleName,
      EXTERNAL_ID: this.externalId,
    };
    if (access.startExecution || access.taskResponse) env.STATE_MACHINE_ARN = this.rolloutRef.stateMachineArn;
    if (access.callbackSecret) env.CALLBACK_SECRET_ARN = this.callbackSecret.secretArn;
    if (access.callbackUrl) env.CALLBACK_BASE_URL = this.apiUrl;
    if (api && this.adminPrincipals.length > 0) env.ADMIN_PRINCIPALS = this.adminPrincipals.join(',');
    return env;
  }

  /** Grants exactly the access the catalog lists. */
  private grantAccess(fn: CapstanFunction, access: FunctionAccess): void {
    if (access.table === 'readWrite') this.table.grantReadWriteData(fn);
    if (access.table === 'read') this.table.grantReadData(fn);
    if (access.table !== 'none') {
      Validations.of(fn.role as unknown as Construct).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${this.tableLogicalId()}.Arn>/index/*]`,
        reason: 'The wildcard covers the global secondary indexes of the Capstan table (GSI1-3) only.',
      });
    }
    if (access.startExecution) this.rolloutRef.grantStartExecution(fn);
    if (access.taskResponse) this.rolloutRef.grantTaskResponse(fn);
    if (access.callbackSecret) this.callbackSecret.grantRead(fn);
    if (access.assumeMemberRole) this.grantAssumeMemberRole(fn);
  }

  private tableLogicalId(): string {
    return Stack.of(this).getLogicalId(this.table.node.defaultChild as never);
  }

  private createApi(props: CapstanControlPlaneProps, allowedAccounts: readonly string[], logRetention: RetentionDays): RestApi {
    const statements: PolicyStatement[] = [];
    if (props.organizationId) {
      statements.push(
        new PolicyStatement({
          sid: 'OrganizationPrincipals',
          principals: [new AnyPrincipal()],
          actions: ['execute-api:Invoke'],
          resources: ['execute-api:/*'],
          conditions: { StringEquals: { 'aws:PrincipalOrgID': props.organizationId } },
        }),
      );
    }
    if (allowedAccounts.length > 0) {
      statements.push(
        new PolicyStatement({
          sid: 'AllowedAccounts',
          principals: allowedAccounts.map((a) => new AccountPrincipal(a)),
          actions: ['execute-api:Invoke'],
          resources: ['execute-api:/*'],
        }),
      );
    }
    statements.push(
      new PolicyStatement({
        sid: 'PublicRoutes',
        effect: Effect.ALLOW,
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: publicRoutes().map((r) => `execute-api:/*/${r.method}${r.path.replace(/\{[^}]+\}/g, '*')}`),
      }),
    );

    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const publicRate = props.publicThrottlingRateLimit ?? 10;
    const api = new RestApi(this, 'Api', {
      description: 'Capstan control plane API',
      endpointTypes: [EndpointType.REGIONAL],
      policy: new PolicyDocument({ statements }),
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      cloudWatchRole: props.configureApiGatewayAccount ?? true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: API_STAGE_NAME,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        throttlingRateLimit: props.throttlingRateLimit ?? 50,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 100,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        methodOptions: Object.fromEntries(
          publicRoutes().map((r) => [
            `${r.path}/${r.method}`,
            { throttlingRateLimit: publicRate, throttlingBurstLimit: publicRate * 2, loggingLevel: MethodLoggingLevel.ERROR, metricsEnabled: true },
          ]),
        ),
      },
    });
    this.requestValidator = api.addRequestValidator('RequestValidator', { validateRequestBody: true, validateRequestParameters: true });
    Validations.of(api).acknowledge(
      {
        id: 'AwsSolutions-APIG3',
        reason: 'IAM (SigV4) auth, an organisation/account resource policy and stage throttling protect the API; a WAF adds cost without a rule worth having.',
      },
      { id: 'AwsSolutions-COG4', reason: 'The API authenticates AWS principals with IAM (SigV4), not Cognito user pools.' },
    );
    if (api.node.tryFindChild('CloudWatchRole')) {
      Validations.of(api.node.findChild('CloudWatchRole')).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: 'The account-wide API Gateway logging role; AWS maintains this managed policy for exactly that purpose.',
      });
    }
    return api;
  }

  private addRoute(route: ApiRoute, integration: LambdaIntegration): void {
    const resource: IApiResource = this.api.root.resourceForPath(route.path);
    const params = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
    const method = resource.addMethod(route.method, integration, {
      authorizationType: route.public ? AuthorizationType.NONE : AuthorizationType.IAM,
      requestValidator: this.requestValidator,
      requestParameters: Object.fromEntries(params.map((p) => [`method.request.path.${p}`, true])),
    });
    if (route.public) {
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          route.path === '/healthz'
            ? 'The health check is public so that load balancers and uptime probes need no AWS credentials; it reveals nothing.'
            : 'Booting machines have no AWS credentials of the management account; they authenticate with a one-time machine token the handler checks.',
      });
    }
  }

  private deadLetterQueue(id: string): Queue {
    const queue = new Queue(this, id, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself a dead-letter queue (of an event rule target and an async Lambda invoke); its depth has an alarm.',
    });
    return queue;
  }

  private createAlarms(props: CapstanControlPlaneProps, functions: readonly CapstanFunction[]): Alarm[] {
    const period = Duration.minutes(5);
    const action: IAlarmAction | undefined = props.alarmTopic ? new SnsAction(props.alarmTopic) : undefined;
    const alarms: Alarm[] = [];
    const alarm = (id: string, description: string, metric: Metric, threshold: number, operator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD): void => {
      const a = new Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: operator,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      if (action) {
        a.addAlarmAction(action);
        a.addOkAction(action);
      }
      alarms.push(a);
    };

    alarm('RolloutsFailedAlarm', 'Capstan: a rollout execution failed', this.stateMachine.metricFailed({ period, statistic: 'Sum' }), 1);
    alarm('RolloutsTimedOutAlarm', 'Capstan: a rollout execution timed out', this.stateMachine.metricTimedOut({ period, statistic: 'Sum' }), 1);
    alarm(
      'RolloutProgressDeadlineAlarm',
      'Capstan: a rollout is stuck (exceeded its progress deadline)',
      new Metric({ ...ROLLOUT_DEADLINE_METRIC, period, statistic: 'Sum' }),
      1,
    );
    for (const queue of this.deadLetterQueues) {
      alarm(
        `${queue.node.id}Alarm`,
        `Capstan: messages in ${queue.node.id} (an event or schedule was not handled)`,
        queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        0,
        ComparisonOperator.GREATER_THAN_THRESHOLD,
      );
    }
    for (const fn of functions) {
      alarm(`${fn.node.id}ErrorsAlarm`, `Capstan: ${fn.node.id} keeps failing`, fn.metricErrors({ period, statistic: 'Sum' }), props.lambdaErrorsThreshold ?? 5);
    }
    return alarms;
  }
}

/** The routes that skip IAM auth. */
export function publicRoutes(): ApiRoute[] {
  return API_FUNCTIONS.flatMap((f) => (f.routes as readonly ApiRoute[]).filter((r) => r.public));
}
