/**
 * `CapstanControlPlane`: the whole serverless control plane as one L3 construct — the table, the REST API and its
 * handlers, the rollout state machine and its phase functions, the reconcile sweep and instance-event path, the
 * callback secret, and the alarms. The functions come from the catalog (infra/catalog/); the props
 * (control-plane-props.ts), the API (control-plane-api.ts), the schedule and event rule (control-plane-triggers.ts)
 * and the alarms (control-plane-alarms.ts) have files of their own, all building in this construct's scope.
 *
 * Note: dependency cycles are avoided by naming, not by references:
 * - the state machine has a fixed name, and functions that start or answer executions use an ARN formatted from that
 *   name (the state machine itself depends on the phase functions);
 * - `CALLBACK_BASE_URL` is built from the RestApi ID and the stage name, not from the Stage resource (the deployment
 *   depends on every API function, and the API functions depend on the state machine).
 */
import path from 'node:path';
import { Aws, Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { LambdaIntegration, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { EventBus } from 'aws-cdk-lib/aws-events';
import { Grant, PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType, type IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { GSI_DEFINITIONS, TABLE_KEYS, TTL_ATTRIBUTE } from '../../functions/adapters/store/table.js';
import { CapstanFunction, REPOSITORY_ROOT } from './capstan-function.js';
import { createControlPlaneAlarms, createDeadLetterQueue } from './control-plane-alarms.js';
import { addApiRoute, API_STAGE_NAME, createControlPlaneApi } from './control-plane-api.js';
import { validateControlPlaneProps, type CapstanControlPlaneProps } from './control-plane-props.js';
import { createReconcileTriggers } from './control-plane-triggers.js';
import {
  API_FUNCTIONS,
  DEFAULT_MEMBER_ROLE_NAME,
  INSTANCE_EVENT_FUNCTION,
  PHASE_FUNCTIONS,
  SWEEP_FUNCTION,
  WORKFLOW_ROLE_PATH,
  type ApiRoute,
  type FunctionAccess,
} from '../catalog/index.js';

export { ROLLOUT_DEADLINE_METRIC } from './control-plane-alarms.js';
export { API_STAGE_NAME, publicRoutes } from './control-plane-api.js';
export { validateControlPlaneProps, type CapstanControlPlaneProps } from './control-plane-props.js';

/** The rollout workflow definition: the same file the local runner executes. */
export const ROLLOUT_ASL_PATH = path.join(REPOSITORY_ROOT, 'infra/workflows/rollout.asl.json');

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
  /** Every function, by construct ID (see infra/catalog/functions.ts). */
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
    const api = createControlPlaneApi(this, props, allowedAccounts, logRetention);
    this.api = api.api;
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
      for (const route of spec.routes as readonly ApiRoute[]) addApiRoute(api, route, integration);
    }

    const phaseFunctions = PHASE_FUNCTIONS.map((spec) => ({ spec, fn: make(spec, { timeout: Duration.seconds(spec.timeoutSeconds) }) }));

    const sweepDlq = createDeadLetterQueue(this, 'SweepDeadLetterQueue');
    const instanceEventDlq = createDeadLetterQueue(this, 'InstanceEventDeadLetterQueue');
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
    this.eventBus = createReconcileTriggers(this, {
      reconcilePeriod: props.reconcilePeriod ?? Duration.minutes(5),
      sweep,
      sweepDeadLetterQueue: sweepDlq,
      instanceEvent,
      instanceEventDeadLetterQueue: instanceEventDlq,
      organizationId: this.organizationId,
      externalMembers: this.memberAccounts.filter((a) => a !== stack.account),
    });

    // ---- alarms -------------------------------------------------------------------------------------------------
    this.alarms = createControlPlaneAlarms(this, {
      alarmTopic: props.alarmTopic,
      lambdaErrorsThreshold: props.lambdaErrorsThreshold,
      stateMachine: this.stateMachine,
      deadLetterQueues: this.deadLetterQueues,
      functions: Object.values(functions),
    });
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
}
