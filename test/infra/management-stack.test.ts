import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RETRYABLE_ERROR_NAMES } from '../../functions/domain/errors.js';
import { GSI_DEFINITIONS, TABLE_KEYS } from '../../functions/adapters/store/table.js';
import { ROLLOUT_ASL_PATH } from '../../infra/constructs/capstan-control-plane.js';
import {
  API_FUNCTIONS,
  INSTANCE_EVENT_FUNCTION,
  PHASE_FUNCTIONS,
  SWEEP_FUNCTION,
  WORKFLOW_ROLE_PATH,
} from '../../infra/constructs/function-catalog.js';
import type { ManagementStack } from '../../infra/stacks/management-stack.js';
import { actionsOf, apiMethods, buildTestApp, ORG_CONTEXT, policyStatements, resourcesOf, type Statement } from './helpers.js';

let stack: ManagementStack;
let template: Template;
let assemblyDir: string;

beforeAll(() => {
  const { app, stacks } = buildTestApp({ ...ORG_CONTEXT });
  stack = stacks.management;
  template = Template.fromStack(stack);
  assemblyDir = app.synth().directory;
});

/** Logical ID of the function (or its role) with the given catalog ID. */
function functionLogicalId(id: string): string {
  const fn = stack.controlPlane.functions[id];
  if (!fn) throw new Error(`no function ${id}`);
  return stack.getLogicalId(fn.node.defaultChild as never);
}
function roleLogicalId(id: string): string {
  const fn = stack.controlPlane.functions[id];
  if (!fn) throw new Error(`no function ${id}`);
  return stack.getLogicalId(fn.role!.node.defaultChild as never);
}

/** Catalog IDs of the functions whose roles carry a statement with the given action. */
function rolesWithAction(action: string): string[] {
  const holders = new Set(policyStatements(template).filter((s) => actionsOf(s.statement).includes(action)).map((s) => s.role));
  return Object.keys(stack.controlPlane.functions).filter((id) => holders.has(roleLogicalId(id))).sort();
}

const ASL = JSON.parse(readFileSync(ROLLOUT_ASL_PATH, 'utf8')) as { States: Record<string, AslState> };
interface AslState {
  Type: string;
  Retry?: { ErrorEquals: string[] }[];
  ItemProcessor?: { States: Record<string, AslState> };
}
function allStates(states: Record<string, AslState>): [string, AslState][] {
  return Object.entries(states).flatMap(([name, s]) => [[name, s] as [string, AslState], ...(s.ItemProcessor ? allStates(s.ItemProcessor.States) : [])]);
}

describe('CapstanControlPlane API', () => {
  it('requires IAM auth on every method except GET /healthz and POST /v1/callbacks/{cluster}/{machine}/ready', () => {
    // Prepare
    const methods = apiMethods(template);

    // Act
    const open = methods.filter((m) => m.authorizationType !== 'AWS_IAM').map((m) => `${m.verb} ${m.path}`);

    // Assess
    expect(methods.length).toBe(API_FUNCTIONS.flatMap((f): readonly unknown[] => f.routes).length);
    expect(open.sort()).toEqual(['GET /healthz', 'POST /v1/callbacks/{cluster}/{machine}/ready']);
    expect(methods.filter((m) => m.authorizationType === 'NONE')).toHaveLength(2);
  });

  it.each(API_FUNCTIONS.flatMap((f) => f.routes.map((r) => [`${r.method} ${r.path}`, f.id] as const)))(
    'routes %s to the %s function with request validation',
    (route, id) => {
      // Prepare
      const [verb, routePath] = route.split(' ');

      // Act
      const method = apiMethods(template).find((m) => m.verb === verb && m.path === routePath);

      // Assess
      expect(method).toBeDefined();
      expect(JSON.stringify(method!.integrationUri)).toContain(`"${functionLogicalId(id)}"`);
      expect(method!.requestValidatorId).toEqual({ Ref: expect.stringMatching(/^ControlPlaneApiRequestValidator/) });
    },
  );

  it('admits only the organisation to the authenticated routes and anyone to the two public ones', () => {
    // Act
    const api = Object.values(template.findResources('AWS::ApiGateway::RestApi'))[0]!;
    const statements = api.Properties.Policy.Statement as Statement[];

    // Assess
    expect(statements).toHaveLength(2);
    const org = statements.find((s) => s.Sid === 'OrganizationPrincipals')!;
    expect(org.Resource).toBe('execute-api:/*');
    expect(org.Condition).toEqual({ StringEquals: { 'aws:PrincipalOrgID': ORG_CONTEXT.organizationId } });
    const pub = statements.find((s) => s.Sid === 'PublicRoutes')!;
    expect(pub.Condition).toBeUndefined();
    expect(pub.Resource).toEqual(['execute-api:/*/GET/healthz', 'execute-api:/*/POST/v1/callbacks/*/*/ready']);
  });

  it('admits the stack account when neither an organisation nor accounts are configured', () => {
    // Prepare
    const { stacks } = buildTestApp({ managementAccount: '444444444444', region: 'us-east-2' });

    // Act
    const api = Object.values(Template.fromStack(stacks.management).findResources('AWS::ApiGateway::RestApi'))[0]!;
    const statements = api.Properties.Policy.Statement as Statement[];

    // Assess
    expect(statements.map((s) => s.Sid)).toEqual(['AllowedAccounts', 'PublicRoutes']);
    expect(JSON.stringify(statements[0]!.Principal)).toContain('444444444444');
  });

  it('logs access, traces and throttles the stage, the public routes harder', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: Match.arrayWith([
        Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', LoggingLevel: 'ERROR', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }),
        Match.objectLike({ HttpMethod: 'POST', ResourcePath: '/~1v1~1callbacks~1{cluster}~1{machine}~1ready', ThrottlingRateLimit: 10 }),
      ]),
    });
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
  });
});

describe('CapstanControlPlane functions', () => {
  it('builds every function for Node.js 22 on arm64 with tracing, JSON logs and the common environment', () => {
    // Act
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));

    // Assess
    expect(functions).toHaveLength(API_FUNCTIONS.length + PHASE_FUNCTIONS.length + 2);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON' },
      });
      expect(fn.Properties.Environment.Variables).toMatchObject({
        CAPSTAN_ENABLE_AWS: '1',
        POWERTOOLS_SERVICE_NAME: 'capstan',
        MEMBER_ROLE_NAME: 'CapstanMemberRole',
        EXTERNAL_ID: 'capstan',
        TABLE_NAME: { Ref: expect.stringMatching(/^ControlPlaneTable/) },
      });
    }
  });

  it.each([
    ['CALLBACK_BASE_URL', ['PhaseCreateMachine']],
    ['CALLBACK_SECRET_ARN', ['ApiCallbacks', 'PhaseCreateMachine']],
    ['ADMIN_PRINCIPALS', API_FUNCTIONS.map((f) => f.id)],
    ['STATE_MACHINE_ARN', ['ApiApply', 'ApiCallbacks', 'ApiClusters', 'PhaseContinue', 'ReconcileInstanceEvent', 'ReconcileSweep']],
  ])('sets %s only on %j', (name, expected) => {
    // Act
    const holders = Object.keys(stack.controlPlane.functions).filter((id) => {
      const fn = template.toJSON().Resources[functionLogicalId(id)];
      return name in fn.Properties.Environment.Variables;
    });

    // Assess
    expect(holders.sort()).toEqual([...expected].sort());
  });

  it('passes the configured admin principals to the API', () => {
    // Act
    const env = template.toJSON().Resources[functionLogicalId('ApiPrincipals')].Properties.Environment.Variables;

    // Assess
    expect(env.ADMIN_PRINCIPALS).toBe('arn:aws:iam::111111111111:role/Admin,arn:aws:iam::111111111111:role/Ops');
  });

  it('builds the callback URL from the RestApi ID, not the Stage (no dependency cycle)', () => {
    // Act
    const env = template.toJSON().Resources[functionLogicalId('PhaseCreateMachine')].Properties.Environment.Variables;

    // Assess
    expect(JSON.stringify(env.CALLBACK_BASE_URL)).toMatch(/"Ref":"ControlPlaneApi[0-9A-F]{8}".*\/prod\//);
    expect(JSON.stringify(env.CALLBACK_BASE_URL)).not.toContain('Stage');
  });

  it('puts exactly the phase, sweep and instance-event roles on the workflow path the member roles trust', () => {
    // Act
    const onPath = Object.keys(stack.controlPlane.functions).filter(
      (id) => template.toJSON().Resources[roleLogicalId(id)].Properties.Path === WORKFLOW_ROLE_PATH,
    );

    // Assess
    expect(onPath.sort()).toEqual([...PHASE_FUNCTIONS.map((p) => p.id), SWEEP_FUNCTION.id, INSTANCE_EVENT_FUNCTION.id].sort());
  });
});

describe('CapstanControlPlane permissions', () => {
  it('grants no wildcard actions and no resource wildcards beyond X-Ray, Step Functions logging and table indexes', () => {
    // Act
    const statements = policyStatements(template).map((s) => s.statement);

    // Assess
    for (const statement of statements) {
      for (const action of actionsOf(statement)) expect(action).not.toContain('*');
      if (resourcesOf(statement).includes('*')) {
        for (const action of actionsOf(statement)) expect(action).toMatch(/^(xray|logs):/);
      }
    }
  });

  it.each([
    ['sts:AssumeRole', [...PHASE_FUNCTIONS.map((p) => p.id), SWEEP_FUNCTION.id, INSTANCE_EVENT_FUNCTION.id]],
    ['states:StartExecution', ['ApiApply', 'ApiClusters', 'PhaseContinue', INSTANCE_EVENT_FUNCTION.id, SWEEP_FUNCTION.id]],
    ['states:SendTaskSuccess', ['ApiCallbacks']],
    ['secretsmanager:GetSecretValue', ['ApiCallbacks', 'PhaseCreateMachine']],
    ['dynamodb:PutItem', ['ApiApply', 'ApiCallbacks', 'ApiClusters', 'ApiPrincipals', ...PHASE_FUNCTIONS.map((p) => p.id), INSTANCE_EVENT_FUNCTION.id, SWEEP_FUNCTION.id]],
    ['dynamodb:Query', [...API_FUNCTIONS.map((f) => f.id), ...PHASE_FUNCTIONS.map((p) => p.id), INSTANCE_EVENT_FUNCTION.id, SWEEP_FUNCTION.id]],
  ])('grants %s only to %j', (action, expected) => {
    expect(rolesWithAction(action)).toEqual([...expected].sort());
  });

  it('restricts AssumeRole to the member role name in the organisation', () => {
    // Act
    const assume = policyStatements(template).filter((s) => actionsOf(s.statement).includes('sts:AssumeRole'));

    // Assess
    expect(assume.length).toBeGreaterThan(0);
    for (const { statement } of assume) {
      expect(JSON.stringify(statement.Resource)).toContain(':iam::*:role/CapstanMemberRole');
      expect(statement.Condition).toEqual({ StringEquals: { 'aws:ResourceOrgID': ORG_CONTEXT.organizationId } });
    }
  });

  it('lists the member accounts explicitly when no organisation is configured', () => {
    // Prepare
    const { stacks } = buildTestApp({ memberAccounts: '555555555555,666666666666' });

    // Act
    const assume = policyStatements(Template.fromStack(stacks.management)).filter((s) => actionsOf(s.statement).includes('sts:AssumeRole'));

    // Assess
    for (const { statement } of assume) {
      expect(statement.Condition).toBeUndefined();
      const resources = JSON.stringify(statement.Resource);
      expect(resources).toContain(':iam::555555555555:role/CapstanMemberRole');
      expect(resources).toContain(':iam::666666666666:role/CapstanMemberRole');
      expect(resources).not.toContain('*');
    }
  });

  it('lets the state machine invoke exactly the phase functions, unqualified', () => {
    // Act
    const invoke = policyStatements(template).filter((s) => actionsOf(s.statement).includes('lambda:InvokeFunction'));

    // Assess
    expect(invoke).toHaveLength(1);
    expect(invoke[0]!.role).toMatch(/^ControlPlaneRolloutRole/);
    expect(resourcesOf(invoke[0]!.statement)).toEqual(PHASE_FUNCTIONS.map((p) => ({ 'Fn::GetAtt': [functionLogicalId(p.id), 'Arn'] })));
  });
});

describe('CapstanControlPlane rollout state machine', () => {
  it('deploys the ASL file unchanged, with logging ALL and X-Ray', () => {
    // Prepare
    const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0]!;
    const key = sm.Properties.DefinitionS3Location.Key as string;

    // Act
    const deployed = readFileSync(path.join(assemblyDir, `asset.${key}`), 'utf8');

    // Assess
    expect(JSON.parse(deployed)).toEqual(ASL);
    expect(sm.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
      TracingConfiguration: { Enabled: true },
    });
  });

  it('substitutes every placeholder of the ASL file with its phase function ARN', () => {
    // Prepare
    const placeholders = [...readFileSync(ROLLOUT_ASL_PATH, 'utf8').matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]);

    // Act
    const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0]!;
    const substitutions = sm.Properties.DefinitionSubstitutions as Record<string, unknown>;

    // Assess
    expect(Object.keys(substitutions).sort()).toEqual([...new Set(placeholders)].sort());
    for (const phase of PHASE_FUNCTIONS) {
      expect(substitutions[phase.substitution]).toEqual({ 'Fn::GetAtt': [functionLogicalId(phase.id), 'Arn'] });
    }
  });

  it.each(allStates(ASL.States).filter(([, s]) => s.Type === 'Task'))('retries the Capstan retryable errors in task %s', (_name, state) => {
    // Act
    const retried = (state.Retry ?? []).flatMap((r) => r.ErrorEquals);

    // Assess
    expect(retried).toEqual(expect.arrayContaining([...RETRYABLE_ERROR_NAMES, 'Lambda.TooManyRequestsException']));
  });

  it('names the state machine so that functions can reference it without a cycle', () => {
    // Act
    const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0]!;
    const envArn = template.toJSON().Resources[functionLogicalId('ApiClusters')].Properties.Environment.Variables.STATE_MACHINE_ARN;

    // Assess
    expect(JSON.stringify(envArn)).toContain(`:stateMachine:${sm.Properties.StateMachineName as string}`);
  });
});

describe('CapstanControlPlane table', () => {
  it('is on demand, recoverable, protected from deletion, encrypted and retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: { SSEEnabled: true },
      }),
    });
  });

  it('has the keys and indexes of table.ts', () => {
    // Act
    const table = Object.values(template.findResources('AWS::DynamoDB::Table'))[0]!.Properties;

    // Assess
    expect(table.KeySchema).toEqual([
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ]);
    expect(
      (table.GlobalSecondaryIndexes as { IndexName: string; KeySchema: { AttributeName: string }[] }[]).map((g) => [g.IndexName, ...g.KeySchema.map((k) => k.AttributeName)]),
    ).toEqual(GSI_DEFINITIONS.map((g) => [g.indexName, g.partitionKey, g.sortKey]));
  });
});

describe('CapstanControlPlane reconcile', () => {
  it('runs the sweep every 5 minutes with a dead-letter queue and a retry policy', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionLogicalId(SWEEP_FUNCTION.id), 'Arn'] },
          DeadLetterConfig: Match.anyValue(),
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
        }),
      ],
    });
  });

  it('routes EC2 instance state changes on capstan-events to the instance-event function', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'capstan-events' });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: Match.anyValue(),
      EventPattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionLogicalId(INSTANCE_EVENT_FUNCTION.id), 'Arn'] },
          DeadLetterConfig: Match.anyValue(),
          RetryPolicy: Match.anyValue(),
        }),
      ],
    });
  });

  it('lets the organisation and the member accounts put events on the bus', () => {
    // Act
    const policies = Object.values(template.findResources('AWS::Events::EventBusPolicy')).map((p) => p.Properties.Statement as Statement);

    // Assess
    expect(policies.find((s) => s.Sid === 'cdk-OrganizationPutEvents')?.Condition).toEqual({
      StringEquals: { 'aws:PrincipalOrgID': ORG_CONTEXT.organizationId },
    });
    const members = JSON.stringify(policies.find((s) => s.Sid === 'cdk-MemberAccountsPutEvents')?.Principal);
    for (const account of ORG_CONTEXT.memberAccounts) expect(members).toContain(account);
    for (const s of policies) expect(actionsOf(s)).toEqual(['events:PutEvents']);
  });

  it('encrypts the dead-letter queues, enforces TLS and invokes asynchronously with retries', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.allResourcesProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.allResourcesProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2 });
  });
});

describe('CapstanControlPlane alarms', () => {
  it.each([
    ['AWS/States', 'ExecutionsFailed'],
    ['AWS/States', 'ExecutionsTimedOut'],
    ['Capstan', 'RolloutProgressDeadlineExceeded'],
  ])('alarms on %s %s', (namespace, metricName) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: namespace, MetricName: metricName, Threshold: 1 });
  });

  it('alarms on any message in a dead-letter queue', () => {
    // Act
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'ApproximateNumberOfMessagesVisible' } }));

    // Assess
    expect(alarms).toHaveLength(2);
    for (const a of alarms) expect(a.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('alarms on the errors of every function', () => {
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { Namespace: 'AWS/Lambda', MetricName: 'Errors' }, Object.keys(stack.controlPlane.functions).length);
  });

  it('notifies the alarm topic from every alarm', () => {
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [ORG_CONTEXT.alarmTopicArn], OKActions: [ORG_CONTEXT.alarmTopicArn] });
  });
});

describe('ManagementStack', () => {
  it.each(['ApiUrl', 'TableName', 'StateMachineArn', 'EventBusArn', 'ExternalId'])('outputs %s', (name) => {
    template.hasOutput(name, Match.anyValue());
  });

  it('is the stack the app deploys to the configured environment', () => {
    expect([Stack.of(stack).account, Stack.of(stack).region]).toEqual([ORG_CONTEXT.managementAccount, ORG_CONTEXT.region]);
  });
});
