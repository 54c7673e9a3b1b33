import { App, Stack, Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { buildTestApp, ORG_CONTEXT } from './helpers.js';

/** Every acknowledgement recorded in the app: rule ID, reason and the construct it is on. */
function acknowledgements(root: IConstruct): { id: string; reason: string; path: string }[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ id, reason, path: c.node.path }))),
  );
}

let orgApp: App;

beforeAll(() => {
  // cdk-nag's EventBusOpenAccess rule reads the deprecated CfnEventBusPolicy.principal; its jsii warning is noise here.
  process.env.JSII_DEPRECATED = 'quiet';
  orgApp = buildTestApp({ ...ORG_CONTEXT }).app;
});

describe('AwsSolutionsChecks on the Capstan app', () => {
  it.each([
    ['an organisation', { ...ORG_CONTEXT }],
    ['an account list', { managementAccount: '111111111111', region: 'us-east-1', memberAccounts: '222222222222' }],
    ['no context (environment-agnostic)', {}],
  ])('reports no unacknowledged finding with %s', (_name, context) => {
    // Prepare
    const { app } = buildTestApp(context);

    // Act
    const report = new AwsSolutionsChecks(app).validateScope(app);

    // Assess
    expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('synthesises with the plugin registered by the app', () => {
    // Prepare
    const { app } = buildTestApp({ ...ORG_CONTEXT }, true);

    // Act
    const assembly = app.synth();

    // Assess
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(['Capstan', 'CapstanMember']);
  });

  it('fails synth on an unacknowledged finding (the check is live)', () => {
    // Prepare
    const app = new App({ builtinCloudFormationValidation: false });
    new Queue(new Stack(app, 'Careless'), 'PlainQueue');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    // Act / Assess
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });

  it('gives every acknowledgement a specific reason', () => {
    // Act
    const acks = acknowledgements(orgApp);

    // Assess
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.id).toMatch(/AwsSolutions-[A-Z]+\d+/);
      expect(ack.reason.length).toBeGreaterThan(40);
    }
  });

  it('acknowledges wildcard resources finding by finding, never the whole IAM5 rule', () => {
    // Act
    const acks = acknowledgements(orgApp);

    // Assess
    expect(acks.filter((a) => /AwsSolutions-IAM[45]$/.test(a.id))).toEqual([]);
    expect(acks.filter((a) => /AwsSolutions-IAM5\[/.test(a.id)).length).toBeGreaterThan(0);
  });
});
