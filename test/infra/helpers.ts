/**
 * Shared helpers of the infrastructure tests: build the Capstan app without bundling, and read a synthesised
 * template's API methods and IAM statements in the shape the assertions need.
 */
import { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { buildCapstanApp, type CapstanStacks } from '../../infra/stacks/capstan-app.js';

/** Context of the organisation-wide test deployment. */
export const ORG_CONTEXT = {
  managementAccount: '111111111111',
  region: 'eu-west-1',
  organizationId: 'o-abc123defg45',
  memberAccounts: ['222222222222', '333333333333'],
  alarmTopicArn: 'arn:aws:sns:eu-west-1:111111111111:capstan-alarms',
  adminPrincipals: 'arn:aws:iam::111111111111:role/Admin,arn:aws:iam::111111111111:role/Ops',
} as const;

/**
 * Builds the app with the given context, skipping esbuild (the handlers are not what these tests check) and CDK's
 * built-in CloudFormation validation (a WebAssembly engine taking seconds per synth; `cdk synth` still runs it).
 */
export function buildTestApp(context: Record<string, unknown>, nag = false): { app: App; stacks: CapstanStacks } {
  const app = new App({ builtinCloudFormationValidation: false, context: { 'aws:cdk:bundling-stacks': [], ...context } });
  return { app, stacks: buildCapstanApp(app, { nag }) };
}

/** One IAM policy statement as synthesised. */
export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}

/** The actions of a statement as an array. */
export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** The resources of a statement as an array. */
export function resourcesOf(statement: Statement): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** Every statement of every `AWS::IAM::Policy` and inline role policy, with the logical ID of the role it is on. */
export function policyStatements(template: Template): { role: string; statement: Statement }[] {
  const out: { role: string; statement: Statement }[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles = (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref);
    for (const statement of policy.Properties.PolicyDocument.Statement as Statement[]) {
      for (const role of roles) out.push({ role, statement });
    }
  }
  for (const [role, resource] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    for (const inline of (resource.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]) {
      for (const statement of inline.PolicyDocument.Statement) out.push({ role, statement });
    }
  }
  return out;
}

/** One API method: HTTP verb, full resource path, authorization type, validator and integration target. */
export interface ApiMethod {
  verb: string;
  path: string;
  authorizationType: string;
  requestValidatorId: unknown;
  integrationUri: unknown;
}

/** The API's methods with their resource paths rebuilt from the `AWS::ApiGateway::Resource` tree. */
export function apiMethods(template: Template): ApiMethod[] {
  const resources = template.findResources('AWS::ApiGateway::Resource');
  const pathOf = (id: string): string => {
    const r = resources[id];
    if (!r) return '';
    const parent = r.Properties.ParentId as { Ref?: string };
    return `${parent.Ref ? pathOf(parent.Ref) : ''}/${r.Properties.PathPart as string}`;
  };
  return Object.values(template.findResources('AWS::ApiGateway::Method')).map((m) => {
    const resourceId = m.Properties.ResourceId as { Ref?: string };
    return {
      verb: m.Properties.HttpMethod as string,
      path: resourceId.Ref ? pathOf(resourceId.Ref) : '/',
      authorizationType: m.Properties.AuthorizationType as string,
      requestValidatorId: m.Properties.RequestValidatorId,
      integrationUri: m.Properties.Integration?.Uri,
    };
  });
}
